"""HAProxy in front of app replicas, configured by deploy/haproxy.cfg as the compose file runs it,
and the secrets every replica must share; for the benchmarks and the replica tests alike.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from bench._queue import REPO, free_port, wait_until_up

HAPROXY_CFG = REPO / "deploy" / "haproxy.cfg"
HAPROXY_MISSING = "Debian's haproxy is not installed: run `bash tests/run.sh`, which installs it."
REPLICAS = ("app1", "app2")
"""The server names in deploy/haproxy.cfg, which are also its SERVERID cookie values."""


def shared_secrets() -> dict[str, str]:
    """The secrets every replica must share: a key, a webhook address or a visitor's browser state
    made by one replica is then good on all."""
    return {
        "LIPSYNC_API_KEY_SECRET": secrets.token_hex(16),
        "LIPSYNC_WEBHOOK_SECRET": secrets.token_hex(16),
        "LIPSYNC_BROWSER_STATE_SECRET": secrets.token_hex(16),
    }


def start_balancer(
    log: Path, ports: dict[str, int], port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Debian's haproxy with deploy/haproxy.cfg on `port` (else a free one), sending to the
    replicas on `ports` (by their names in REPLICAS), once it answers; the process and its URL."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        raise RuntimeError(HAPROXY_MISSING)
    port = port or free_port()
    env = {
        "PATH": "/usr/sbin:/usr/bin:/bin",
        "LB_BIND": f"127.0.0.1:{port}",
        **{f"{name.upper()}_ADDR": f"127.0.0.1:{replica}" for name, replica in ports.items()},
    }
    with log.open("ab") as out:
        balancer = subprocess.Popen(
            [haproxy, "-db", "-f", str(HAPROXY_CFG)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    wait_until_up(url, balancer)
    return balancer, url
