"""A hosted model's OpenAPI schema, in the shape Replicate serves it (Cog's generated schema).

Generated from the model's `InputField`s, so every model in the table has one and it always
agrees with what `validate_input` accepts. As Cog emits them: URIs are strings with
`format: uri`; choices are an enum component referenced through `allOf`; the properties carry
`title` and `x-order`; `required` lists only the required fields. The model and version bodies
around it follow `GET /v1/models/{owner}/{name}` and `.../versions/{id}`.
"""

from __future__ import annotations

from typing import Any

from demo_app.engine._hosted_models import HostedModel, InputField

COG_VERSION = "0.9.4"
VERSION_CREATED_AT = "2025-08-26T12:00:00.000000Z"
"""The engine has one version per model; its date is fixed, not meaningful."""


def openapi_schema(model: HostedModel) -> dict[str, Any]:
    """The version's `openapi_schema`: its Input (with enum components) and a URI Output."""
    properties: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for order, field in enumerate(model.fields):
        properties[field.name] = _property(field, order)
        if field.choices:
            components[field.name] = {
                "enum": list(field.choices),
                "type": "string" if field.kind == "uri" else field.kind,
                "title": field.name,
                "description": "An enumeration.",
            }
    input_schema: dict[str, Any] = {"type": "object", "title": "Input", "properties": properties}
    required = [field.name for field in model.fields if field.required]
    if required:
        input_schema["required"] = required
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {
            "schemas": {
                "Input": input_schema,
                "Output": {"type": "string", "title": "Output", "format": "uri"},
                **components,
            }
        },
    }


def version_json(model: HostedModel, schema: Any) -> dict[str, Any]:
    """`GET /v1/models/{owner}/{name}/versions/{id}`, carrying `schema` (normally `openapi_schema`)."""
    return {
        "id": model.version,
        "created_at": VERSION_CREATED_AT,
        "cog_version": COG_VERSION,
        "openapi_schema": schema,
    }


def model_json(model: HostedModel, schema: Any) -> dict[str, Any]:
    """`GET /v1/models/{owner}/{name}`: the model with its latest (the engine's only) version."""
    return {
        "url": f"https://replicate.com/{model.id}",
        "owner": model.owner,
        "name": model.name,
        "description": None,
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": 0,
        "cover_image_url": None,
        "default_example": None,
        "is_official": model.official,
        "latest_version": version_json(model, schema),
    }


def _property(field: InputField, order: int) -> dict[str, Any]:
    prop: dict[str, Any] = {"title": field.name.replace("_", " ").title(), "x-order": order}
    if field.choices:
        prop["allOf"] = [{"$ref": f"#/components/schemas/{field.name}"}]
    elif field.kind == "uri":
        prop.update(type="string", format="uri")
    else:
        prop["type"] = field.kind
    if field.default is not None:
        prop["default"] = field.default
    if field.minimum is not None:
        prop["minimum"] = field.minimum
    if field.maximum is not None:
        prop["maximum"] = field.maximum
    return prop
