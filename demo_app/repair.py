"""Check and repair the app's data files: `python -m demo_app.repair --data-dir DIR [--check]`.

The ledger (`ledger.json`) and the jobs (`jobs.json`) are each a snapshot, its backup copy
(written at every compaction) and a journal of commits since (see `demo_app.storage`). A crash
leaves at most a torn last journal line, which opening cuts off by itself; this command is for
damage: a snapshot that does not parse, or a bad journal line before the end.

Repair keeps a copy of the damaged files (`<name>.damaged-<UTC time>`), takes the snapshot (or,
if it is damaged, its backup copy), replays the journal's good lines up to the first bad one,
and writes the result as a fresh snapshot with an empty journal. Commits after the damage
cannot be trusted and are dropped; the report says how many. The ledger is then opened, which
runs its integrity check. It refuses to run while the app has the files open.

Exit status: 0 all files good (or repaired), 1 a file could not be repaired, 2 the app is running.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from demo_app.credits import Ledger, LedgerCorrupt
from demo_app.storage import (
    Data,
    StorageError,
    apply_changes,
    backup_path,
    encode_json,
    journal_path,
    load_json,
    lock_path,
    parse_line,
    write_atomic,
)

FILES = ("ledger.json", "jobs.json")


class AppRunning(RuntimeError):
    """The app (or another repair) has the files open."""


@dataclass(frozen=True)
class Report:
    """What was found in one data file and what was done."""

    name: str
    damage: list[str]
    repaired: bool = False
    dropped_commits: int = 0
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def lines(self) -> list[str]:
        if self.failure is not None:
            return [f"{self.name}: {problem}" for problem in self.damage] + [f"{self.name}: {self.failure}"]
        if not self.damage:
            return [f"{self.name}: good."]
        done = "repaired" if self.repaired else "needs repair (run without --check)"
        dropped = (
            f"; {self.dropped_commits} commit(s) after the damage were dropped"
            if self.dropped_commits
            else ""
        )
        return [f"{self.name}: {problem}" for problem in self.damage] + [f"{self.name}: {done}{dropped}."]


@dataclass
class _Reading:
    base: Data | None
    lines: list[bytes]
    damage: list[str]
    dropped: int
    failure: str | None


def check_and_repair(data_dir: Path, *, repair: bool = True) -> list[Report]:
    """Check (and unless `repair` is False, repair) every data file present in `data_dir`."""
    reports = []
    for name in FILES:
        path = data_dir / name
        if any(p.exists() for p in (path, journal_path(path), backup_path(path))):
            reports.append(_one(path, repair=repair))
    return reports


def _one(path: Path, *, repair: bool) -> Report:
    with _locked(path):
        reading = _read(path)
        if reading.failure is not None:
            return Report(path.name, reading.damage, failure=reading.failure)
        repaired = bool(reading.damage) and repair
        if repaired:
            _rewrite(path, reading)
    failure = None
    if path.name == "ledger.json" and (repaired or not reading.damage):
        failure = _ledger_integrity(path)
    return Report(path.name, reading.damage, repaired, reading.dropped, failure)


def _read(path: Path) -> _Reading:
    damage: list[str] = []
    try:
        base: Data | None = load_json(path)
    except StorageError:
        damage.append("the snapshot is not valid JSON")
        try:
            base = load_json(backup_path(path))
        except StorageError:
            base = None
        if base is None:
            failure = "no good backup copy of the snapshot exists; restore the data directory from a backup."
            return _Reading(None, [], damage, 0, failure)
        damage.append("rebuilt from the backup copy of the snapshot")
    journal = journal_path(path)
    raw = journal.read_bytes() if journal.exists() else b""
    lines = raw.splitlines(keepends=True)
    good: list[bytes] = []
    for index, line in enumerate(lines):
        if parse_line(line) is None:
            if index < len(lines) - 1:
                damage.append(f"journal line {index + 1} of {len(lines)} is damaged")
                return _Reading(base, good, damage, len(lines) - index - 1, None)
            break  # a torn last line: a crash, cut off by an ordinary open
        good.append(line)
    return _Reading(base, good, damage, 0, None)


def _rewrite(path: Path, reading: _Reading) -> None:
    """Keep the damaged files aside, then write snapshot + good lines as a fresh snapshot."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for original in (path, journal_path(path)):
        if original.exists():
            shutil.copy2(original, original.with_name(f"{original.name}.damaged-{stamp}"))
    data: Data = reading.base if reading.base is not None else {}
    for line in reading.lines:
        changes = parse_line(line)
        assert changes is not None
        apply_changes(data, changes)
    snapshot = encode_json(data)
    write_atomic(backup_path(path), snapshot)
    write_atomic(path, snapshot)
    write_atomic(journal_path(path), b"")


def _ledger_integrity(path: Path) -> str | None:
    """Open the ledger (which checks its books); the failure sentence, or None."""
    try:
        Ledger(path, starting_grant=0, daily_budget=0, max_open_holds_per_owner=1).close()
    except (LedgerCorrupt, StorageError) as exc:
        return f"the ledger still fails its check: {exc}"
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = FileLock(lock_path(path), timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise AppRunning(
            f"{path.name} is open in a running app; stop the app, then run the repair again."
        ) from None
    try:
        yield
    finally:
        lock.release()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo_app.repair", description="Check and repair the ledger and jobs files."
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="the app's data directory")
    parser.add_argument(
        "--check", action="store_true", help="only report (the ledger is still opened, as the app would)"
    )
    args = parser.parse_args(argv)
    try:
        reports = check_and_repair(args.data_dir, repair=not args.check)
    except AppRunning as exc:
        print(exc, file=sys.stderr)
        return 2
    if not reports:
        print(f"No data files in {args.data_dir}.")
    for report in reports:
        print("\n".join(report.lines()))
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
