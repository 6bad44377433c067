"""Which file arguments the app accepts: only files it received as uploads (or its own examples).

Gradio hands a handler whatever file dict the caller wrote. With `meta` it checks that the path
lies in its upload folder; without `meta` it checks nothing, so `{"path": "/etc/passwd"}` or
`/proc/self/fd/7` (another visitor's upload in flight) would reach the media checks and then
Replicate. This policy accepts a path only when all of these hold:

- the value is a Gradio file dict with `meta`, and its path is not a link (`scheme://`);
- the path, taken as written and with every symlink resolved, lies inside the upload folder
  (`/proc/self/fd/N` and symlinks resolve elsewhere);
- Gradio's `/upload` route wrote it (`Blocks.upload_file_set`) or it is one of the example files
  the sample button loads;
- it is still a regular file (the cache sweeper removes old uploads).

Anything else is `NotAnUpload`; the caller's side words the sentence (API: send it with
`handle_file`; page: choose the file again).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

MAX_PATH_CHARS = 4096
FILE_DATA_TYPE = "gradio.FileData"


class NotAnUpload(ValueError):
    """A file argument that is not a file this app received; `what` names the argument."""

    def __init__(self, what: str) -> None:
        super().__init__(f"The {what} is not a file this app received as an upload.")
        self.what = what


class UploadPolicy:
    """Turns a file argument into the path of an upload, or refuses it."""

    def __init__(self, folder: str | Path) -> None:
        self._folder = os.path.abspath(folder)
        self._real_folder = os.path.realpath(folder)
        self._uploaded: Collection[str] = ()
        self._examples: set[str] = set()

    @property
    def folder(self) -> str:
        """Gradio's upload folder."""
        return self._folder

    def track(self, uploaded: Collection[str]) -> None:
        """Read the uploads from this set (Gradio's `Blocks.upload_file_set`, filled by `/upload`)."""
        self._uploaded = uploaded

    @property
    def examples(self) -> frozenset[str]:
        """The example files (never removed by the cache sweeper)."""
        return frozenset(self._examples)

    def allow_examples(self, paths: Iterable[str]) -> None:
        """Accept these files too: the examples Gradio copied into its cache at build time."""
        self._examples.update(os.path.abspath(path) for path in paths)

    def path_of(self, value: Any, what: str) -> str | None:
        """The upload's path; None when no file was given (None or an empty value)."""
        if value is None or value == "" or value == {}:
            return None
        if not is_file_dict(value):
            raise NotAnUpload(what)
        path = value["path"]
        if not isinstance(path, str) or not self.accepts(path):
            raise NotAnUpload(what)
        return os.path.abspath(path)

    def accepts(self, path: str) -> bool:
        """True when `path` is an upload (or example) still on disk, inside the upload folder."""
        if not path or len(path) > MAX_PATH_CHARS or "\x00" in path or "://" in path:
            return False
        written = os.path.abspath(path)
        if written not in self._uploaded and written not in self._examples:
            return False
        real = os.path.realpath(written)
        inside = _inside(written, self._folder) and _inside(real, self._real_folder)
        return inside and os.path.isfile(real)


def is_file_dict(value: Any) -> bool:
    """A Gradio file dict: a `path` and `meta` saying `gradio.FileData` (what `handle_file` sends)."""
    if not isinstance(value, dict):
        return False
    meta = value.get("meta")
    return isinstance(meta, dict) and meta.get("_type") == FILE_DATA_TYPE and "path" in value


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder and path != folder
