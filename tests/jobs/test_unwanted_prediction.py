"""After a create whose outcome stayed unknown, a prediction that did start is canceled once found,
even when the visitor canceled (or the job timed out) before it could be found."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.responses import Response

from demo_app.engine import LIST_PREDICTIONS, DropOnCreate, Engine, Problem, RenderPool, Route, Script
from demo_app.jobs import JobStatus
from tests.jobs.conftest import OWNER, TOKEN, StackFactory

MODEL = "wan-video/wan-2.2-s2v"


class CreatedButUnlisted(DropOnCreate):
    """The create happens but its answer is lost, and listing predictions fails until `unblock()`;
    the prediction then runs until something cancels it."""

    name = "created_but_unlisted"
    script = Script(outcome="stall")

    def __init__(self) -> None:
        super().__init__(n=1)
        self.listed = asyncio.Event()
        self.blocked = True

    def on_request(self, route: Route) -> Response | None:
        if route != LIST_PREDICTIONS:
            return None
        self.listed.set()
        if self.blocked:
            return Problem(503, "Service Unavailable", "Try again shortly.").response()
        return None


@pytest.mark.slow  # the client rides out the failing lists with its own backoff first
async def test_a_prediction_found_after_the_visitor_canceled_is_canceled_upstream(
    make_stack: StackFactory, face: Path, voice: Path, tmp_path: Path, render_pool: RenderPool
) -> None:
    scenario = CreatedButUnlisted()
    engine = Engine(
        token=TOKEN, data_dir=tmp_path / "engine", scenario=scenario, time_scale=20.0, render_pool=render_pool
    )
    await engine.start()
    try:
        stack = await make_stack(engine=engine)
        await stack.ledger.open_account(OWNER)
        first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        await scenario.listed.wait()
        final = await stack.jobs.cancel(OWNER, first.job_id)
        assert final.status is JobStatus.CANCELED, final.message
        assert final.prediction_id is None
        assert (await stack.ledger.balance(OWNER)).held == 0
        (prediction_id,) = engine.runtime.predictions
        assert engine.runtime.predictions[prediction_id].status.value == "processing"
        scenario.blocked = False
        await asyncio.wait_for(engine.runtime.wait_finished(prediction_id), timeout=30)
        assert engine.runtime.predictions[prediction_id].status.value == "canceled"
    finally:
        await engine.aclose()
