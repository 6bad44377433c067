"""A prediction's `output` as a flat list of file URLs, whatever JSON shape the model returns.

Seen in the wild: one URL string, a list of URLs, an object of named URLs, a list of objects
(`[{"file": url}]`), `data:` URIs (sync mode), and plain text or token lists (no files at all).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

_URL_PREFIXES = ("https://", "http://", "data:")
_VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi"})


def output_urls(output: Any) -> list[str]:
    """Every URL in `output`, in order, without duplicates; text that is not a URL is left out."""
    seen: dict[str, None] = {}
    for value in _strings(output):
        if value.startswith(_URL_PREFIXES):
            seen.setdefault(value, None)
    return list(seen)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value.strip()
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def pick_video(urls: list[str]) -> str | None:
    """The first URL that is a video, judged by the path's extension or the `data:` MIME type."""
    for url in urls:
        if url.startswith("data:"):
            mime = url[5:].split(",", 1)[0].split(";", 1)[0].strip().lower()
            if mime.startswith("video/"):
                return url
            continue
        path = urlsplit(url).path.lower()
        dot = path.rfind(".")
        if dot != -1 and path[dot:] in _VIDEO_EXTENSIONS:
            return url
        guessed, _ = mimetypes.guess_type(path)
        if guessed is not None and guessed.startswith("video/"):
            return url
    return None
