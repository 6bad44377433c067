"""Both storages under TinyDB: every commit whole on disk, failures change nothing, one owner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from tinydb import Query, TinyDB

from demo_app.storage import AtomicJSONStorage, JournaledJSONStorage, StorageError, StorageLocked
from tests.credits.audit import read_state


@pytest.fixture(params=[AtomicJSONStorage, JournaledJSONStorage])
def open_db(request: pytest.FixtureRequest) -> Callable[[Path], tuple[TinyDB, AtomicJSONStorage]]:
    def open_(path: Path) -> tuple[TinyDB, AtomicJSONStorage]:
        db = TinyDB(path, storage=request.param)
        return db, cast(AtomicJSONStorage, db.storage)

    return open_


OpenDB = Callable[[Path], tuple[TinyDB, AtomicJSONStorage]]


def on_disk(path: Path) -> dict:
    """What a fresh reader finds: the snapshot plus, for the journaled storage, its journal."""
    return read_state(path)


def test_tinydb_works_on_it_and_every_write_is_on_disk(tmp_path: Path, open_db: OpenDB) -> None:
    path = tmp_path / "deep" / "jobs.json"
    db, storage = open_db(path)
    assert storage.read() is None and on_disk(path) == {}
    jobs = db.table("jobs")
    jobs.insert({"job_id": "a", "status": "queued"})
    jobs.update({"status": "done"}, Query().job_id == "a")
    assert on_disk(path) == {"jobs": {"1": {"job_id": "a", "status": "done"}}}
    assert storage.commits == 2
    db.close()
    db, _ = open_db(path)
    assert db.table("jobs").search(Query().status == "done") == [{"job_id": "a", "status": "done"}]
    db.close()


def test_a_transaction_is_one_commit(tmp_path: Path, open_db: OpenDB) -> None:
    db, storage = open_db(tmp_path / "db.json")
    with storage.transaction():
        db.table("a").insert({"x": 1})
        db.table("b").insert({"y": 2})
        assert on_disk(tmp_path / "db.json") == {}
    assert storage.commits == 1
    assert on_disk(tmp_path / "db.json") == {"a": {"1": {"x": 1}}, "b": {"1": {"y": 2}}}
    db.close()


def test_a_failed_transaction_leaves_memory_and_file_as_they_were(tmp_path: Path, open_db: OpenDB) -> None:
    path = tmp_path / "db.json"
    db, storage = open_db(path)
    table = db.table("t")
    table.insert({"n": 1})
    before = on_disk(path)
    with pytest.raises(RuntimeError, match="boom"), storage.transaction():
        table.insert({"n": 2})
        table.update({"n": 10}, doc_ids=[1])
        raise RuntimeError("boom")
    assert table.all() == [{"n": 1}]
    assert on_disk(path) == before
    db.close()


def test_a_write_that_cannot_be_encoded_changes_nothing(tmp_path: Path, open_db: OpenDB) -> None:
    path = tmp_path / "db.json"
    db, _ = open_db(path)
    table = db.table("t")
    table.insert({"n": 1})
    with pytest.raises(ValueError):
        table.insert({"n": float("nan")})
    assert table.all() == [{"n": 1}]
    assert on_disk(path) == {"t": {"1": {"n": 1}}}
    table.insert({"n": 3})
    assert len(on_disk(path)["t"]) == 2
    db.close()


def test_a_second_opener_is_refused_until_the_first_closes(tmp_path: Path, open_db: OpenDB) -> None:
    path = tmp_path / "db.json"
    db, _ = open_db(path)
    with pytest.raises(StorageLocked, match="already open in another process"):
        open_db(path)
    db.close()
    again, _ = open_db(path)
    again.close()


def test_leftover_temp_files_of_this_file_are_removed_on_open(tmp_path: Path, open_db: OpenDB) -> None:
    ours = tmp_path / ".db.json.ab12cd.tmp"
    theirs = tmp_path / ".other.json.ab12cd.tmp"
    for leftover in (ours, theirs):
        leftover.write_bytes(b'{"t": {"1"')
    db, _ = open_db(tmp_path / "db.json")
    assert not ours.exists() and theirs.exists()
    db.table("t").insert({"n": 1})
    assert {".other.json.ab12cd.tmp", "db.json.lock"} < {p.name for p in tmp_path.iterdir()}
    assert not list(tmp_path.glob(".db.json.*.tmp"))
    db.close()


def test_a_damaged_file_is_reported_not_replaced(tmp_path: Path, open_db: OpenDB) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(b'{"t": {"1": {"n": 1}}}{"t"')  # what an in-place rewrite can leave behind
    # The journaled storage (the ledger's and the jobs') names the repair command as the step.
    step = r"restore it from a backup|run `python -m demo_app\.repair --data-dir "
    with pytest.raises(StorageError, match=rf"db\.json .*not valid JSON.*({step})"):
        open_db(path)
    assert path.read_bytes().endswith(b'{"t"')
    db, _ = open_db(path.with_name("fresh.json"))  # the failed open released its lock
    db.close()
    path.unlink()
    db, _ = open_db(path)
    db.close()
