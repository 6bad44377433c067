#!/usr/bin/env bash
# Installs what the tests need (pip packages, Debian's chromium, postgresql and haproxy when missing), then runs the
# whole suite.
# Extra arguments go to pytest (`-n 0` runs in one process), e.g. `bash tests/run.sh -m "not slow"` for a quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements.txt -r tests/requirements.txt
MISSING=""
command -v chromium >/dev/null 2>&1 || MISSING="$MISSING chromium"
# The PostgreSQL tests start a throw-away cluster with the server's own initdb and pg_ctl.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || MISSING="$MISSING postgresql"
# The multi-replica tests put Debian's haproxy, with deploy/haproxy.cfg, in front of two app processes.
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || MISSING="$MISSING haproxy"
if [ -n "$MISSING" ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi
if [ "${1:-}" = "--lint-only" ]; then
    python -m ruff check .
    python -m mypy
    exit 0
fi
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1
# Three workers on two cores, one test file each at a time: the suite waits on processes, browsers and
# engine clocks more than it computes, so a third file in flight fills the cores the first two leave
# idle. Module-scoped apps and browsers stay shared within a file.
# Files are handed out in collection order, which tests/conftest.py starts with the longest files
# (xdist would otherwise order them by their number of tests, leaving a long file with few tests last).
exec python -m pytest -n 3 --dist loadfile --no-loadscope-reorder "$@"
