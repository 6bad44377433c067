"""`schema_problem`: every way a live schema can stop fitting the catalog, in Replicate's shape.

The schemas are the engine's own, generated from its hosted fields exactly as Cog emits them
(enum components behind `allOf`, URIs as `format: uri`), then changed the way a new version could.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from demo_app.catalog import CATALOG, UnreadableSchema, get_model, schema_problem
from demo_app.engine import HOSTED_MODELS
from demo_app.engine._scenarios import narrowed, renamed, required
from demo_app.engine._schemas import openapi_schema

WAN = "wan-video/wan-2.2-s2v"
SADTALKER = "cjwbw/sadtalker"
WAV2LIP = "devxpy/cog-wav2lip"


def schema_of(model_id: str) -> dict[str, Any]:
    return openapi_schema(HOSTED_MODELS[model_id])


def props(schema: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = schema["components"]["schemas"]["Input"]["properties"]
    return properties


@pytest.mark.parametrize("model_id", sorted(CATALOG))
def test_every_known_model_fits_the_schema_the_engine_serves(model_id: str) -> None:
    assert schema_problem(CATALOG[model_id], schema_of(model_id)) is None


def test_a_renamed_field_is_named() -> None:
    drifted = openapi_schema(renamed("image", "first_frame")(HOSTED_MODELS[WAN]))
    assert schema_problem(get_model(WAN), drifted) == (
        "Wan 2.2 S2V is unavailable: its current input schema on Replicate no longer has the input "
        "“image” this Space sends."
    )


def test_a_new_required_field_we_do_not_send() -> None:
    drifted = openapi_schema(required("resolution")(HOSTED_MODELS[WAN]))
    assert schema_problem(get_model(WAN), drifted) == (
        "Wan 2.2 S2V is unavailable: its current input schema on Replicate requires an input "
        "“resolution” this Space does not always send."
    )


def test_an_option_left_out_when_blank_may_not_become_required() -> None:
    # The seed is sent only when the visitor sets one; a field we always send may be required.
    seed_required = openapi_schema(required("seed")(HOSTED_MODELS[WAN]))
    assert "“seed”" in (schema_problem(get_model(WAN), seed_required) or "")
    prompt_required = openapi_schema(required("prompt")(HOSTED_MODELS[WAN]))
    assert schema_problem(get_model(WAN), prompt_required) is None


def test_a_narrowed_bound_says_both_ranges() -> None:
    drifted = openapi_schema(narrowed("num_frames_per_chunk", maximum=81)(HOSTED_MODELS[WAN]))
    assert schema_problem(get_model(WAN), drifted) == (
        "Wan 2.2 S2V is unavailable: its current input schema on Replicate accepts "
        "“num_frames_per_chunk” only from 1 to 81, but this Space offers 1 to 121."
    )
    wider = openapi_schema(narrowed("num_frames_per_chunk", minimum=0, maximum=200)(HOSTED_MODELS[WAN]))
    assert schema_problem(get_model(WAN), wider) is None


def test_a_lower_bound_appearing_on_an_unbounded_field() -> None:
    drifted = openapi_schema(narrowed("fps", minimum=10)(HOSTED_MODELS[WAV2LIP]))
    assert "“fps” only from 10 to any, but this Space offers 1 to 60" in (
        schema_problem(CATALOG[WAV2LIP], drifted) or ""
    )


def test_a_choice_dropped_from_the_enum_component() -> None:
    schema = schema_of(SADTALKER)
    schema["components"]["schemas"]["preprocess"]["enum"] = ["crop", "full"]
    assert schema_problem(CATALOG[SADTALKER], schema) == (
        "SadTalker is unavailable: its current input schema on Replicate no longer accepts “resize” "
        "for “preprocess”."
    )


def test_an_inline_enum_with_every_choice_fits() -> None:
    schema = schema_of(SADTALKER)
    props(schema)["enhancer"] = {"type": "string", "enum": ["gfpgan", "RestoreFormer", "codeformer"]}
    assert schema_problem(CATALOG[SADTALKER], schema) is None


@pytest.mark.parametrize(
    ("field", "new_type", "words"),
    [
        ("seed", "string", "expects “seed” to be “string”, not a whole number"),
        ("num_frames_per_chunk", "boolean", "expects “num_frames_per_chunk” to be “boolean”"),
        ("image", "integer", "expects “image” to be “integer”, not a file address"),
        ("prompt", "integer", "expects “prompt” to be “integer”, not text"),
    ],
)
def test_a_changed_type(field: str, new_type: str, words: str) -> None:
    schema = schema_of(WAN)
    props(schema)[field]["type"] = new_type
    assert words in (schema_problem(get_model(WAN), schema) or "")


def test_a_float_option_against_an_integer_field() -> None:
    schema = schema_of(WAV2LIP)
    props(schema)["fps"]["type"] = "integer"
    assert "expects “fps” to be “integer”, not a number" in (schema_problem(CATALOG[WAV2LIP], schema) or "")


def test_text_longer_than_the_schema_allows() -> None:
    schema = schema_of(WAN)
    props(schema)["prompt"]["maxLength"] = 100
    assert "limits “prompt” to 100 characters" in (schema_problem(get_model(WAN), schema) or "")
    props(schema)["prompt"]["maxLength"] = 500
    assert schema_problem(get_model(WAN), schema) is None


def test_nullable_alternatives_are_followed() -> None:
    schema = schema_of(WAN)
    props(schema)["seed"] = {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Seed"}
    assert schema_problem(get_model(WAN), schema) is None
    props(schema)["seed"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert "expects “seed” to be “string”" in (schema_problem(get_model(WAN), schema) or "")


def test_what_the_schema_says_is_quoted_short() -> None:
    schema = schema_of(WAN)
    schema["components"]["schemas"]["Input"]["required"] = ["x" * 10_000]
    reason = schema_problem(get_model(WAN), schema) or ""
    assert len(reason) < 200 and "…" in reason


@pytest.mark.parametrize(
    "garble",
    [
        lambda s: s.pop("components"),
        lambda s: s["components"]["schemas"].pop("Input"),
        lambda s: s["components"]["schemas"]["Input"].update(properties=["image"]),
        lambda s: s["components"]["schemas"]["Input"].update(required="image"),
        lambda s: props(s)["enhancer"].update(allOf=[{"$ref": "https://example.test/x.json"}]),
        lambda s: props(s)["enhancer"].update(allOf=[{"$ref": "#/components/schemas/missing"}]),
        lambda s: props(s).update(still="yes"),
        lambda s: s["components"]["schemas"]["preprocess"].update(enum="crop"),
    ],
)
def test_shapes_it_cannot_follow_are_unreadable_not_a_verdict(garble: Any) -> None:
    schema = copy.deepcopy(schema_of(SADTALKER))
    garble(schema)
    with pytest.raises(UnreadableSchema):
        schema_problem(CATALOG[SADTALKER], schema)


def test_a_reference_loop_is_unreadable() -> None:
    schema = schema_of(SADTALKER)
    schema["components"]["schemas"]["preprocess"] = {"allOf": [{"$ref": "#/components/schemas/preprocess"}]}
    with pytest.raises(UnreadableSchema, match="nests deeper"):
        schema_problem(CATALOG[SADTALKER], schema)
