"""HTTP handlers for models: `GET /v1/models/{owner}/{name}` and one of its versions.

Both carry the input schema generated from the hosted model (`_schemas`), after the scenario
has had its say (`Scenario.served` and `served_schema`: a drifted or unreadable schema); the official client's
`run("owner/name:version")` reads the version this way.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo_app.engine._hosted_models import HOSTED_MODELS, HostedModel, hosted_by_name
from demo_app.engine._problems import not_found
from demo_app.engine._runtime import Runtime
from demo_app.engine._schemas import model_json, openapi_schema, version_json


async def get_model(runtime: Runtime, request: Request) -> Response:
    model = _served(runtime, request)
    return JSONResponse(model_json(model, _schema(runtime, model)))


async def get_model_version(runtime: Runtime, request: Request) -> Response:
    model = _served(runtime, request)
    version = request.path_params["version_id"]
    if version != model.version:
        raise not_found(f"Version {version} of {model.id} was not found.")
    return JSONResponse(version_json(model, _schema(runtime, model)))


def _schema(runtime: Runtime, model: HostedModel) -> Any:
    return runtime.scenario.served_schema(model, openapi_schema(model))


def _served(runtime: Runtime, request: Request) -> HostedModel:
    owner, name = request.path_params["owner"], request.path_params["name"]
    model = hosted_by_name(owner, name)
    if model is None:
        served = ", ".join(HOSTED_MODELS)
        raise not_found(f"Model {owner}/{name} was not found. This engine serves: {served}.")
    return runtime.scenario.served(model)
