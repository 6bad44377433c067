"""Our catalog against the engine's table of hosted models: whatever the catalog may send, the engine takes.

The two tables stay apart on purpose (the catalog is what we offer and charge for; the engine
models what Replicate hosts), so this is what ties them: for every catalog model, the id and
the endpoint/version it is called by, its media fields, the names, types and bounds of its
options, and every edge value a visitor may pick must be accepted by the engine's model — first
by its input schema directly, then over HTTP through our own client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from demo_app.catalog import CATALOG, ModelSpec, OptionSpec
from demo_app.engine import HOSTED_MODELS, Engine, HostedModel, validate_input
from demo_app.engine._hosted_models import InputField, hosted_by_name, hosted_by_version
from demo_app.replicate import ReplicateClient, Status
from tests.conftest import ENGINE_TOKEN, EngineFactory

FILE_URL = f"{Engine.base_url}/v1/files/contract"
"""Any absolute URI passes the schema; under the `stall` scenario no file is ever fetched."""

FIELD_KIND = {"int": "integer", "float": "number", "bool": "boolean", "choice": "string", "text": "string"}
"""The JSON type each catalog option kind is sent as."""

SPECS = pytest.mark.parametrize("spec", list(CATALOG.values()), ids=list(CATALOG))


def hosted(spec: ModelSpec) -> HostedModel:
    model = HOSTED_MODELS.get(spec.id)
    assert model is not None, f"the engine does not host {spec.id}"
    return model


def fields(model: HostedModel) -> dict[str, InputField]:
    return {field.name: field for field in model.fields}


def edge_values(option: OptionSpec) -> list[Any]:
    """The values of `option` most likely to be refused: its bounds, every choice, both switches."""
    if option.kind == "bool":
        return [True, False]
    if option.kind == "choice":
        return list(option.choices)
    if option.kind == "text":
        longest = [] if option.pattern or option.max_length is None else ["x" * option.max_length]
        return [option.default, *longest]
    assert option.minimum is not None and option.maximum is not None
    values: list[Any] = [option.minimum, option.maximum]
    if option.kind == "float" and option.minimum + 0.5 <= option.maximum:
        values.append(option.minimum + 0.5)  # a fractional value: still a JSON number
    return values


def edge_inputs(spec: ModelSpec) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(options, prediction input as sent over JSON): the defaults, then each option at each edge."""
    choices: list[dict[str, Any]] = [{}]
    choices += [{option.name: value} for option in spec.options for value in edge_values(option)]
    for options in choices:
        yield options, json.loads(json.dumps(spec.build_input(FILE_URL, FILE_URL, options)))


@SPECS
def test_every_catalog_model_is_hosted_under_the_endpoint_we_call(spec: ModelSpec) -> None:
    model = hosted(spec)
    assert model.official == (spec.endpoint == "model")
    target = spec.prediction_target()
    if "version" in target:
        assert target["version"] == model.version
        assert hosted_by_version(target["version"]) is model
    else:
        owner, name = target["model"].split("/")
        assert hosted_by_name(owner, name) is model


@SPECS
def test_every_required_input_is_always_sent(spec: ModelSpec) -> None:
    """The media fields are required URIs; any other required field (Wan's prompt) is sent with
    every input the catalog builds, a blank prompt included."""
    model = hosted(spec)
    assert (spec.image_field, spec.audio_field) == (model.image_field, model.audio_field)
    by_name = fields(model)
    for name in (spec.image_field, spec.audio_field):
        assert by_name[name].kind == "uri" and by_name[name].required
    required = {field.name for field in model.fields if field.required}
    blank = {spec.prompt_field: "  "} if spec.prompt_field else {}
    for options, model_input in [*edge_inputs(spec), (blank, spec.build_input(FILE_URL, FILE_URL, blank))]:
        missing = {name for name in required if model_input.get(name) in (None, "")}
        assert not missing, (options, missing)


@SPECS
def test_every_option_is_a_hosted_field_of_its_type_within_its_bounds(spec: ModelSpec) -> None:
    by_name = fields(hosted(spec))
    for option in spec.options:
        field = by_name.get(option.name)
        assert field is not None, f"{spec.id} has no input field {option.name!r}"
        assert field.kind == FIELD_KIND[option.kind] or (field.kind, option.kind) == ("number", "int")
        if field.choices:
            assert option.kind == "choice" and set(option.choices) <= set(field.choices), option.name
        if field.minimum is not None:
            assert option.minimum is not None and option.minimum >= field.minimum, option.name
        if field.maximum is not None:
            assert option.maximum is not None and option.maximum <= field.maximum, option.name


@SPECS
def test_every_edge_value_the_catalog_may_send_passes_the_hosted_schema(spec: ModelSpec) -> None:
    model = hosted(spec)
    for options, model_input in edge_inputs(spec):
        cleaned, problems = validate_input(model, model_input)
        assert problems == [], (options, problems)
        assert {name: cleaned[name] for name in model_input} == model_input


@SPECS
async def test_every_edge_value_is_accepted_over_http(engine_factory: EngineFactory, spec: ModelSpec) -> None:
    """Through our client and the engine's routes: each create is a 201, canceled right away."""
    engine = await engine_factory("stall")
    client = ReplicateClient(Engine.base_url, ENGINE_TOKEN, transport=engine.transport())
    try:
        for options, model_input in edge_inputs(spec):
            created = await client.create_prediction(**spec.prediction_target(), input=model_input)
            assert created.status is Status.STARTING, options
            assert created.model == spec.id and created.input == model_input
            await client.cancel_prediction(created.id)
    finally:
        await client.aclose()
