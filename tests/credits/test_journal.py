"""JournaledJSONStorage: one appended line per commit, replayed on open, compacted now and then."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import cast

import pytest
from tinydb import Query, TinyDB

from demo_app.storage import JournaledJSONStorage, StorageError, write_atomic
from tests.credits.audit import read_state


def open_db(path: Path, compact_at: int = 1 << 30) -> tuple[TinyDB, JournaledJSONStorage]:
    db = TinyDB(path, storage=JournaledJSONStorage, compact_at=compact_at)
    return db, cast(JournaledJSONStorage, db.storage)


def journal(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


def test_each_commit_appends_only_what_changed(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    db, _ = open_db(path)
    jobs = db.table("jobs")
    jobs.insert_multiple({"id": i, "status": "queued", "tags": []} for i in range(50))
    size = journal(path).stat().st_size
    jobs.update({"status": "done"}, Query().id == 7)
    assert journal(path).stat().st_size - size < 100  # one document, not fifty
    jobs.update(lambda doc: doc["tags"].append("nested"), doc_ids=[9])  # changed in place, deep inside
    jobs.remove(doc_ids=[3])
    db.table("scratch").insert({"x": 1})
    db.drop_table("scratch")
    expected = {"jobs": {str(doc.doc_id): dict(doc) for doc in jobs.all()}}
    assert len(journal(path).read_bytes().splitlines()) == 6 and not path.exists()
    db.close()
    again, _ = open_db(path)
    assert read_state(path) == expected
    assert {"jobs": {str(d.doc_id): dict(d) for d in again.table("jobs").all()}} == expected
    again.close()


def test_compaction_writes_the_snapshot_and_empties_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    db, storage = open_db(path, compact_at=2000)
    table = db.table("t")
    for i in range(100):
        table.insert({"n": i, "pad": "x" * 40})
    assert path.exists() and journal(path).stat().st_size < 2000
    assert storage.commits == 100
    db.close()
    again, _ = open_db(path)
    assert [d["n"] for d in again.table("t").all()] == list(range(100))
    again.close()


def test_a_crash_between_snapshot_and_journal_reset_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    db, storage = open_db(path, compact_at=1 << 30)
    table = db.table("t")
    storage.autocommit = False
    table.insert_multiple({"n": i} for i in range(5))
    storage.commit()
    table.remove(doc_ids=[2])  # the last commit before the crash removes a document...
    table.update({"n": 40}, doc_ids=[4])
    storage.compact_at = 0
    commit = storage.prepare()
    assert commit.line is not None and commit.snapshot is not None
    storage._append(commit.line)  # ...is appended, the snapshot written, then the process dies
    write_atomic(path, commit.snapshot)
    expected = read_state(path)
    db.close()
    again, _ = open_db(path)  # replays the whole journal on the new snapshot
    assert [dict(d) for d in again.table("t").all()] == [{"n": 0}, {"n": 2}, {"n": 40}, {"n": 4}]
    assert read_state(path) == expected
    again.close()


@pytest.mark.parametrize("tail", [b'ab12cd34 [["t","9",{"n"', b'00000000 [["t","9",{"n":9}]]\n'])
def test_a_torn_or_unsigned_last_line_is_cut_off(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "db.json"
    db, _ = open_db(path)
    db.table("t").insert({"n": 1})
    good = journal(path).read_bytes()
    db.close()
    with journal(path).open("ab") as f:
        f.write(tail)
    db, _ = open_db(path)
    assert journal(path).read_bytes() == good
    db.table("t").insert({"n": 2})
    db.close()
    again, _ = open_db(path)
    assert [d["n"] for d in again.table("t").all()] == [1, 2]
    again.close()


def test_damage_before_the_last_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    db, _ = open_db(path)
    for n in range(3):
        db.table("t").insert({"n": n})
    db.close()
    lines = journal(path).read_bytes().splitlines(keepends=True)
    journal(path).write_bytes(lines[0] + lines[1].replace(b'"n":1', b'"n":7') + lines[2])
    with pytest.raises(StorageError, match="is damaged at byte"):
        open_db(path)


def test_a_failed_compaction_keeps_everything_in_the_journal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "db.json"
    db, _ = open_db(path, compact_at=300)
    path.mkdir()  # the snapshot cannot replace a directory
    with caplog.at_level(logging.WARNING, logger="demo_app.storage"):
        for n in range(20):
            db.table("t").insert({"n": n, "pad": "y" * 20})
    assert "compacting" in caplog.text and "failed" in caplog.text
    db.close()
    path.rmdir()
    again, _ = open_db(path)
    assert [d["n"] for d in again.table("t").all()] == list(range(20))
    again.close()


def test_keyed_writes_journal_one_document_and_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    storage = JournaledJSONStorage(path)
    storage.autocommit = False
    for i in range(200):
        storage.put("jobs", str(i), {"n": i, "pad": "x" * 100})
    storage.commit()
    size = journal(path).stat().st_size
    storage.put("jobs", "7", {"n": 7, "status": "done"})
    storage.put("jobs", "9", None)
    storage.commit()
    line = journal(path).read_bytes()[size:]
    assert len(line) < 120 and b'"7"' in line and b'"9",null' in line  # two documents, not two hundred
    storage.close()
    again = JournaledJSONStorage(path)
    docs = (again.read() or {})["jobs"]
    assert docs["7"] == {"n": 7, "status": "done"} and "9" not in docs and len(docs) == 199
    again.close()


def test_keyed_and_tinydb_writes_to_one_table_in_one_commit_are_both_kept(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    db, storage = open_db(path)
    table = db.table("t")
    table.insert_multiple({"n": i} for i in range(3))  # documents 1, 2, 3
    with storage.transaction():
        storage.put("t", "2", {"n": 20})
        table.insert({"n": 3})  # TinyDB replaces the table dict: the whole table is compared
        storage.put("t", "1", None)
    db.close()
    again, _ = open_db(path)
    assert sorted(d["n"] for d in again.table("t").all()) == [2, 3, 20]
    again.close()


def test_a_failed_commit_drops_keyed_writes(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = JournaledJSONStorage(path)
    storage.put("t", "1", {"n": 1})
    with pytest.raises(RuntimeError), storage.transaction():
        storage.put("t", "1", {"n": 2})
        raise RuntimeError("the change failed half-way")
    assert (storage.read() or {})["t"]["1"] == {"n": 1}
    storage.commit()  # nothing left over from the discarded change
    storage.close()
    again = JournaledJSONStorage(path)
    assert (again.read() or {})["t"] == {"1": {"n": 1}}
    again.close()


def test_compaction_waits_for_a_journal_as_large_as_the_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    storage = JournaledJSONStorage(path, autocommit=False, compact_at=1000, compact_ratio=1.0)
    for i in range(100):
        storage.put("jobs", str(i), {"n": i, "pad": "x" * 100})
    storage.commit()
    snapshot = path.stat().st_size  # the first commit's line passed compact_at: compacted
    assert snapshot > 10_000 and journal(path).stat().st_size == 0
    rewrites = 0
    for n in range(200):
        storage.put("jobs", str(n % 100), {"n": n, "pad": "y" * 100})
        before = journal(path).stat().st_size
        storage.commit()
        rewrites += journal(path).stat().st_size < before
    assert 1 <= rewrites <= 3  # about one rewrite per snapshot's worth of journal, not one per 1,000 B
    storage.close()
    again = JournaledJSONStorage(path)
    assert (again.read() or {})["jobs"]["99"]["n"] == 199
    again.close()
