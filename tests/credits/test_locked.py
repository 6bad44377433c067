"""Only one process may open a ledger file; the second gets a clear `LedgerLocked`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from demo_app.credits import LedgerLocked
from tests.credits.conftest import LedgerFactory

HOLDER = """
import asyncio, sys
from pathlib import Path
from demo_app.credits import Ledger

ledger = Ledger(Path(sys.argv[1]), starting_grant=1000, daily_budget=10_000, max_open_holds_per_owner=2)
asyncio.run(ledger.open_account("hf:other-process"))
print("open", flush=True)
sys.stdin.read()   # hold the ledger until the test closes our stdin
ledger.close()
"""


def test_a_second_process_is_refused_while_the_first_has_it_open(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    root = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ledger_path)],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        with pytest.raises(LedgerLocked) as refused:
            make_ledger()
        message = str(refused.value)
        assert str(ledger_path) in message and "Run one app per data directory" in message
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
    ledger = make_ledger()  # released when the other process closed it
    assert ledger.path == ledger_path


def test_a_second_ledger_in_the_same_process_is_refused(make_ledger: LedgerFactory) -> None:
    make_ledger()
    with pytest.raises(LedgerLocked):
        make_ledger()
