"""The running parts of the app, opened together on the server's event loop and closed together.

Offline (no token), the Replicate client talks to an in-process built-in engine through
`Engine.transport()`: the same client code path as with the real Replicate.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from demo_app.credits import Ledger
from demo_app.engine import Engine
from demo_app.jobs import JobManager
from demo_app.replicate import ReplicateClient
from demo_app.settings import Settings

log = logging.getLogger(__name__)

ENGINE_BASE_URL = "http://engine.internal"


@dataclass
class Services:
    """What the UI and the API ask: the job manager, the ledger and the settings."""

    settings: Settings
    jobs: JobManager
    ledger: Ledger
    engine: Engine | None

    @property
    def engine_label(self) -> str:
        """Which engine runs the models, said plainly for the page header."""
        return engine_label(self.settings)


def engine_label(settings: Settings) -> str:
    """'Replicate' or the built-in engine, and why."""
    if settings.uses_replicate:
        return "Replicate"
    return "Built-in offline engine — no REPLICATE_API_TOKEN set"


def describe_engine(settings: Settings) -> str:
    """The first log line: which engine this process will use."""
    if settings.uses_replicate:
        return f"Lipsync Studio: using Replicate at {settings.replicate_base_url}"
    return "Lipsync Studio: using the built-in offline engine (no REPLICATE_API_TOKEN set)"


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open engine (offline only), client, ledger and jobs; recover unsettled jobs; close in reverse."""
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        engine: Engine | None = None
        if settings.uses_replicate:
            assert settings.replicate_api_token is not None
            client = ReplicateClient(
                str(settings.replicate_base_url).rstrip("/"),
                settings.replicate_api_token,
                timeout=settings.http_timeout_s,
                max_connections=settings.http_max_connections,
            )
        else:
            token = "r8_local_" + secrets.token_hex(16)
            engine = Engine(
                token=token,
                data_dir=data_dir / "engine",
                scenario=settings.engine_scenario,
                time_scale=settings.engine_time_scale,
                output_ttl_s=settings.engine_output_ttl_s,
                render_workers=settings.engine_workers,
            )
            await engine.start()
            stack.push_async_callback(engine.aclose)
            client = ReplicateClient(
                ENGINE_BASE_URL,
                token,
                transport=engine.transport(),
                timeout=settings.http_timeout_s,
                max_connections=settings.http_max_connections,
            )
        stack.push_async_callback(client.aclose)
        ledger = Ledger(
            data_dir / "ledger.json",
            starting_grant=settings.starting_grant,
            daily_budget=settings.daily_budget,
            max_open_holds_per_owner=settings.max_jobs_per_owner,
            grants_per_address_per_day=settings.grants_per_address_per_day,
        )
        stack.callback(ledger.close)
        jobs = JobManager(settings=settings, client=client, ledger=ledger)
        await jobs.open()
        stack.push_async_callback(jobs.aclose)
        yield Services(settings=settings, jobs=jobs, ledger=ledger, engine=engine)
