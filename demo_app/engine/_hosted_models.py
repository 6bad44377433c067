"""The models the engine serves as Replicate hosts them, with each one's real input fields.

This is Replicate's side, not our catalog (`demo_app.catalog`): the two are kept apart on
purpose and tied by a contract test (everything the catalog may send, this table accepts).

Field names, types, defaults and bounds are taken from each model's version page on
replicate.com (the input schema) or, for the models added later, from the public readings quoted
in issue #11 (read 2026-11-30, unconfirmed on replicate.com). Where no reading shows whether a
field is required, only the image and audio are treated as required; that choice is marked
below. Official models hide their version ids; the ids given to them here are the engine's own.
Validation answers like Replicate's 422 (`invalid_fields` of gojsonschema-style types and
descriptions: `required`, `invalid_type`, `number_gte`, `number_lte`, `enum`, `format`).
Fields a model does not know are ignored, as Cog ignores them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

FieldKind = Literal["uri", "string", "integer", "number", "boolean"]

DEFAULT_FPS = 25
DEFAULT_MAX_SIDE = 512


@dataclass(frozen=True)
class InputField:
    """One input of a model, as its OpenAPI input schema describes it."""

    name: str
    kind: FieldKind
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvalidField:
    """One entry of a 422's `invalid_fields`."""

    type: str
    field: str
    description: str


@dataclass(frozen=True)
class RenderOptions:
    """What the renderer takes from a model's input."""

    fps: int = DEFAULT_FPS
    max_side: int = DEFAULT_MAX_SIDE


