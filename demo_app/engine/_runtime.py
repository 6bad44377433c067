"""The engine's state and actions, apart from HTTP: predictions, files, outputs, background work.

The API modules translate requests into these calls; nothing here knows about Starlette.

Memory is bounded by time: a finished prediction (with its input, which may hold `data:`
URLs) is forgotten `output_ttl_s` after its output expired — two lifetimes after it ended if
it succeeded, one if it did not — so for one lifetime it still answers with `data_removed`,
as on Replicate, and then 404. Uploaded files and output tokens expire on their own clocks.
"""

from __future__ import annotations

import asyncio
import heapq
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from demo_app.engine._clock import Clock, wait_event
from demo_app.engine._files import FileStore
from demo_app.engine._hosted_models import HostedModel
from demo_app.engine._lifecycle import PredictionTools, run_prediction
from demo_app.engine._outputs import OutputStore
from demo_app.engine._predictions import PredictionRecord, RecordStatus, new_id
from demo_app.engine._problems import Problem, not_found
from demo_app.engine._render_pool import Renderer, RenderPool
from demo_app.engine._scenarios import Scenario
from demo_app.engine._stats import RequestLog
from demo_app.engine._webhooks import WebhookSender, WebhookTarget

_MARKER = ".lipsync-engine"


class Runtime:
    def __init__(
        self,
        *,
        data_dir: Path,
        clock: Clock,
        scenario: Scenario,
        output_ttl_s: float,
        pool: RenderPool,
        owns_pool: bool,
        renderer: Renderer,
        page_size: int,
        max_upload_bytes: int,
        ready_clip: Path | None = None,
    ) -> None:
        self.clock = clock
        self.ready_clip = ready_clip
        self.request_log = RequestLog(clock)
        self.scenario = scenario
        self.output_ttl_s = output_ttl_s
        self.page_size = page_size
        self.max_upload_bytes = max_upload_bytes
        self.run_dir = data_dir / "engine-run"
        self.files = FileStore(self.run_dir / "files", clock)
        self.outputs = OutputStore(self.run_dir / "outputs", clock, keep_known_s=output_ttl_s)
        self.predictions: dict[str, PredictionRecord] = {}
        self._forget: list[tuple[datetime, str]] = []
        self._pool = pool
        self._owns_pool = owns_pool
        self._renderer = renderer
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._janitor: asyncio.Task[None] | None = None
        self._wake_janitor = asyncio.Event()
        self.webhooks = WebhookSender(clock, scenario.webhooks)

    @property
    def started(self) -> bool:
        return self._janitor is not None

    async def start(self) -> None:
        if self.started:
            return
        await asyncio.to_thread(self._fresh_run_dir)
        self.webhooks.start()
        self._janitor = asyncio.create_task(self._janitor_loop(), name="engine-janitor")

    async def aclose(self) -> None:
        tasks = [*self._tasks.values(), *([self._janitor] if self._janitor else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.webhooks.aclose()
        self._janitor = None
        if self._owns_pool:
            await asyncio.to_thread(self._pool.close)

    # --- predictions ------------------------------------------------------------------------

    def create(
        self,
        model: HostedModel,
        input: dict[str, Any],
        *,
        cancel_after_s: float | None,
        own_host: str,
        webhook: WebhookTarget | None = None,
    ) -> PredictionRecord:
        if not self.started:
            raise Problem(503, "Engine not started", "The engine is not running yet; try again in a moment.")
        now = self.clock.now()
        record = PredictionRecord(
            id=new_id(),
            model=model,
            input=input,
            created_at=now,
            deadline=now + timedelta(seconds=cancel_after_s) if cancel_after_s is not None else None,
            on_finish=self._forget_later,
        )
        if webhook is not None:
            record.on_event = lambda changed, event: self.webhooks.event(changed, webhook, event)
        self.predictions[record.id] = record
        tools = PredictionTools(
            clock=self.clock,
            files=self.files,
            outputs=self.outputs,
            pool=self._pool,
            renderer=self._renderer,
            work_dir=self.run_dir / "work",
            output_ttl_s=self.output_ttl_s,
            ready_clip=self.ready_clip,
        )
        task = asyncio.create_task(run_prediction(record, self.scenario.next_script(), own_host, tools))
        self._tasks[record.id] = task
        task.add_done_callback(lambda _: self._finished(record.id))
        return record

    def get(self, prediction_id: str) -> PredictionRecord:
        record = self.predictions.get(prediction_id)
        if record is None:
            raise not_found(f"Prediction {prediction_id} was not found.")
        return record

    def cancel(self, prediction_id: str) -> PredictionRecord:
        record = self.get(prediction_id)
        if record.finish(RecordStatus.CANCELED, self.clock.now()):
            task = self._tasks.get(prediction_id)
            if task is not None:
                task.cancel()
        return record

    async def wait_finished(self, prediction_id: str) -> None:
        """Return once the prediction's life has ended (tests time races against it)."""
        task = self._tasks.get(prediction_id)
        if task is not None:
            await asyncio.wait({task})

    def newest_first(
        self, *, created_after: datetime | None = None, created_before: datetime | None = None
    ) -> list[PredictionRecord]:
        records = [
            r
            for r in self.predictions.values()
            if (created_after is None or r.created_at >= created_after)
            and (created_before is None or r.created_at < created_before)
        ]
        return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)

    # --- retention --------------------------------------------------------------------------

    def sweep(self) -> None:
        """Apply every expiry that is due: outputs go, their predictions show `data_removed`."""
        for output in self.outputs.sweep():
            record = self.predictions.get(output.prediction_id or "")
            if record is not None:
                record.remove_data()
        self.files.sweep()
        now = self.clock.now()
        while self._forget and self._forget[0][0] <= now:
            _, prediction_id = heapq.heappop(self._forget)
            self.predictions.pop(prediction_id, None)

    def stored(self) -> None:
        """Something with an expiry was stored: the janitor may need to wake sooner."""
        self._wake_janitor.set()

    async def _janitor_loop(self) -> None:
        """Delete expired bytes when they expire (requests apply expiries themselves, too)."""
        while True:
            self.sweep()
            self._wake_janitor.clear()
            forget = self._forget[0][0] if self._forget else None
            due = (self.outputs.next_expiry(), self.files.next_expiry(), forget)
            moments = [m for m in due if m is not None]
            if moments:
                nap = max(0.0, (min(moments) - self.clock.now()).total_seconds())
                await wait_event(self._wake_janitor, self.clock, nap)
            else:
                await self._wake_janitor.wait()

    def _forget_later(self, record: PredictionRecord) -> None:
        """A prediction ended: schedule when it is forgotten (see the module docstring)."""
        assert record.completed_at is not None
        lifetimes = 2 if record.status is RecordStatus.SUCCEEDED else 1
        forget_at = record.completed_at + timedelta(seconds=lifetimes * self.output_ttl_s)
        heapq.heappush(self._forget, (forget_at, record.id))
        self._wake_janitor.set()

    def _finished(self, prediction_id: str) -> None:
        self._tasks.pop(prediction_id, None)
        self._wake_janitor.set()

    def _fresh_run_dir(self) -> None:
        """Predictions live in memory, so files from an earlier run are orphans: clear them.

        Only a folder this engine made (it holds the marker) is ever removed.
        """
        if (self.run_dir / _MARKER).exists():
            shutil.rmtree(self.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / _MARKER).touch()
