"""Every knob of Lipsync Studio in one place, read from the environment (and `.env`).

Replicate's, Gradio's and Hugging Face's own variable names are honoured (`REPLICATE_API_TOKEN`,
`REPLICATE_BASE_URL`, `GRADIO_SERVER_NAME`, `GRADIO_SERVER_PORT`, `SPACE_ID`); everything else is
prefixed `LIPSYNC_`. Money is in credits, the ledger's integer unit (see `credits`).
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from pydantic import AliasChoices, AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from demo_app.database import check_database_url
from demo_app.replicate import (
    CREATES_CEILING_PER_MIN,
    DEFAULT_CREATES_PER_MIN,
    DEFAULT_READS_PER_MIN,
    READS_CEILING_PER_MIN,
)

MIN_ADMIN_KEY_CHARS = 16
"""An admin key shorter than this could be guessed by the visitors who try it."""


class Settings(BaseSettings):
    """Offline-safe defaults: with nothing set, the app runs on the built-in engine."""

    model_config = SettingsConfigDict(
        env_prefix="LIPSYNC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- Replicate -------------------------------------------------------------------
    replicate_api_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("REPLICATE_API_TOKEN", "replicate_api_token")
    )
    """The Replicate token; unset (or empty) means the built-in offline engine is used."""
    replicate_base_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://api.replicate.com"),
        validation_alias=AliasChoices("REPLICATE_BASE_URL", "replicate_base_url"),
    )
    http_timeout_s: float = Field(default=30.0, gt=0)
    """Read/write time-out of one HTTP request to Replicate."""
    http_max_connections: int = Field(default=200, ge=1)
    """Pooled connections to Replicate: sized for many predictions followed at once."""
    inline_input_max_bytes: int = Field(default=8 * 1024, ge=0)
    """Inputs up to this size travel inside the create as `data:` URLs; larger ones go through
    the Files API. Every read of a prediction returns its inputs, so inline files make every
    poll as large as they are (deleted uploads leave nothing behind once the job ends)."""
    poll_interval_s: float = Field(default=2.0, gt=0)
    """How often one follower asks Replicate for its prediction's status (at most; see below)."""
    schema_recheck_s: float = Field(default=3600.0, gt=0)
    """How often each offered model's input schema is read again and checked (also once at start);
    a model whose schema no longer takes what we send is unavailable until it fits again."""
    reads_per_min: int = Field(default=DEFAULT_READS_PER_MIN, ge=10, le=READS_CEILING_PER_MIN)
    """Replicate calls other than creates — polls, list pages, file uploads, cancels, schema
    reads — in any sliding minute, all jobs together (Replicate allows 3000). A call past it
    waits (cancels first), never dropped; with many jobs running each is polled less often."""
    creates_per_min: int = Field(default=DEFAULT_CREATES_PER_MIN, ge=10, le=CREATES_CEILING_PER_MIN)
    """Predictions created in any sliding minute (Replicate allows 600); past it jobs wait in
    the create line, first come first served, with their place and an estimated wait."""
    max_line: int = Field(default=1000, ge=1)
    """Jobs that may wait in the create line at once; past it Generate is refused with how long
    the wait would be (nothing held)."""
    bulk_reads_from_jobs: int = Field(default=20, ge=1)
    """From this many followed jobs on, their statuses are read through the list endpoint (100 per
    request) and a job is read on its own only for its logs and its output."""
    sweep_interval_s: float = Field(default=0.5, gt=0)
    """How often those statuses are listed (one read per 100 jobs, at most half the read budget):
    how late a change no webhook reports (starting → processing) is seen, at worst."""

    # --- Webhooks ------------------------------------------------------------------------
    public_url: AnyHttpUrl | None = None
    """This app's address as Replicate reaches it; set (or on a Space, `https://` + `SPACE_HOST`),
    predictions push their changes to it. Plain `http://` only to a loopback host."""
    space_host: str | None = Field(default=None, validation_alias=AliasChoices("SPACE_HOST", "space_host"))
    """Set by Hugging Face on a Space (`owner-name.hf.space`)."""
    webhook_secret: SecretStr | None = None
    """Signs the job id in each webhook address; unset, a random secret is made once in the data
    directory."""
    webhook_progress_max_jobs: int = Field(default=250, ge=0)
    """Predictions also push their logs and output (not just start and end) when created while
    fewer than this many predictions push theirs (jobs preparing or in the line push nothing yet).
    `bench/webhooks.py --real-app --uvloop` measured 0.45 ms of the app's CPU per delivery: 250
    pushing predictions at Replicate's 2 `logs` webhooks a second cost ~0.23 of the loop's core.
    In `bench/crowd.py`'s 1,000 visitors at most ~250 run at once, so every one pushes."""
    webhook_safety_poll_s: float = Field(default=45.0, gt=0)
    """While a job's webhooks arrive, it is still read this often: a lost webhook, or an `aborted`
    that the `completed` event does not report, is found this late at worst."""
    webhook_max_body_kb: int = Field(default=1024, ge=4)
    """Largest webhook body accepted (a prediction with its input, output and logs)."""
    webhook_tolerance_s: float = Field(default=300.0, gt=0)
    """A webhook signed longer ago than this (or this far ahead) is refused as a replay."""

    # --- Gradio server -----------------------------------------------------------------
    server_name: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("GRADIO_SERVER_NAME", "server_name")
    )
    server_port: int = Field(
        default=7860, ge=1, le=65535, validation_alias=AliasChoices("GRADIO_SERVER_PORT", "server_port")
    )
    max_upload_mb: int = Field(default=25, ge=1)
    """Uploads larger than this (MiB, one file per upload) are refused before they are read."""
    upload_mb_per_address_per_hour: float = Field(default=300.0, gt=0)
    """What one network address may upload per hour (MiB); past it uploads are refused for a while."""
    max_upload_disk_mb: float = Field(default=2000.0, gt=0)
    """Upper bound of this app's files in Gradio's cache (MiB); past it uploads wait for the sweeper."""
    max_event_kb: int = Field(default=64, ge=4)
    """Largest body of one API call or page event (KiB): every argument but files together."""
    upload_keep_s: float = Field(default=1800.0, gt=0)
    """Uploads are removed from Gradio's cache this long after they arrive (a started job keeps its
    own copy); a visitor who waits longer chooses the file again."""
    cache_copy_keep_s: float = Field(default=6 * 3600.0, gt=0)
    """Gradio's copies of served videos are removed this long after they were made."""
    cache_orphan_age_s: float = Field(default=86400.0, gt=0)
    """Files in Gradio's cache that no app tracks (left by an earlier run) go once this old."""
    cache_sweep_every_s: float = Field(default=60.0, gt=0)
    """How often Gradio's cache is swept."""
    loop_lag_log: Path | None = None
    """Off unless set: a file the app appends its event loop's lag to every 100 ms (load tests,
    see `demo_app.loop_lag`)."""
    space_id: str | None = Field(default=None, validation_alias=AliasChoices("SPACE_ID", "space_id"))
    """Set by Hugging Face on a Space (`owner/name`); the page then offers Sign in with Hugging Face."""
    max_waiting_visitors: int = Field(default=2000, ge=1)
    """Queue capacity (waiting events); beyond it Gradio answers 'queue is full'."""
    browser_state_secret: SecretStr = SecretStr("lipsync-studio-visitor-id")
    """Pins the browser-state encryption key so a restart keeps each visitor's id."""
    api_key_secret: SecretStr | None = None
    """Signs visitors' API keys; unset, a random secret is created once in the data directory."""

    # --- The owner's desk ----------------------------------------------------------------
    admins: str | None = None
    """`LIPSYNC_ADMINS`: comma-separated Hugging Face usernames who see the Admin tab when signed in."""
    admin_key: SecretStr | None = None
    """`LIPSYNC_ADMIN_KEY`: opens the admin routes (`python -m demo_app.admin`) and, where nobody can
    sign in with Hugging Face (no `SPACE_ID`), the page's Admin tab; at least 16 characters."""

    # --- Storage -----------------------------------------------------------------------
    data_dir: Path = Path("data")
    """Ledger, jobs and videos live here; on a Space point it at the persistent mount (/data)."""
    database_url: SecretStr | None = None
    """`LIPSYNC_DATABASE_URL` (`postgresql://user:password@host:5432/dbname`): keep the ledger and
    the jobs in PostgreSQL, so they outlive the data directory (a Space's disk is wiped on every
    restart); unset, they are TinyDB files in the data directory."""
    replica_name: str = Field(default_factory=socket.gethostname, min_length=1, max_length=64)
    """`LIPSYNC_REPLICA_NAME`: this copy's name among several sharing one database; the batches it
    runs are carried on after a restart by the copy of the same name. Default: the host name, so
    give each copy its own when they run on one host."""
    job_lease_s: float = Field(default=10.0, ge=1.0, le=300.0)
    """With a database: a replica's claim on the jobs it follows lasts this long unrenewed (it
    renews every third of it); when a replica dies, another takes its jobs over this much later."""
    keep_jobs_days: float = Field(default=7.0, gt=0)
    """Finished jobs and their videos are removed after this many days."""
    max_video_disk_mb: float = Field(default=2000.0, gt=0)
    """Upper bound of the videos folder; the oldest finished videos go first."""
    retry_keep_hours: float = Field(default=24.0, gt=0)
    """A failed, timed-out or canceled job keeps its face and voice this long, for Try again."""

    # --- Models and prices ---------------------------------------------------------------
    models: str | None = None
    """`LIPSYNC_MODELS`: comma-separated model ids the Space offers; unset, every commercially
    usable model (a non-commercial one is offered only when named here, and labelled)."""
    prices_file: Path | None = None
    """`LIPSYNC_PRICES_FILE`: the owner's price overrides (TOML); unset, `prices.toml` in the
    data directory when it exists (see `demo_app.catalog._prices` for its form)."""

    # --- Jobs and credits ----------------------------------------------------------------
    job_timeout_s: float = Field(default=600.0, gt=0)
    """Overall time-out of one job; also sent upstream as `Cancel-After`."""
    deadline_grace_s: float = Field(default=10.0, ge=0)
    """Past the time-out, how long we still wait for Replicate's own `Cancel-After` to end a run
    before we cancel it ourselves (our clock and Replicate's differ a little)."""
    cancel_wait_s: float = Field(default=30.0, gt=0)
    """A cancel answers within this even if settling is slow (a full disk); the job settles later."""
    prepare_timeout_s: float = Field(default=120.0, gt=0)
    """How long checking a job's files may take, waiting for a free CPU slot included; past it the
    job is refused (nothing held) and its media work abandoned."""
    starting_grant: int = Field(default=1000, ge=0)
    """Credits a new owner receives once (1 credit = $0.001); 0 disables the grant."""
    grants_per_address_per_day: int = Field(default=5, ge=0)
    """New anonymous visitors per network address and UTC day that receive the starting grant."""
    trusted_proxy_hops: int = Field(default=1, ge=0)
    """Proxies in front of the app that append to X-Forwarded-For: 1 on Hugging Face Spaces; 0 when
    the app is reached directly (the header is then ignored). See `demo_app.visitors`."""
    daily_budget: int = Field(default=50_000, ge=0)
    """Cap per UTC day on the Space owner's money, all owners together: the day's open holds plus
    what its settled runs cost upstream (charges, and the compute of runs that failed, were
    canceled or timed out after they started, even though the visitor got everything back)."""
    max_jobs_per_owner: int = Field(default=2, ge=1)
    """Open jobs of one owner, waiting in the create line included."""
    max_jobs_total: int = Field(default=100, ge=1)
    """Jobs running at once (checking, uploading, on the model, saving), all owners together; jobs
    waiting in the create line do not count, and leave it only when one of these is free."""

    # --- Media checks ----------------------------------------------------------------------
    media_workers: int = Field(default=2, ge=1)
    """Uploads checked at once, each in its own process (and on its own core)."""
    media_deadline_s: float = Field(default=15.0, gt=0)
    """Wall-clock limit of one media check; past it the worker is killed and the file refused.
    The slowest legitimate check (counting a 25 MB low-bitrate recording) takes a few seconds."""
    media_memory_mb: int = Field(default=320, ge=64)
    """Memory a media worker may allocate beyond its start-up (`RLIMIT_DATA`); checks of the
    largest accepted files peak well below it (see `bench/media_hostile.py`)."""

    # --- Built-in engine -------------------------------------------------------------------
    engine_scenario: str = "normal"
    """Scripted behaviour of the built-in engine (see `demo_app.engine.SCENARIOS`)."""
    engine_time_scale: float = Field(default=1.0, gt=0)
    """>1 makes the engine's scripted clock run faster (tests)."""
    engine_output_ttl_s: float = Field(default=3600.0, gt=0)
    """How long the engine's output URLs stay valid, like Replicate's one hour."""
    engine_workers: int = Field(default=1, ge=1)
    """Renders that may run at once; each takes a CPU core."""

    @field_validator("public_url")
    @classmethod
    def _https_unless_loopback(cls, url: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if url is not None and url.scheme != "https" and not is_loopback(url.host or ""):
            raise ValueError("webhooks need an https:// address (plain http:// only to a loopback host)")
        return url

    @field_validator("admin_key")
    @classmethod
    def _long_admin_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is None or not key.get_secret_value():
            return None
        if len(key.get_secret_value()) < MIN_ADMIN_KEY_CHARS:
            raise ValueError(f"the admin key must be at least {MIN_ADMIN_KEY_CHARS} characters long")
        return key

    @property
    def admin_names(self) -> frozenset[str]:
        """The Hugging Face usernames of `LIPSYNC_ADMINS` (empty: nobody signs in as an admin)."""
        return frozenset(name.strip() for name in (self.admins or "").split(",") if name.strip())

    @field_validator("database_url")
    @classmethod
    def _postgresql_only(cls, url: SecretStr | None) -> SecretStr | None:
        if url is None or not url.get_secret_value().strip():
            return None
        check_database_url(url.get_secret_value().strip())
        return SecretStr(url.get_secret_value().strip())

    @property
    def max_upload_bytes(self) -> int:
        """`max_upload_mb` in bytes: what one upload, and so one job input, may be."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def prices_path(self) -> Path:
        """Where the owner's price overrides are read from (absent: the catalog's prices)."""
        return self.prices_file if self.prices_file is not None else self.data_dir / "prices.toml"

    @property
    def webhook_base_url(self) -> str | None:
        """Where Replicate sends webhooks: `public_url`, else the Space's own address, else None."""
        if self.public_url is not None:
            return str(self.public_url).rstrip("/")
        if self.space_host:
            return f"https://{self.space_host.strip().rstrip('/')}"
        return None

    @property
    def uses_replicate(self) -> bool:
        """True when a real token is configured; otherwise the built-in engine is used."""
        return self.replicate_api_token is not None and bool(self.replicate_api_token.get_secret_value())


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback IP addresses (the only hosts plain-http webhooks may use)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SettingsError(ValueError):
    """Bad settings: one readable line per variable, naming it and the problem (`app.py` exits with it)."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation error into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            lines.append(f"Bad setting {_env_name(field)}: {error['msg']}.")
        raise SettingsError("\n".join(lines)) from None


def _env_name(field: str) -> str:
    """The environment variable a visitor has to fix for `field`."""
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        first = info.validation_alias.choices[0]
        return str(first)
    if field.isupper():
        return field
    return f"LIPSYNC_{field.upper()}"