@dataclass(frozen=True)
class HostedModel:
    """A model the engine answers for."""

    owner: str
    name: str
    version: str
    """The 64-hex version id; official models report `"hidden"` instead."""
    official: bool
    """Official models are run at /v1/models/{owner}/{name}/predictions without a version."""
    fields: tuple[InputField, ...]
    image_field: str
    audio_field: str
    output_fps: int | None = None
    chunk_field: str | None = None
    """The input giving frames per generated chunk: the model pads its video to whole chunks."""
    max_file_bytes: tuple[tuple[str, int], ...] = ()
    """(field, bytes): file inputs the model refuses above a size (its prediction fails)."""

    def oversized(self, field: str, size: int) -> str | None:
        """The prediction's error when file input `field` of `size` bytes is too large, or None."""
        limit = dict(self.max_file_bytes).get(field)
        if limit is None or size <= limit:
            return None
        return f"input.{field}: the file is {size:,} bytes; this model takes at most {limit:,} bytes."

    @property
    def id(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def reported_version(self) -> str:
        return "hidden" if self.official else self.version

    def padded_duration_s(self, values: Mapping[str, Any], audio_s: float) -> float:
        """How long the video of a chunked model is for `audio_s` of audio: whole chunks."""
        if self.chunk_field is None or self.output_fps is None:
            return audio_s
        chunk = max(1, int(values.get(self.chunk_field) or 1))
        frames = math.ceil(audio_s * self.output_fps - 1e-9)
        return math.ceil(frames / chunk) * chunk / self.output_fps

    def render_options(self, values: Mapping[str, Any]) -> RenderOptions:
        """Map the model's own knobs onto the renderer's (only cog-wav2lip has any)."""
        fps = values.get("fps", DEFAULT_FPS)
        factor = values.get("resize_factor", 1)
        fps = min(60, max(1, round(fps)))
        factor = max(1, int(factor))
        return RenderOptions(fps=fps, max_side=max(64, DEFAULT_MAX_SIDE // factor))


def _uri(name: str) -> InputField:
    return InputField(name, "uri", required=True)


def _engine_version(model_id: str) -> str:
    """A stable 64-hex version id of the engine's own, for an official model whose id is hidden."""
    return hashlib.sha256(f"lipsync-engine:{model_id}".encode()).hexdigest()


HOSTED_MODELS: dict[str, HostedModel] = {
    m.id: m
    for m in (
        HostedModel(
            owner="wan-video",
            name="wan-2.2-s2v",
            version="09607e6e761d2f015b0d740f938ec59199f54aa623384465a5054b230405acf4",
            official=True,
            fields=(
                InputField("prompt", "string", required=True),  # required: two readings of issue #11
                _uri("image"),
                _uri("audio"),
                InputField("num_frames_per_chunk", "integer", default=81, minimum=1, maximum=121),
                InputField("seed", "integer"),
            ),
            image_field="image",
            audio_field="audio",
            output_fps=16,
            chunk_field="num_frames_per_chunk",
        ),
        HostedModel(
            owner="bytedance",
            name="omni-human",
            version="995b21f1d52efebc4af957713ae8b0d72f118dfcb67cb45730ffa9257c48cf72",
            official=True,
            fields=(_uri("image"), _uri("audio")),
            image_field="image",
            audio_field="audio",
        ),
        HostedModel(
            owner="bytedance",
            name="omni-human-1.5",
            version=_engine_version("bytedance/omni-human-1.5"),
            official=True,
            fields=(
                _uri("image"),
                _uri("audio"),
                InputField("prompt", "string"),
                InputField("seed", "integer"),
                InputField("fast_mode", "boolean"),
            ),
            image_field="image",
            audio_field="audio",
        ),
        HostedModel(
            owner="kwaivgi",
            name="kling-avatar-v2",
            version=_engine_version("kwaivgi/kling-avatar-v2"),
            official=True,
            fields=(
                _uri("image"),
                _uri("audio"),
                InputField("prompt", "string"),
                InputField("mode", "string", default="std", choices=("std", "pro")),
            ),
            image_field="image",
            audio_field="audio",
            max_file_bytes=(("image", 10 * 1024 * 1024), ("audio", 5 * 1024 * 1024)),
        ),
        HostedModel(
            owner="prunaai",
            name="p-video-avatar",
            version=_engine_version("prunaai/p-video-avatar"),
            official=True,
            fields=(
                _uri("image"),
                _uri("audio"),
                InputField("video_prompt", "string"),
                InputField("resolution", "string", default="720p", choices=("720p", "1080p")),
                InputField("seed", "integer"),
            ),
            image_field="image",
            audio_field="audio",
        ),
        HostedModel(
            owner="veed",
            name="fabric-1.0",
            version=_engine_version("veed/fabric-1.0"),
            official=True,
            fields=(
                _uri("image"),
                _uri("audio"),
                InputField("resolution", "string", default="480p", choices=("480p", "720p")),
            ),
            image_field="image",
            audio_field="audio",
        ),
        HostedModel(
            owner="cjwbw",
            name="sadtalker",
            version="3aa3dac9353cc4d6bd62a8f95957bd844003b401ca4e4a9b33baa574c549d376",
            official=False,
            fields=(
                _uri("source_image"),
                _uri("driven_audio"),
                InputField("enhancer", "string", default="gfpgan", choices=("gfpgan", "RestoreFormer")),
                InputField("preprocess", "string", default="full", choices=("crop", "resize", "full")),
                InputField("still", "boolean", default=True),
            ),
            image_field="source_image",
            audio_field="driven_audio",
        ),
        HostedModel(
            owner="devxpy",
            name="cog-wav2lip",
            version="f3bd0cb5538aa0c47a58f3408b233d6cea61bc939f1b256a0e065b4bd11fdd20",
            official=False,
            fields=(
                _uri("face"),
                _uri("audio"),
                InputField("pads", "string", default="0 10 0 0"),
                InputField("smooth", "boolean", default=True),
                InputField("fps", "number", default=25),
                InputField("resize_factor", "integer", default=1),
                InputField("face_det_batch_size", "integer", default=16),
                InputField("wav2lip_batch_size", "integer", default=128),
            ),
            image_field="face",
            audio_field="audio",
        ),
    )
}


def hosted_by_name(owner: str, name: str) -> HostedModel | None:
    return HOSTED_MODELS.get(f"{owner}/{name}")


def hosted_by_version(ref: str) -> HostedModel | None:
    """Resolve a `version` body field: a version id, `owner/name:id`, or `owner/name` (official only)."""
    name, _, version = ref.partition(":")
    if "/" not in name:
        return next((m for m in HOSTED_MODELS.values() if m.version == ref), None)
    model = HOSTED_MODELS.get(name)
    if model is None:
        return None
    if version:
        return model if version == model.version else None
    return model if model.official else None


def validate_input(
    model: HostedModel, values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[InvalidField]]:
    """The input with defaults filled in, and every problem found (empty when valid)."""
    problems: list[InvalidField] = []
    cleaned: dict[str, Any] = dict(values)
    for spec in model.fields:
        path = f"input.{spec.name}"
        if spec.name not in values or values[spec.name] is None:
            if spec.required:
                problems.append(InvalidField("required", path, f"{spec.name} is required"))
            elif spec.default is not None:
                cleaned[spec.name] = spec.default
            continue
        value, problem = _check(spec, values[spec.name])
        if problem is not None:
            problems.append(InvalidField(problem[0], path, problem[1]))
        else:
            cleaned[spec.name] = value
    return cleaned, problems


def problem_detail(problems: list[InvalidField]) -> str:
    """Replicate's 422 `detail`: one `- field: description` line per problem."""
    return "".join(f"- {p.field}: {p.description}\n" for p in problems)


def _check(spec: InputField, value: Any) -> tuple[Any, tuple[str, str] | None]:
    given = _json_type(value)
    expected = "string" if spec.kind == "uri" else spec.kind
    if spec.kind in ("integer", "number") and given == "integer":
        value = int(value)
    elif not (given == expected or (expected == "number" and given == "integer")):
        return value, ("invalid_type", f"Invalid type. Expected: {expected}, given: {given}")
    if spec.kind == "uri" and not _is_absolute_uri(value):
        return value, ("format", "Does not match format 'uri'")
    if spec.minimum is not None and value < spec.minimum:
        return value, ("number_gte", f"Must be greater than or equal to {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        return value, ("number_lte", f"Must be less than or equal to {spec.maximum:g}")
    if spec.choices and value not in spec.choices:
        allowed = ", ".join(f'"{c}"' for c in spec.choices)
        return value, ("enum", f"{spec.name} must be one of the following: {allowed}")
    return value, None


def _json_type(value: Any) -> str:
    """The JSON type name gojsonschema reports (an integral float counts as an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _is_absolute_uri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme == "data")
