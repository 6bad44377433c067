"""The engine's routes as (method, path template) pairs: one name per endpoint.

These are the keys of `Engine.requests`, and what scenarios aim at.
"""

from __future__ import annotations

Route = tuple[str, str]

CREATE_BY_MODEL: Route = ("POST", "/v1/models/{owner}/{name}/predictions")
CREATE_BY_VERSION: Route = ("POST", "/v1/predictions")
LIST_PREDICTIONS: Route = ("GET", "/v1/predictions")
GET_PREDICTION: Route = ("GET", "/v1/predictions/{prediction_id}")
CANCEL_PREDICTION: Route = ("POST", "/v1/predictions/{prediction_id}/cancel")
GET_MODEL: Route = ("GET", "/v1/models/{owner}/{name}")
GET_MODEL_VERSION: Route = ("GET", "/v1/models/{owner}/{name}/versions/{version_id}")
CREATE_FILE: Route = ("POST", "/v1/files")
LIST_FILES: Route = ("GET", "/v1/files")
GET_FILE: Route = ("GET", "/v1/files/{file_id}")
DELETE_FILE: Route = ("DELETE", "/v1/files/{file_id}")
DOWNLOAD_FILE: Route = ("GET", "/v1/files/{file_id}/download")
GET_OUTPUT: Route = ("GET", "/delivery/{token}/{name}")
WEB_PAGE: Route = ("GET", "/p/{prediction_id}")
WEBHOOK_SECRET: Route = ("GET", "/v1/webhooks/default/secret")
ENGINE_STATS: Route = ("GET", "/_engine/stats")
"""The engine's own diagnostics (not Replicate's API): see `_stats`."""

CREATES = frozenset({CREATE_BY_MODEL, CREATE_BY_VERSION})
MODEL_READS = frozenset({GET_MODEL, GET_MODEL_VERSION})
"""The schema reads (the app makes them at start and on each recheck, never for a job)."""
