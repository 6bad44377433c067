"""Schemas checked at start: a model whose schema drifted is refused at the door, holding nothing.

The whole app stack (`open_services`) against the engine, whose `SchemaDrift` scenario serves a
changed schema for Wan: the schema watch reads it in the background at start, and the test
awaits that check (`checked`, `next_check`) rather than sleeping.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from demo_app.engine import CREATE_FILE, CREATES, MODEL_READS
from demo_app.engine._scenarios import FieldsChange, SchemaDrift, narrowed, renamed, required
from demo_app.jobs import JobStatus, ModelUnavailable
from tests.jobs.conftest import OWNER, Stack, StackFactory

WAN = "wan-video/wan-2.2-s2v"
SADTALKER = "cjwbw/sadtalker"
WATCH_LOGGER = "demo_app.catalog._schema_watch"


async def assert_refused_holding_nothing(stack: Stack, face: Path, voice: Path, reason: str) -> None:
    """Start is refused with the reason; no hold, no entry, nothing sent upstream for it."""
    opened = await stack.ledger.open_account(OWNER)
    with pytest.raises(ModelUnavailable) as refused:
        await stack.jobs.start(OWNER, str(face), str(voice), WAN, {})
    assert str(refused.value) == reason
    assert await stack.ledger.open_holds() == []
    assert [line.kind for line in await stack.ledger.statement(OWNER) if line.kind == "hold"] == []
    balance = await stack.ledger.balance(OWNER)
    assert (balance.balance, balance.held) == (opened.balance, 0)
    assert sum(stack.engine.requests[route] for route in (*CREATES, CREATE_FILE)) == 0
    quote = await stack.jobs.quote(OWNER, WAN, str(face), str(voice))
    assert (quote.ready, quote.reason) == (False, reason)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (renamed("image", "first_frame"), "no longer has the input “image” this Space sends"),
        (required("resolution"), "requires an input “resolution” this Space does not always send"),
        (narrowed("num_frames_per_chunk", maximum=81), "accepts “num_frames_per_chunk” only from 1 to 81"),
    ],
    ids=["renamed", "new-required", "narrowed"],
)
async def test_a_drifted_schema_makes_the_model_unavailable_and_takes_no_hold(
    make_stack: StackFactory,
    face: Path,
    voice: Path,
    caplog: pytest.LogCaptureFixture,
    change: FieldsChange,
    words: str,
) -> None:
    caplog.set_level(logging.WARNING, logger=WATCH_LOGGER)
    stack = await make_stack(SchemaDrift(WAN, change))
    await stack.models.checked()
    availability = stack.models.availability(WAN)
    assert not availability.available and availability.checked_at is not None
    reason = availability.reason
    assert reason is not None and reason.startswith("Wan 2.2 S2V is unavailable: ") and words in reason
    assert reason.count(". ") == 0 and reason.endswith(".")
    assert stack.models.availability(SADTALKER).available, "only the drifted model is affected"
    assert reason in caplog.text
    await assert_refused_holding_nothing(stack, face, voice, reason)


@pytest.mark.slow
async def test_an_unreadable_schema_keeps_the_model_usable_with_a_warning(
    make_stack: StackFactory, face: Path, voice: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=WATCH_LOGGER)
    stack = await make_stack(SchemaDrift(WAN, None, unreadable=True))
    await stack.models.checked()
    assert stack.models.availability(WAN).available
    assert stack.models.availability(WAN).checked_at is None, "never checked, so never refused"
    assert stack.models.schema(WAN) is None and stack.models.schema(SADTALKER) is not None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and WAN in r.getMessage()]
    assert len(warnings) == 1 and "could not be read" in warnings[0].getMessage()
    assert "r8_" not in caplog.text, "no token in the log"

    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), WAN, {})
    final = await stack.jobs.wait(OWNER, first.job_id, timeout_s=120)
    assert final.status is JobStatus.SUCCEEDED, final.message


async def test_the_recheck_picks_up_a_drift_that_appears_later_and_its_end(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    drift = SchemaDrift(WAN, None)
    stack = await make_stack(drift, schema_recheck_s=0.05)
    await stack.models.checked()
    assert stack.models.availability(WAN).available
    reads = sum(stack.engine.requests[route] for route in MODEL_READS)

    drift.change = required("resolution")
    await stack.models.next_check()
    reason = stack.models.unavailable_reason(WAN)
    assert reason is not None and "“resolution”" in reason
    assert sum(stack.engine.requests[route] for route in MODEL_READS) > reads, "read again, not cached"
    await assert_refused_holding_nothing(stack, face, voice, reason)

    # A schema that cannot be read keeps the last verdict (the cached schema) ...
    drift.unreadable = True
    await stack.models.next_check()
    assert stack.models.unavailable_reason(WAN) == reason
    # ... and a schema that fits again makes the model available again.
    drift.unreadable, drift.change = False, None
    await stack.models.next_check()
    assert stack.models.availability(WAN).available


async def test_admission_reads_no_schema(make_stack: StackFactory, face: Path, voice: Path) -> None:
    stack = await make_stack("normal")
    await stack.models.checked()
    reads = sum(stack.engine.requests[route] for route in MODEL_READS)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), WAN, {})
    await stack.jobs.wait(OWNER, first.job_id, timeout_s=120)
    assert sum(stack.engine.requests[route] for route in MODEL_READS) == reads, "not on every job"
