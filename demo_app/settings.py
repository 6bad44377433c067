"""Every knob of Lipsync Studio in one place, read from the environment (and `.env`).

Replicate's, Gradio's and Hugging Face's own variable names are honoured (`REPLICATE_API_TOKEN`,
`REPLICATE_BASE_URL`, `GRADIO_SERVER_NAME`, `GRADIO_SERVER_PORT`, `SPACE_ID`); everything else is
prefixed `LIPSYNC_`. Money is in credits, the ledger's integer unit (see `credits`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, AnyHttpUrl, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    """How often one follower asks Replicate for its prediction's status."""
    max_polls_per_s: float = Field(default=40.0, gt=0)
    """Status reads per second across all jobs; Replicate allows 3000/min for reads, and with many
    jobs running each one is polled less often rather than hitting 429s."""

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
    space_id: str | None = Field(default=None, validation_alias=AliasChoices("SPACE_ID", "space_id"))
    """Set by Hugging Face on a Space (`owner/name`); the page then offers Sign in with Hugging Face."""
    max_waiting_visitors: int = Field(default=2000, ge=1)
    """Queue capacity (waiting events); beyond it Gradio answers 'queue is full'."""
    browser_state_secret: SecretStr = SecretStr("lipsync-studio-visitor-id")
    """Pins the browser-state encryption key so a restart keeps each visitor's id."""
    api_key_secret: SecretStr | None = None
    """Signs visitors' API keys; unset, a random secret is created once in the data directory."""

    # --- Storage -----------------------------------------------------------------------
    data_dir: Path = Path("data")
    """Ledger, jobs and videos live here; on a Space point it at the persistent mount (/data)."""
    keep_jobs_days: float = Field(default=7.0, gt=0)
    """Finished jobs and their videos are removed after this many days."""
    max_video_disk_mb: float = Field(default=2000.0, gt=0)
    """Upper bound of the videos folder; the oldest finished videos go first."""

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
    max_jobs_total: int = Field(default=100, ge=1)

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

    @property
    def max_upload_bytes(self) -> int:
        """`max_upload_mb` in bytes: what one upload, and so one job input, may be."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def uses_replicate(self) -> bool:
        """True when a real token is configured; otherwise the built-in engine is used."""
        return self.replicate_api_token is not None and bool(self.replicate_api_token.get_secret_value())


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
