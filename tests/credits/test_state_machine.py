"""Random programs of grants, holds, captures, releases, repeats and restarts against a model.

After every step: the ledger agrees with a plain model and with the raw files or rows (balance
= sum of entries, every hold ended at most once, available ≥ 0, the daily budget never exceeded
when a hold is made, the Space owner's spend per day: charges and the compute of released runs).
Small limits and a tiny `archive_at` make refusals and moves to archives happen often. Both
engines run the same programs: TinyDB files, and PostgreSQL (a fresh database per program).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from demo_app.credits import (
    AdjustRefused,
    Balance,
    Budget,
    CaptureExceedsHold,
    CreditsError,
    DailyBudgetReached,
    HoldMismatch,
    InsufficientCredits,
    Ledger,
    TooManyJobs,
    UnknownHold,
)
from demo_app.database import Database
from tests.credits.audit import Entry, audit, disk_bytes, pg_rows, read_entries, read_pg_entries
from tests.credits.conftest import Clock
from tests.postgres import Cluster

T = TypeVar("T")
OWNERS = ("hf:ana", "browser:b1", "browser:b2")
GRANT, BUDGET, MAX_OPEN, ARCHIVE_AT = 300, 450, 3, 6


@dataclass
class ModelHold:
    owner: str
    amount: int
    day: str
    state: str = "open"
    charged: int = 0
    spent: int = 0


@dataclass
class Model:
    """What the ledger should say, computed the obvious way."""

    balance: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OWNERS, 0))
    opened: set[str] = field(default_factory=set)
    holds: dict[str, ModelHold] = field(default_factory=dict)

    def held(self, owner: str) -> int:
        return sum(h.amount for h in self.holds.values() if h.owner == owner and h.state == "open")

    def view(self, owner: str) -> Balance:
        return Balance(owner, self.balance[owner], self.held(owner), self.balance[owner] - self.held(owner))

    def held_on(self, day: str) -> int:
        return sum(h.amount for h in self.holds.values() if h.day == day and h.state == "open")

    def spent_on(self, day: str) -> int:
        return sum(h.spent for h in self.holds.values() if h.day == day and h.state != "open")

    def used(self, day: str) -> int:
        return self.held_on(day) + self.spent_on(day)

    def refusal(self, owner: str, amount: int, day: str) -> type[CreditsError] | None:
        if sum(1 for h in self.holds.values() if h.owner == owner and h.state == "open") >= MAX_OPEN:
            return TooManyJobs
        if amount > self.view(owner).available:
            return InsufficientCredits
        if self.used(day) + amount > BUDGET:
            return DailyBudgetReached
        return None


class LedgerMachine(RuleBasedStateMachine):
    refs = Bundle("refs")
    base: ClassVar[Path]
    cluster: ClassVar[Cluster | None] = None
    steps: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(dir=self.base))
        self.path = self.dir / "ledger.json"
        self.loop = asyncio.new_event_loop()
        self.clock = Clock()
        self.model = Model()
        self.url = self.cluster.new_database() if self.cluster else ""
        self.reader = psycopg.connect(self.url, autocommit=True) if self.url else None
        self.database: Database | None = None
        self.ledger = self.open()
        self.next_ref = 0

    def open(self) -> Ledger:
        if self.url:
            self.database = self.run(Database.open(self.url, max_size=4))
            return Ledger.on_database(
                self.database,
                starting_grant=GRANT,
                daily_budget=BUDGET,
                max_open_holds_per_owner=MAX_OPEN,
                clock=self.clock,
            )
        return Ledger(
            self.path,
            starting_grant=GRANT,
            daily_budget=BUDGET,
            max_open_holds_per_owner=MAX_OPEN,
            clock=self.clock,
            archive_at=ARCHIVE_AT,
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def step(self) -> None:
        type(self).steps += 1

    def close(self) -> None:
        self.ledger.close()
        if self.database is not None:
            self.run(self.database.aclose())

    def teardown(self) -> None:
        self.close()
        self.loop.close()
        shutil.rmtree(self.dir)
        if self.reader is not None and self.cluster is not None:
            self.reader.close()
            self.cluster.drop(self.url)

    def entries(self) -> list[tuple[int, Entry]]:
        return read_pg_entries(self.reader) if self.reader is not None else read_entries(self.path)

    def stored(self) -> object:
        """What the ledger has written, to compare before and after a refusal."""
        if self.reader is not None:
            return pg_rows(self.reader)
        return disk_bytes(self.path) if self.path.exists() else b""

    def today(self) -> str:
        return self.clock.now.date().isoformat()

    # ---- rules -----------------------------------------------------------------------------

    @rule(owner=st.sampled_from(OWNERS))
    def open_account(self, owner: str) -> None:
        self.step()
        if owner not in self.model.opened:
            self.model.opened.add(owner)
            self.model.balance[owner] += GRANT
        assert self.run(self.ledger.open_account(owner)) == self.model.view(owner)

    @rule(owner=st.sampled_from(OWNERS), amount=st.integers(-400, 400).filter(bool))
    def adjust(self, owner: str, amount: int) -> None:
        self.step()
        self.try_adjust(owner, amount)

    @rule(owner=st.sampled_from(OWNERS), over=st.integers(0, 1))
    def take_everything(self, owner: str, over: int) -> None:
        """Take exactly what is available, or one credit more."""
        self.step()
        self.try_adjust(owner, -(self.model.view(owner).available + over) or -1)

    def try_adjust(self, owner: str, amount: int) -> None:
        if amount + self.model.view(owner).available < 0:
            with pytest.raises(AdjustRefused):
                self.run(self.ledger.adjust(owner, amount, reason="by hand"))
            return
        self.model.balance[owner] += amount
        assert self.run(self.ledger.adjust(owner, amount, reason="by hand")) == self.model.view(owner)

    @rule(target=refs, owner=st.sampled_from(OWNERS), amount=st.integers(0, 400))
    def hold(self, owner: str, amount: int) -> str:
        self.step()
        self.next_ref += 1
        ref = f"job-{self.next_ref}"
        self.try_hold(owner, amount, ref)
        return ref

    @rule(target=refs, owner=st.sampled_from(OWNERS), over=st.integers(0, 1), by_budget=st.booleans())
    def hold_at_the_edge(self, owner: str, over: int, by_budget: bool) -> str:
        """Exactly what is available (or left of today's budget), or one credit more."""
        self.step()
        self.next_ref += 1
        ref = f"job-{self.next_ref}"
        budget_left = BUDGET - self.model.used(self.today())
        room = budget_left if by_budget else self.model.view(owner).available
        self.try_hold(owner, max(0, room + over), ref)
        return ref

    @rule(owner=st.sampled_from(OWNERS), amounts=st.lists(st.integers(0, 300), min_size=2, max_size=6))
    def burst(self, owner: str, amounts: list[int]) -> None:
        """Holds arriving together behave as if they came one after another, in order."""
        self.step()
        refs = [f"burst-{self.next_ref}-{i}" for i in range(len(amounts))]
        self.next_ref += 1
        expected = []
        for ref, amount in zip(refs, amounts, strict=True):
            refusal = self.model.refusal(owner, amount, self.today())
            expected.append(refusal)
            if refusal is None:
                self.model.holds[ref] = ModelHold(owner, amount, self.today())

        async def together() -> list[Any]:
            pairs = zip(refs, amounts, strict=True)
            calls = [self.ledger.hold(owner, amount, ref, reason="burst") for ref, amount in pairs]
            return await asyncio.gather(*calls, return_exceptions=True)

        results = self.run(together())
        for result, refusal in zip(results, expected, strict=True):
            if refusal is None:
                assert not isinstance(result, BaseException) and result.applied
            else:
                assert type(result) is refusal

    @rule(ref=refs, same=st.booleans())
    def hold_again(self, ref: str, same: bool) -> None:
        self.step()
        known = self.model.holds.get(ref)
        if known is None:
            return
        amount = known.amount if same else known.amount + 1
        if not same:
            with pytest.raises(HoldMismatch):
                self.run(self.ledger.hold(known.owner, amount, ref, reason="retry"))
            return
        again = self.run(self.ledger.hold(known.owner, amount, ref, reason="retry"))
        assert (again.applied, again.state, again.amount) == (False, known.state, known.amount)

    @rule(ref=refs, actual=st.integers(0, 450))
    def capture(self, ref: str, actual: int) -> None:
        self.step()
        self.settle(ref, "captured", actual, actual)

    @rule(ref=refs, spent=st.sampled_from([0, 1]) | st.integers(0, 600))
    def release(self, ref: str, spent: int) -> None:
        """A failure, cancel or time-out: the visitor gets it all back, the owner pays `spent` upstream."""
        self.step()
        self.settle(ref, "released", 0, spent)

    @rule()
    def restart(self) -> None:
        self.step()
        self.close()
        self.ledger = self.open()

    @rule(hours=st.integers(1, 30))
    def later(self, hours: int) -> None:
        self.step()
        self.clock.advance(hours=hours)

    # ---- helpers ----------------------------------------------------------------------------

    def try_hold(self, owner: str, amount: int, ref: str) -> None:
        refusal = self.model.refusal(owner, amount, self.today())
        if refusal is not None:
            before = self.stored()
            with pytest.raises(refusal):
                self.run(self.ledger.hold(owner, amount, ref, reason="a job"))
            assert self.stored() == before
            return
        got = self.run(self.ledger.hold(owner, amount, ref, reason="a job"))
        assert (got.applied, got.amount, got.state) == (True, amount, "open")
        self.model.holds[ref] = ModelHold(owner, amount, self.today())

    def settle(self, ref: str, outcome: str, actual: int, spent: int) -> None:
        known = self.model.holds.get(ref)

        async def call() -> Any:
            if outcome == "captured":
                return await self.ledger.capture(ref, actual, reason="done")
            return await self.ledger.release(ref, reason="failed", spent=spent)

        if known is None:
            with pytest.raises(UnknownHold):
                self.run(call())
            return
        if known.state == "open" and actual > known.amount:
            with pytest.raises(CaptureExceedsHold):
                self.run(call())
            return
        result = self.run(call())
        if known.state == "open":
            known.state, known.charged, known.spent = outcome, actual, spent
            self.model.balance[known.owner] -= actual
            assert (result.applied, result.conflict) == (True, False)
        else:
            assert (result.applied, result.conflict) == (False, known.state != outcome)
        assert (result.outcome, result.held, result.charged) == (known.state, known.amount, known.charged)
        assert result.spent == known.spent, "a repeated settlement keeps the first one's spend"
        assert result.returned == known.amount - known.charged

    # ---- invariants -------------------------------------------------------------------------

    @invariant()
    def agrees_with_the_model_and_the_files(self) -> None:
        on_disk = audit(self.entries(), daily_budget=BUDGET)  # history-wide checks
        for owner in OWNERS:
            balance = self.run(self.ledger.balance(owner))
            assert balance == self.model.view(owner)
            assert balance.balance == on_disk.balance[owner] and balance.available >= 0
            lines = self.run(self.ledger.statement(owner))
            assert sum(line.amount for line in lines) == balance.balance
            if lines:
                assert (lines[-1].balance, lines[-1].held) == (balance.balance, balance.held)
        open_holds = {h.ref: (h.owner, h.amount) for h in self.run(self.ledger.open_holds())}
        model_open = {r: (h.owner, h.amount) for r, h in self.model.holds.items() if h.state == "open"}
        assert open_holds == model_open
        for owner in OWNERS:
            mine = [h.ref for h in self.run(self.ledger.open_holds(owner))]
            assert mine == [r for r in open_holds if model_open[r][0] == owner]
        assert set(on_disk.open_refs) == set(open_holds)
        assert {r: e["kind"] for r, e in on_disk.ends.items()} == {
            r: "capture" if h.state == "captured" else "release"
            for r, h in self.model.holds.items()
            if h.state != "open"
        }
        used = self.model.used(self.today())
        left = max(0, BUDGET - used)
        assert self.run(self.ledger.budget()) == Budget(self.clock.now.date(), used, BUDGET, left)
        for day in {h.day for h in self.model.holds.values()}:
            spend = self.run(self.ledger.spend(date.fromisoformat(day)))
            assert (spend.held, spend.spent) == (self.model.held_on(day), self.model.spent_on(day))
            assert on_disk.spent[day] == spend.spent


ENGINES = pytest.mark.parametrize("engine", ["tinydb", pytest.param("postgres", marks=pytest.mark.slow)])
"""PostgreSQL's programs are slow (a database per program, a connection per check): 40 s+."""


def run_machine(base: Path, *, examples: int, steps: int, cluster: Cluster | None = None) -> int:
    attributes = {"base": base, "steps": 0, "cluster": cluster}
    machine = cast(type[LedgerMachine], type("Machine", (LedgerMachine,), attributes))
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    return machine.steps


def cluster_for(engine: str, request: pytest.FixtureRequest) -> Cluster | None:
    return cast(Cluster, request.getfixturevalue("postgres")) if engine == "postgres" else None


@ENGINES
def test_ledger_state_machine_quick(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> None:
    assert run_machine(tmp_path, examples=25, steps=40, cluster=cluster_for(engine, request)) >= 500


@pytest.mark.slow
def test_ledger_state_machine_ten_thousand_steps(tmp_path: Path) -> None:
    """On the TinyDB engine: PostgreSQL's run above takes the same rules through the same
    checks, and ten thousand steps there (a database per program) would take minutes."""
    steps = run_machine(tmp_path, examples=250, steps=50)
    print(f"state machine ran {steps} steps")
    assert steps >= 10_000
