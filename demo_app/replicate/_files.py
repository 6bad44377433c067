"""The Files API object and `data:` URLs, the two ways a local file becomes a prediction input."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from pydantic import BaseModel, ConfigDict, Field


class FileUrls(BaseModel):
    """`get` is the URL Replicate accepts as a file input."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    get: str


class FileObject(BaseModel):
    """A file uploaded through `POST /v1/files` (it expires; read `expires_at`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str | None = None
    content_type: str
    size: int
    checksums: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
    expires_at: datetime | None = None
    urls: FileUrls


@dataclass(frozen=True)
class FileInput:
    """A local file as a prediction input: `url` goes into `input`; `uploaded` is the Files API
    object behind it (None for a `data:` URL), to delete once the prediction no longer needs it."""

    url: str
    uploaded: FileObject | None = None


def encode_data_url(content: bytes, content_type: str) -> str:
    """`data:<type>;base64,<…>`, for inputs small enough to travel inside the request."""
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


def data_url_size_bound(url: str) -> int:
    """An upper bound of the decoded size, known before decoding anything."""
    _, _, payload = url.partition(",")
    return len(payload) * 3 // 4 + 3 if _is_base64(url) else len(payload)


def decode_data_url(url: str) -> tuple[str, bytes]:
    """(MIME type, bytes) of a `data:` URL; ValueError if it is malformed."""
    if not url.startswith("data:") or "," not in url:
        raise ValueError("not a data: URL")
    header, _, payload = url[5:].partition(",")
    mime = header.split(";", 1)[0].strip() or "text/plain"
    if _is_base64(url):
        try:
            return mime, base64.b64decode(payload, validate=False)
        except binascii.Error as exc:
            raise ValueError("the base64 payload of the data: URL is malformed") from exc
    return mime, unquote_to_bytes(payload)


def _is_base64(url: str) -> bool:
    header = url[5:].partition(",")[0]
    return header.lower().endswith(";base64")
