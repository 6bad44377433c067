"""The model table: real field names, version references, and Replicate-shaped validation."""

from __future__ import annotations

from typing import Any

import pytest

from demo_app.engine._hosted_models import (
    HOSTED_MODELS,
    InvalidField,
    RenderOptions,
    hosted_by_name,
    hosted_by_version,
    problem_detail,
    validate_input,
)

WAN = HOSTED_MODELS["wan-video/wan-2.2-s2v"]
SADTALKER = HOSTED_MODELS["cjwbw/sadtalker"]
WAV2LIP = HOSTED_MODELS["devxpy/cog-wav2lip"]
URL = "http://engine.internal/v1/files/abc"


def test_the_models_with_their_media_fields() -> None:
    assert {m: (d.image_field, d.audio_field, d.official) for m, d in HOSTED_MODELS.items()} == {
        "wan-video/wan-2.2-s2v": ("image", "audio", True),
        "bytedance/omni-human": ("image", "audio", True),
        "bytedance/omni-human-1.5": ("image", "audio", True),
        "kwaivgi/kling-avatar-v2": ("image", "audio", True),
        "prunaai/p-video-avatar": ("image", "audio", True),
        "veed/fabric-1.0": ("image", "audio", True),
        "cjwbw/sadtalker": ("source_image", "driven_audio", False),
        "devxpy/cog-wav2lip": ("face", "audio", False),
    }
    assert [f.name for f in WAN.fields] == ["prompt", "image", "audio", "num_frames_per_chunk", "seed"]
    assert [f.name for f in SADTALKER.fields] == [
        "source_image",
        "driven_audio",
        "enhancer",
        "preprocess",
        "still",
    ]


def test_official_models_report_a_hidden_version() -> None:
    assert WAN.reported_version == "hidden"
    assert SADTALKER.reported_version == SADTALKER.version and len(SADTALKER.version) == 64


@pytest.mark.parametrize(
    ("ref", "model"),
    [
        (SADTALKER.version, "cjwbw/sadtalker"),
        (f"cjwbw/sadtalker:{SADTALKER.version}", "cjwbw/sadtalker"),
        ("wan-video/wan-2.2-s2v", "wan-video/wan-2.2-s2v"),
        (WAN.version, "wan-video/wan-2.2-s2v"),
        ("cjwbw/sadtalker", None),  # not official: needs its version
        (f"cjwbw/sadtalker:{WAV2LIP.version}", None),  # another model's version
        ("0" * 64, None),
        ("nobody/nothing", None),
    ],
)
def test_version_references(ref: str, model: str | None) -> None:
    found = hosted_by_version(ref)
    assert (found.id if found else None) == model


def test_find_model_by_owner_and_name() -> None:
    assert hosted_by_name("bytedance", "omni-human") is HOSTED_MODELS["bytedance/omni-human"]
    assert hosted_by_name("bytedance", "omni") is None


def test_valid_input_gets_defaults_and_keeps_unknown_fields() -> None:
    given = {"prompt": "p", "image": URL, "audio": "data:audio/wav;base64,AAAA", "extra": 1}
    cleaned, problems = validate_input(WAN, given)
    assert problems == []
    assert cleaned == {
        "prompt": "p",
        "image": URL,
        "audio": "data:audio/wav;base64,AAAA",
        "num_frames_per_chunk": 81,
        "extra": 1,
    }


def test_missing_fields_are_reported_as_replicate_does() -> None:
    _, problems = validate_input(SADTALKER, {"enhancer": "gfpgan"})
    assert problems == [
        InvalidField("required", "input.source_image", "source_image is required"),
        InvalidField("required", "input.driven_audio", "driven_audio is required"),
    ]
    assert problem_detail(problems) == (
        "- input.source_image: source_image is required\n- input.driven_audio: driven_audio is required\n"
    )


CHUNK = "num_frames_per_chunk"


@pytest.mark.parametrize(
    ("values", "kind", "field", "description"),
    [
        ({CHUNK: 0}, "number_gte", CHUNK, "Must be greater than or equal to 1"),
        ({CHUNK: 122}, "number_lte", CHUNK, "Must be less than or equal to 121"),
        ({CHUNK: "81"}, "invalid_type", CHUNK, "Invalid type. Expected: integer, given: string"),
        ({CHUNK: 8.5}, "invalid_type", CHUNK, "Invalid type. Expected: integer, given: number"),
        ({"seed": True}, "invalid_type", "seed", "Invalid type. Expected: integer, given: boolean"),
        ({"prompt": ["a"]}, "invalid_type", "prompt", "Invalid type. Expected: string, given: array"),
        ({"image": "face.png"}, "format", "image", "Does not match format 'uri'"),
        ({"image": 7}, "invalid_type", "image", "Invalid type. Expected: string, given: integer"),
    ],
)
def test_wrong_and_out_of_bounds_values(
    values: dict[str, Any], kind: str, field: str, description: str
) -> None:
    _, problems = validate_input(WAN, {"prompt": "p", "image": URL, "audio": URL, **values})
    assert problems == [InvalidField(kind, f"input.{field}", description)]


def test_choices_are_enforced() -> None:
    _, problems = validate_input(SADTALKER, {"source_image": URL, "driven_audio": URL, "preprocess": "zoom"})
    assert problems == [
        InvalidField(
            "enum", "input.preprocess", 'preprocess must be one of the following: "crop", "resize", "full"'
        )
    ]


def test_integral_floats_count_as_integers() -> None:
    values = {"prompt": "p", "image": URL, "audio": URL, "num_frames_per_chunk": 81.0}
    cleaned, problems = validate_input(WAN, values)
    assert problems == [] and cleaned["num_frames_per_chunk"] == 81


def test_wav2lip_knobs_reach_the_renderer() -> None:
    cleaned, _ = validate_input(WAV2LIP, {"face": URL, "audio": URL, "fps": 12.4, "resize_factor": 2})
    assert WAV2LIP.render_options(cleaned) == RenderOptions(fps=12, max_side=256)
    assert WAN.render_options(validate_input(WAN, {"image": URL, "audio": URL})[0]) == RenderOptions(25, 512)
