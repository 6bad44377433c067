"""The one place the app is assembled: engine -> client -> schema watch -> ledger -> media workers -> jobs.

The app, the tests and the benchmarks all open their services here, so none of them can measure
a differently wired app. Offline (no token), the Replicate client talks to an in-process
built-in engine through `Engine.transport()`: the same client code path as with the real
Replicate. Everything is opened on the caller's event loop and closed in reverse.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from demo_app.batches import Batches, PgBatchStore
from demo_app.catalog import SchemaWatch, offered, read_offer, use_offer
from demo_app.credits import Ledger
from demo_app.database import Database, shared_secret
from demo_app.engine import Engine
from demo_app.jobs import MAX_MODELS, JobManager, JobSnapshot, JobStore
from demo_app.media import MediaWorkers
from demo_app.replicate import Pacing, ReplicateClient
from demo_app.settings import Settings
from demo_app.shares import PgShareStore, ShareDesk, Shares, ShareStore
from demo_app.visitors import KeyRing, key_ring, load_or_create_secret
from demo_app.webhooks import SeenInDatabase, WebhookInbox, WebhookLinks

WEBHOOK_SECRET_FILE = "webhook-secret"
WEBHOOK_SECRET_NAME = "webhook"
API_KEY_SECRET_NAME = "api keys"
"""The names of the secrets made once in the database when the settings configure none."""


@dataclass(frozen=True)
class LocalEngine:
    """A built-in engine that its caller starts and closes (tests, benchmarks), and its token."""

    engine: Engine
    token: str


@dataclass
class Services:
    """What the UI and the API ask: the job manager, the ledger, the models' availability, the settings."""

    settings: Settings
    jobs: JobManager
    ledger: Ledger
    client: ReplicateClient
    engine: Engine | None
    models: SchemaWatch
    shares: ShareDesk
    """The owners' share links of their videos."""
    keys: KeyRing
    """Signs and checks API keys: the configured secret, else the database's, else the data directory's."""
    webhooks: WebhookInbox | None = None
    """The inbox of Replicate's webhooks when this app has a public address; None: polling alone."""
    database: Database | None = None
    """PostgreSQL when `LIPSYNC_DATABASE_URL` is set (the ledger and the jobs live there); None: files."""
    batches: Batches | None = None
    """Many clips at once, run as ordinary jobs (always set by `open_services`)."""

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
async def open_services(
    settings: Settings,
    *,
    engine: LocalEngine | None = None,
    media_workers: MediaWorkers | None = None,
    observer: Callable[[JobSnapshot], None] | None = None,
    pacing: Pacing | None = None,
) -> AsyncIterator[Services]:
    """Open everything the app runs on; recover unsettled jobs; close in reverse.

    `engine` and `media_workers`, when given, are borrowed (shared by many stacks in tests and
    benchmarks) and left open; `observer` sees every job transition; `pacing`, when given,
    replaces the budgets the settings describe (stacks sharing one account, or a test's clock).
    The Space's offer (`LIPSYNC_MODELS`, the price file) is made current for as long as the
    services are open.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        previous = use_offer(read_offer(settings.models, settings.prices_path))
        stack.callback(use_offer, previous)
        if engine is None and not settings.uses_replicate:
            token = "r8_local_" + secrets.token_hex(16)
            engine = LocalEngine(_engine_from(settings, token), token)
            await engine.engine.start()
            stack.push_async_callback(engine.engine.aclose)
        database = None
        if settings.database_url is not None:
            database = await Database.open(settings.database_url.get_secret_value())
            stack.push_async_callback(database.aclose)
        client = _client_for(settings, engine, pacing or _pacing(settings, database))
        stack.push_async_callback(client.aclose)
        models = SchemaWatch(client, offered().values(), recheck_s=settings.schema_recheck_s)
        models.start()
        stack.push_async_callback(models.aclose)
        ledger = open_ledger(settings, database)
        stack.callback(ledger.close)
        if media_workers is None:
            media_workers = MediaWorkers(
                settings.media_workers,
                deadline_s=settings.media_deadline_s,
                memory_mb=settings.media_memory_mb,
            )
            stack.push_async_callback(media_workers.aclose)
        links = await _webhook_links(settings, database)
        observers = [observer] if observer is not None else []

        def observe(snap: JobSnapshot) -> None:
            for watch in observers:
                watch(snap)

        jobs = await JobManager.open(
            settings=settings,
            client=client,
            ledger=ledger,
            media_workers=media_workers,
            observer=observe,
            unavailable=models.unavailable_reason,
            links=links,
            store=await JobStore.on_database(database, lease_s=settings.job_lease_s)
            if database is not None
            else None,
        )
        stack.push_async_callback(jobs.aclose)
        share_store: Shares = (
            PgShareStore(database) if database is not None else ShareStore(settings.data_dir / "shares.json")
        )
        stack.callback(share_store.close)
        # With a database any replica reads any batch; each runs those it started (by its name).
        batch_store = PgBatchStore(database, settings.replica_name) if database is not None else None
        unavailable = models.unavailable_reason
        batches = await Batches.open(settings, jobs, ledger, media_workers, unavailable, batch_store)
        observers.append(batches.job_changed)
        stack.push_async_callback(batches.aclose)
        inbox = None
        if links is not None:
            inbox = WebhookInbox(
                links,
                client.webhook_signing_key,
                jobs.receive,
                tolerance_s=settings.webhook_tolerance_s,
                seen=SeenInDatabase(database) if database is not None else None,
            )
        yield Services(
            settings=settings,
            jobs=jobs,
            ledger=ledger,
            client=client,
            engine=engine.engine if engine is not None else None,
            models=models,
            shares=ShareDesk(jobs, share_store),
            keys=await api_keys(settings, database),
            webhooks=inbox,
            database=database,
            batches=batches,
        )


def open_ledger(settings: Settings, database: Database | None) -> Ledger:
    """The ledger the settings describe: in the database when there is one, else in the data directory."""
    grant, budget = settings.starting_grant, settings.daily_budget
    # A comparison counts as one job but holds once per model it compares.
    per_owner = settings.max_jobs_per_owner * MAX_MODELS
    per_address = settings.grants_per_address_per_day
    if database is not None:
        return Ledger.on_database(
            database,
            starting_grant=grant,
            daily_budget=budget,
            max_open_holds_per_owner=per_owner,
            grants_per_address_per_day=per_address,
        )
    return Ledger(
        settings.data_dir / "ledger.json",
        starting_grant=grant,
        daily_budget=budget,
        max_open_holds_per_owner=per_owner,
        grants_per_address_per_day=per_address,
    )


def webhook_links(settings: Settings, made: bytes | None = None) -> WebhookLinks | None:
    """Signed webhook addresses when the app knows its public address (else None: polling alone);
    the secret is the setting, else `made` (the database's, shared by every replica), else one
    made once in the data directory."""
    base = settings.webhook_base_url
    if base is None:
        return None
    if settings.webhook_secret is not None:
        secret = settings.webhook_secret.get_secret_value().encode()
    elif made is not None:
        secret = made
    else:
        secret = load_or_create_secret(settings.data_dir / WEBHOOK_SECRET_FILE)
    return WebhookLinks(base, secret)


async def _webhook_links(settings: Settings, database: Database | None) -> WebhookLinks | None:
    """`webhook_links`, with the secret made once in the database when there is one to make."""
    unset = settings.webhook_base_url is not None and settings.webhook_secret is None
    made = await shared_secret(database, WEBHOOK_SECRET_NAME) if unset and database is not None else None
    return webhook_links(settings, made)


async def api_keys(settings: Settings, database: Database | None) -> KeyRing:
    """The API keys' ring: the configured secret, else the database's (a key made on one replica
    works on all), else the data directory's."""
    if settings.api_key_secret is None and database is not None:
        return KeyRing(await shared_secret(database, API_KEY_SECRET_NAME))
    return key_ring(settings)


def _engine_from(settings: Settings, token: str) -> Engine:
    """The built-in engine the settings describe (its own data folder, clock and renderers)."""
    return Engine(
        token=token,
        data_dir=settings.data_dir / "engine",
        scenario=settings.engine_scenario,
        time_scale=settings.engine_time_scale,
        output_ttl_s=settings.engine_output_ttl_s,
        render_workers=settings.engine_workers,
    )


def _client_for(settings: Settings, engine: LocalEngine | None, pacing: Pacing) -> ReplicateClient:
    """The Replicate client: to the local engine in process, else to Replicate with the token."""
    if engine is not None:
        return ReplicateClient(
            Engine.base_url,
            engine.token,
            transport=engine.engine.transport(),
            timeout=settings.http_timeout_s,
            max_connections=settings.http_max_connections,
            pacing=pacing,
        )
    assert settings.replicate_api_token is not None
    return ReplicateClient(
        str(settings.replicate_base_url).rstrip("/"),
        settings.replicate_api_token,
        timeout=settings.http_timeout_s,
        max_connections=settings.http_max_connections,
        pacing=pacing,
    )


def _pacing(settings: Settings, database: Database | None) -> Pacing:
    """The read and create budgets (see `Settings.reads_per_min`): in the database, shared by
    every replica on the account, else this process's own."""
    if database is not None:
        return Pacing.on_database(database, settings.reads_per_min, settings.creates_per_min)
    return Pacing.per_minute(settings.reads_per_min, settings.creates_per_min)
