"""Turning a prediction's file inputs into local files, the way a Cog worker downloads them.

The engine works offline, so it reads only what it holds itself: files uploaded through
`POST /v1/files` (their `urls.get` or download URL), its own output URLs, and `data:` URLs.
Anything else fails the prediction with an error saying so.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import shutil
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from demo_app.engine._files import FileStore
from demo_app.engine._outputs import OutputState, OutputStore

_FILE_PATH = re.compile(r"^/v1/files/(?P<id>[^/]+)(?:/download)?/?$")
_DELIVERY_PATH = re.compile(r"^/delivery/(?P<token>[^/]+)/(?P<name>[^/]+)$")


class InputUnavailable(Exception):
    """A file input could not be read; `str()` is the prediction's error text."""


def fetch_input(
    field: str, value: str, *, own_host: str, files: FileStore, outputs: OutputStore, dest: Path
) -> Path:
    """Copy input `field` to `dest` (plus a suffix from its type); return the path written."""
    if value.startswith("data:"):
        return _write_data_url(field, value, dest)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or parts.netloc != own_host:
        host = parts.netloc or parts.scheme or "?"
        raise InputUnavailable(
            f"input.{field}: cannot download a file from {host}. The built-in engine works offline and "
            "reads only files uploaded to it (POST /v1/files) or data: URLs."
        )
    if match := _FILE_PATH.match(parts.path):
        stored = files.get(match["id"])
        if stored is None:
            raise InputUnavailable(
                f"input.{field}: the uploaded file was not found; it may have expired. Upload it again."
            )
        return _copy(stored.path, dest, stored.content_type, stored.name)
    if match := _DELIVERY_PATH.match(parts.path):
        state, output = outputs.lookup(match["token"], match["name"])
        if state is not OutputState.LIVE or output is None:
            raise InputUnavailable(f"input.{field}: that output URL has expired or never existed.")
        return _copy(output.path, dest, output.content_type, output.name)
    raise InputUnavailable(f"input.{field}: {parts.path} is not a file URL of this engine.")


def _copy(source: Path, dest: Path, content_type: str, name: str) -> Path:
    target = dest.with_suffix(Path(name).suffix or _suffix(content_type))
    shutil.copyfile(source, target)
    return target


def _write_data_url(field: str, value: str, dest: Path) -> Path:
    header, comma, payload = value[5:].partition(",")
    if not comma:
        raise InputUnavailable(f"input.{field}: the data: URL has no comma before its data.")
    params = header.split(";")
    content_type = params[0] or "text/plain"
    try:
        data = (
            base64.b64decode(payload, validate=True) if "base64" in params[1:] else unquote_to_bytes(payload)
        )
    except (binascii.Error, ValueError) as exc:
        raise InputUnavailable(f"input.{field}: the data: URL is not valid base64.") from exc
    target = dest.with_suffix(_suffix(content_type))
    target.write_bytes(data)
    return target


def _suffix(content_type: str) -> str:
    known = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "image/jpeg": ".jpg"}
    return known.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
