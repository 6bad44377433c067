"""File primitives of the storages: atomic replace, directory fsync, JSON in and out, lock names."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from demo_app.storage._base import StorageError


def repair_step(path: Path) -> str:
    """The recovery step for a damaged data file: stop the app and run the repair command."""
    return (
        f"Stop the app, run `python -m demo_app.repair --data-dir {path.parent}` (it keeps a copy of "
        "the damaged files and rebuilds them from the last good snapshot and journal), then start it again."
    )


def lock_path(path: Path) -> Path:
    """The lock file guarding `path` (kept beside it)."""
    return path.with_name(path.name + ".lock")


def load_json(path: Path) -> Any:
    """Parse `path`; None if it does not exist; a readable `StorageError` if it is damaged."""
    try:
        with path.open("rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        raise StorageError(f"{path} is not valid JSON ({exc}); restore it from a backup.") from exc


def encode_json(data: Any) -> bytes:
    """Compact UTF-8 JSON; NaN and infinities refused (they are not JSON)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def write_atomic(path: Path, blob: bytes) -> None:
    """Replace `path` by `blob` so that a crash leaves either the old or the new file, never a mix."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (its entry lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(directory: Path) -> None:
    """Create `directory` (and parents) durably if it is missing."""
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        fsync_dir(directory.parent)


def remove_stale_temps(directory: Path, name: str = "*") -> int:
    """Delete temp files a crash left behind for `name` (a glob); call only while holding its lock."""
    removed = 0
    for tmp in directory.glob(f".{name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed
