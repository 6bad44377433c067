#!/usr/bin/env bash
# Installs what the tests need (pip packages, Debian's chromium when missing), then runs the whole suite.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -m "not slow"` for a quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements.txt -r tests/requirements.txt
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ "${1:-}" = "--lint-only" ]; then
    python -m ruff check .
    python -m mypy
    exit 0
fi
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1
exec python -m pytest "$@"
