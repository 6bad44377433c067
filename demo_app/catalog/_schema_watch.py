"""Keeps each offered model's availability in step with its input schema on Replicate.

At start (in the background, so the page is not delayed) and then every `recheck_s`, each model's
schema is read — official models: `latest_version` of `GET /v1/models/{id}`, the version they
run; version models: their pinned version — cached, and checked by `schema_problem`. A model whose
schema no longer fits is unavailable with that sentence until a later check finds it fits again.

A schema that cannot be read (network, 5xx, a body not understood) is logged as a warning and
changes nothing: a model never checked stays available, and one already checked keeps the verdict
of the last schema read (the cached one). Nothing here runs per job: admission only reads
`unavailable_reason`, a dictionary lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from demo_app.catalog._schema_check import UnreadableSchema, schema_problem
from demo_app.catalog._spec import ModelSpec
from demo_app.replicate import ReplicateClient, ReplicateError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Availability:
    """Whether a model may be started now, and why not."""

    available: bool
    reason: str | None = None
    """One sentence when unavailable."""
    checked_at: datetime | None = None
    """When its schema was last read and checked; None while it never was."""


class SchemaWatch:
    """Reads and checks the models' schemas at start and every `recheck_s`; see the module doc."""

    def __init__(self, client: ReplicateClient, models: Iterable[ModelSpec], *, recheck_s: float) -> None:
        self._client = client
        self._models = {spec.id: spec for spec in models}
        self._recheck_s = recheck_s
        self._schemas: dict[str, dict[str, Any]] = {}
        self._status: dict[str, Availability] = {}
        self._rounds_started = 0
        self._rounds_done = 0
        self._round_ended = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin checking in the background (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._check_forever(), name="schema-watch")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # ---- what callers read --------------------------------------------------------------

    def availability(self, model_id: str) -> Availability:
        """The model's availability now (available until a schema read shows otherwise)."""
        known = self._status.get(model_id) if isinstance(model_id, str) else None
        return known if known is not None else Availability(available=True)

    def unavailable_reason(self, model_id: str) -> str | None:
        """Why the model may not start now, or None."""
        return self.availability(model_id).reason

    def schema(self, model_id: str) -> Mapping[str, Any] | None:
        """The last schema read for the model (its `openapi_schema`), or None."""
        return self._schemas.get(model_id)

    async def checked(self) -> None:
        """Return once the first check round has ended."""
        async with self._round_ended:
            await self._round_ended.wait_for(lambda: self._rounds_done >= 1)

    async def checked_within(self, seconds: float) -> bool:
        """Wait at most `seconds` for the first check round; True if it has ended.

        For answers given just after start (`/models`, the page's model line): a few GETs usually
        take far less, and past the wait the answer tells what is known so far."""
        try:
            await asyncio.wait_for(self.checked(), seconds)
        except TimeoutError:
            return False
        return True

    async def next_check(self) -> None:
        """Return once a check round that starts after this call has ended."""
        target = self._rounds_started + 1
        async with self._round_ended:
            await self._round_ended.wait_for(lambda: self._rounds_done >= target)

    # ---- checking -----------------------------------------------------------------------

    async def check_now(self) -> None:
        """Read and check every model's schema once (concurrently)."""
        self._rounds_started += 1
        try:
            await asyncio.gather(*(self._check(spec) for spec in self._models.values()))
        finally:
            async with self._round_ended:
                self._rounds_done += 1
                self._round_ended.notify_all()

    async def _check_forever(self) -> None:
        while True:
            await self.check_now()
            await asyncio.sleep(self._recheck_s)

    async def _check(self, spec: ModelSpec) -> None:
        try:
            schema = await self._read(spec)
            problem = schema_problem(spec, schema)
        except (ReplicateError, UnreadableSchema) as exc:
            log.warning("the input schema of %s could not be read (%s); it stays as it was", spec.id, exc)
            return
        except Exception:
            log.exception("checking the input schema of %s failed; it stays offered as before", spec.id)
            return
        self._schemas[spec.id] = schema
        was = self._status.get(spec.id)
        now = datetime.now(UTC)
        self._status[spec.id] = Availability(available=problem is None, reason=problem, checked_at=now)
        if problem is not None and (was is None or was.reason != problem):
            log.warning("%s", problem)
        elif problem is None and was is not None and not was.available:
            log.info("%s is available again: its input schema fits", spec.id)

    async def _read(self, spec: ModelSpec) -> dict[str, Any]:
        """The version's `openapi_schema`: the latest for official models, else the pinned one."""
        if spec.endpoint == "model":
            latest = (await self._client.get_model(spec.id)).latest_version
            schema = latest.openapi_schema if latest is not None else None
        else:
            assert spec.version is not None
            schema = (await self._client.get_model_version(spec.id, spec.version)).openapi_schema
        if schema is None:
            raise UnreadableSchema("Replicate sent no schema")
        return schema
