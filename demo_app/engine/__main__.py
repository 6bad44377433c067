"""`python -m demo_app.engine --port N [--scenario S] [--time-scale X] [--token T] [--data-dir D]`.

Runs the built-in engine standalone under uvicorn, for black-box use. Defaults come from the
app's settings (`LIPSYNC_ENGINE_SCENARIO`, `LIPSYNC_ENGINE_TIME_SCALE`, ...); the token from
`--token`, else `REPLICATE_API_TOKEN`, else a fixed local one (the engine listens on loopback
unless `--host` says otherwise).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from demo_app.engine._app import Engine
from demo_app.engine._scenarios import SCENARIOS
from demo_app.engine._server import serve
from demo_app.settings import load_settings

LOCAL_TOKEN = "r8_local-engine"

logger = logging.getLogger("demo_app.engine")


def main(argv: list[str] | None = None) -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m demo_app.engine", description=__doc__.split("\n\n")[1])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--scenario", default=settings.engine_scenario, choices=sorted(SCENARIOS))
    parser.add_argument("--time-scale", type=float, default=settings.engine_time_scale)
    parser.add_argument("--token", default=None, help="bearer token clients must send")
    parser.add_argument("--data-dir", type=Path, default=settings.data_dir / "engine")
    parser.add_argument("--output-ttl", type=float, default=settings.engine_output_ttl_s, help="seconds")
    parser.add_argument("--workers", type=int, default=settings.engine_workers, help="renders at once")
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log every request (a parent reading our output must then keep reading it)",
    )
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")

    token = args.token or os.environ.get("REPLICATE_API_TOKEN") or LOCAL_TOKEN
    engine = Engine(
        token=token,
        data_dir=args.data_dir,
        scenario=args.scenario,
        time_scale=args.time_scale,
        output_ttl_s=args.output_ttl,
        render_workers=args.workers,
    )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    logger.info(
        "Built-in engine on http://%s:%d: scenario %s, time scale %g, token %s",
        args.host,
        args.port,
        args.scenario,
        args.time_scale,
        "the fixed local one" if token == LOCAL_TOKEN else "as given",
    )
    serve(engine, host=args.host, port=args.port, access_log=args.access_log)


if __name__ == "__main__":
    main()
