"""A model and a model version as `GET /v1/models/...` return them: the input schema's carriers.

Only what the app reads is kept (the ids and `openapi_schema`); everything else a real body
carries (`default_example`, `cover_image_url`, counts) is ignored. `openapi_schema` must be a
JSON object or null: anything else is a response this client does not understand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_MODEL_BYTES = 4 * 1024 * 1024
"""Largest model or version body read: real ones (schema plus a default example) are tens of KB."""


class ModelVersion(BaseModel):
    """One version of a model; `openapi_schema` describes its input and output."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(max_length=200)
    created_at: datetime | None = None
    cog_version: str | None = Field(default=None, max_length=200)
    openapi_schema: dict[str, Any] | None = None


class ModelInfo(BaseModel):
    """A model; official models run their `latest_version`, whose id may be hidden."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    owner: str = Field(max_length=200)
    name: str = Field(max_length=200)
    latest_version: ModelVersion | None = None
