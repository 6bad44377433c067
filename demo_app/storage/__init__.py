"""Crash-safe TinyDB storages and the group commit that drives them from async code.

- `AtomicJSONStorage`: the file always holds one complete commit (temp file, fsync, rename);
- `JournaledJSONStorage`: each commit appends its changes to a journal, the file is rewritten
  rarely (the ledger and the job store use it);
- `MemoryStorage`: the same commit rules with nothing on disk, so a store runs in memory in tests;
- `GroupCommit`: changes from async code, one at a time, committed in groups on a writer thread;
- `remove_tree`, `remove_file`: deletions from async code, off the event loop's thread.

The file primitives (`write_atomic`, `load_json`, ...) and the journal's line format are
exported for the archive files and for `demo_app.repair`, which rebuilds damaged files.
"""

from demo_app.storage._atomic import AtomicJSONStorage
from demo_app.storage._base import (
    Commit,
    CommitFailed,
    CommittingStorage,
    Data,
    StorageError,
    StorageFactory,
    StorageLocked,
)
from demo_app.storage._files import (
    encode_json,
    ensure_dir,
    load_json,
    lock_path,
    remove_stale_temps,
    repair_step,
    write_atomic,
)
from demo_app.storage._group_commit import GroupCommit
from demo_app.storage._journal import (
    DEFAULT_COMPACT_AT,
    JournaledJSONStorage,
    apply_changes,
    backup_path,
    journal_path,
    parse_line,
)
from demo_app.storage._memory import MemoryStorage
from demo_app.storage._removal import remove_file, remove_tree

__all__ = [
    "DEFAULT_COMPACT_AT",
    "AtomicJSONStorage",
    "Commit",
    "CommitFailed",
    "CommittingStorage",
    "Data",
    "GroupCommit",
    "JournaledJSONStorage",
    "MemoryStorage",
    "StorageError",
    "StorageFactory",
    "StorageLocked",
    "apply_changes",
    "backup_path",
    "encode_json",
    "ensure_dir",
    "journal_path",
    "load_json",
    "lock_path",
    "parse_line",
    "remove_file",
    "remove_stale_temps",
    "remove_tree",
    "repair_step",
    "write_atomic",
]
