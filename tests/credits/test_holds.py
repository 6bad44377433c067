"""A hold lives once: open -> captured | released, keyed by the job ref."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from demo_app.credits import Balance, CaptureExceedsHold, HoldMismatch, Ledger, Settlement, UnknownHold
from tests.credits.audit import audit, read_entries
from tests.credits.conftest import ON_DISK, LedgerFactory

OWNER = "hf:ana"


async def test_hold_sets_credits_aside_without_spending_them(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    hold = await ledger.hold(OWNER, 300, "job-1", reason="wan 2.2, 15 s")
    assert (hold.ref, hold.owner, hold.amount, hold.state) == ("job-1", OWNER, 300, "open")
    assert hold.applied
    balance = await ledger.balance(OWNER)
    assert (balance.balance, balance.held, balance.available) == (1000, 300, 700)


@ON_DISK
async def test_hold_is_idempotent_by_ref(ledger: Ledger, ledger_path: Path) -> None:
    await ledger.open_account(OWNER)
    first = await ledger.hold(OWNER, 300, "job-1", reason="first try")
    again = await ledger.hold(OWNER, 300, "job-1", reason="retried")
    assert again.applied is False
    assert (again.amount, again.state, again.created_at) == (first.amount, first.state, first.created_at)
    assert (await ledger.balance(OWNER)).held == 300
    assert [e["kind"] for _, e in read_entries(ledger_path)] == ["grant", "hold"]


async def test_same_ref_with_other_details_is_refused(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    await ledger.open_account("browser:b1")
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    with pytest.raises(HoldMismatch, match="job-1 already holds 300"):
        await ledger.hold(OWNER, 301, "job-1", reason="r")
    with pytest.raises(HoldMismatch):
        await ledger.hold("browser:b1", 300, "job-1", reason="r")
    assert (await ledger.balance("browser:b1")).held == 0


@ON_DISK
async def test_capture_charges_actual_and_returns_the_rest_in_one_entry(
    ledger: Ledger, ledger_path: Path
) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    s = await ledger.capture("job-1", 180, reason="video delivered")
    assert s == Settlement(
        "job-1", OWNER, "captured", 300, 180, 120, "video delivered", True, False, spent=180
    )
    balance = await ledger.balance(OWNER)
    assert (balance.balance, balance.held, balance.available) == (820, 0, 820)
    last = read_entries(ledger_path)[-1][1]
    assert (last["kind"], last["amount"], last["held"], last["ref"]) == ("capture", -180, -300, "job-1")


async def test_capture_of_zero_and_of_everything(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "free", reason="r")
    await ledger.hold(OWNER, 300, "full", reason="r")
    assert (await ledger.capture("free", 0, reason="ok")).returned == 300
    assert (await ledger.capture("full", 300, reason="ok")).returned == 0
    assert (await ledger.balance(OWNER)).available == 700


async def test_capture_more_than_held_is_refused_and_the_hold_stays_open(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    with pytest.raises(CaptureExceedsHold, match="held 300 credits and cannot be charged 301"):
        await ledger.capture("job-1", 301, reason="r")
    assert [h.ref for h in await ledger.open_holds()] == ["job-1"]
    assert (await ledger.capture("job-1", 300, reason="ok")).applied


async def test_release_returns_everything(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    s = await ledger.release("job-1", reason="prediction failed")
    assert s == Settlement("job-1", OWNER, "released", 300, 0, 300, "prediction failed", True, False)
    assert await ledger.balance(OWNER) == Balance(OWNER, 1000, 0, 1000)


@ON_DISK
@pytest.mark.parametrize("first", ["capture", "release"])
async def test_second_settle_of_the_same_kind_returns_the_first_outcome(
    ledger: Ledger, ledger_path: Path, first: str
) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")

    async def settle(actual: int, reason: str) -> Settlement:
        if first == "capture":
            return await ledger.capture("job-1", actual, reason=reason)
        return await ledger.release("job-1", reason=reason)

    one = await settle(200, "webhook")
    two = await settle(250, "poller")
    assert two.applied is False and two.conflict is False
    assert two == Settlement(**{**vars(one), "applied": False})
    assert len(read_entries(ledger_path)) == 3


@ON_DISK
async def test_capture_after_release_is_refused_logged_and_never_applied(
    ledger: Ledger, ledger_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    await ledger.release("job-1", reason="timed out")
    with caplog.at_level(logging.WARNING, logger="demo_app.credits"):
        s = await ledger.capture("job-1", 200, reason="late success")
    assert (s.outcome, s.charged, s.returned, s.applied, s.conflict) == ("released", 0, 300, False, True)
    assert "job-1" in caplog.text and "already released" in caplog.text
    assert (await ledger.balance(OWNER)).balance == 1000
    audited = audit(read_entries(ledger_path), daily_budget=100_000)
    assert audited.ends["job-1"]["kind"] == "release"


async def test_release_after_capture_is_refused(ledger: Ledger, caplog: pytest.LogCaptureFixture) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    await ledger.capture("job-1", 250, reason="ok")
    with caplog.at_level(logging.WARNING, logger="demo_app.credits"):
        s = await ledger.release("job-1", reason="error after delivery")
    assert (s.outcome, s.charged, s.conflict) == ("captured", 250, True)
    assert "already captured" in caplog.text
    assert (await ledger.balance(OWNER)).balance == 750


async def test_unknown_ref_cannot_be_settled(ledger: Ledger) -> None:
    with pytest.raises(UnknownHold, match="no hold for job nope"):
        await ledger.capture("nope", 1, reason="r")
    with pytest.raises(UnknownHold):
        await ledger.release("nope", reason="r")


async def test_holds_and_outcomes_survive_a_restart(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    await ledger.hold(OWNER, 100, "job-2", reason="r")
    await ledger.capture("job-1", 120, reason="ok")
    ledger.close()
    ledger = make_ledger()
    assert (await ledger.hold(OWNER, 300, "job-1", reason="r")).state == "captured"
    assert (await ledger.capture("job-1", 300, reason="again")).charged == 120
    assert [(h.ref, h.amount) for h in await ledger.open_holds()] == [("job-2", 100)]
    assert await ledger.balance(OWNER) == Balance(OWNER, 880, 100, 780)


@pytest.mark.parametrize("bad", [1.5, True, "10", -1])
async def test_amounts_are_whole_non_negative_credits(ledger: Ledger, bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        await ledger.hold(OWNER, bad, "job-1", reason="r")  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError)):
        await ledger.adjust(OWNER, 1.0, reason="r")  # type: ignore[arg-type]
