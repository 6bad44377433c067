"""`python -m demo_app.engine --port N [--scenario S] [--time-scale X] [--token T] [--data-dir D]`.

`--ready-clip PATH` serves that MP4 as every prediction's output instead of rendering (the
`ready_clip` scenario: starting 3 s, processing 20 s with a progress line every 0.5 s), so a
load test measures its client, not the renderer.

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
READY_CLIP = "ready_clip"

logger = logging.getLogger("demo_app.engine")


def main(argv: list[str] | None = None) -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m demo_app.engine", description=__doc__.split("\n\n")[1])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--scenario", default=None, choices=sorted(SCENARIOS))
    parser.add_argument("--time-scale", type=float, default=settings.engine_time_scale)
    parser.add_argument("--token", default=None, help="bearer token clients must send")
    parser.add_argument("--data-dir", type=Path, default=settings.data_dir / "engine")
    parser.add_argument("--output-ttl", type=float, default=settings.engine_output_ttl_s, help="seconds")
    parser.add_argument("--workers", type=int, default=settings.engine_workers, help="renders at once")
    parser.add_argument("--ready-clip", type=Path, default=None, help="MP4 to serve instead of rendering")
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log every request and webhook sent (a parent reading our output must then keep reading it)",
    )
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    scenario = args.scenario or (READY_CLIP if args.ready_clip else settings.engine_scenario)
    if (scenario == READY_CLIP) != (args.ready_clip is not None):
        parser.error(f"--ready-clip and --scenario {READY_CLIP} go together")
    if args.ready_clip is not None and not args.ready_clip.is_file():
        parser.error(f"--ready-clip {args.ready_clip} is not a file")

    token = args.token or os.environ.get("REPLICATE_API_TOKEN") or LOCAL_TOKEN
    engine = Engine(
        token=token,
        data_dir=args.data_dir,
        scenario=scenario,
        time_scale=args.time_scale,
        output_ttl_s=args.output_ttl,
        render_workers=args.workers,
        ready_clip=args.ready_clip,
    )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    if not args.access_log:
        # httpx logs each request it sends at INFO: here, every webhook delivery.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    logger.info(
        "Built-in engine on http://%s:%d: scenario %s, time scale %g, token %s",
        args.host,
        args.port,
        scenario,
        args.time_scale,
        "the fixed local one" if token == LOCAL_TOKEN else "as given",
    )
    serve(engine, host=args.host, port=args.port, access_log=args.access_log)


if __name__ == "__main__":
    main()
