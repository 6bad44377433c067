"""Entry point (Hugging Face Spaces runs this file): settings -> Gradio app -> launch."""

from __future__ import annotations

import logging
import os
import sys

from demo_app.catalog import OfferError, read_offer, use_offer
from demo_app.settings import SettingsError, load_settings


def main() -> None:
    """Start Lipsync Studio; a bad setting (or price file) stops here with one readable line,
    before anything loads."""
    try:
        settings = load_settings()
        use_offer(read_offer(settings.models, settings.prices_path))
    except (SettingsError, OfferError) as exc:
        sys.exit(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("mcp").setLevel(logging.WARNING)  # a line per MCP request otherwise
    from demo_app.services import describe_engine

    logging.getLogger("lipsync").info(describe_engine(settings))
    from demo_app.server import launch  # imports Gradio and the engine: after the settings are known good

    launch(settings)  # returns once stopped (SIGINT, SIGTERM), the services closed
    # Nothing is left to save: skip the interpreter's teardown of Gradio's many modules, which
    # takes seconds more on a busy machine (past `docker stop`'s 10 s, the process is killed).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
