"""Judging a comparison before any of it starts: a problem with any member refuses all of them.

Each model must be offered and available, and the face and voice must suit every model: the
picture is checked once against the strictest of their limits, the clip's length against each
model's own. What each member will hold follows from the clip's length, so the sum can be
checked against the balance before anything is held.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo_app import media
from demo_app.catalog import ModelSpec, OptionError, UnknownModel, get_model
from demo_app.jobs._refusals import BadOptions, JobRefused, ModelNotOffered, ModelUnavailable
from demo_app.storage import remove_tree


@dataclass(frozen=True)
class Member:
    """One model of a comparison, checked: its options (its defaults) and what it will hold."""

    spec: ModelSpec
    options: dict[str, Any]
    hold: int


def members_of(model_ids: Sequence[str], unavailable: Callable[[str], str | None]) -> list[ModelSpec]:
    """The models' specs, each offered and available now (else the refusal that says which)."""
    specs = []
    for model_id in model_ids:
        try:
            spec = get_model(model_id)
        except UnknownModel as exc:
            raise ModelNotOffered(model_id, str(exc)) from None
        reason = unavailable(model_id)
        if reason is not None:
            raise ModelUnavailable(model_id, reason)
        specs.append(spec)
    return specs


async def judge_inputs(
    specs: Sequence[ModelSpec],
    workers: media.MediaWorkers,
    cpu_slots: asyncio.Semaphore,
    image_path: str,
    audio_path: str,
    *,
    max_bytes: int,
) -> list[Member]:
    """Every member with what it will hold, once the picture and the clip suit every model."""
    try:
        async with cpu_slots:
            audio_s = await workers.audio_duration(Path(audio_path))
        for spec in specs:
            try:
                media.check_audio_length(audio_s, max_seconds=spec.max_audio_s)
            except media.MediaError as exc:
                raise JobRefused(str(exc).replace("this model", spec.title)) from None
        await _judge_picture(specs, workers, cpu_slots, Path(image_path), max_bytes)
    except media.MediaError as exc:
        raise JobRefused(str(exc)) from None
    members = []
    for spec in specs:
        try:
            options = spec.validate_options({})
        except OptionError as exc:
            raise BadOptions(str(exc)) from None
        members.append(Member(spec, options, spec.hold_for(audio_s, options)))
    return members


async def _judge_picture(
    specs: Sequence[ModelSpec],
    workers: media.MediaWorkers,
    cpu_slots: asyncio.Semaphore,
    src: Path,
    max_bytes: int,
) -> None:
    """Prepare the picture once as the strictest model would take it; each model then judges it."""
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="lipsync-compare-"))
    try:
        async with cpu_slots:
            image = await workers.prepare_image(
                src,
                folder,
                min_side=max(spec.min_image_side for spec in specs),
                max_side=min(spec.max_image_side for spec in specs),
                max_bytes=max_bytes,
            )
        size = image.path.stat().st_size
        for spec in specs:
            problem = spec.image_problem(image.width, image.height, size)
            if problem is not None:
                raise JobRefused(problem)
    finally:
        await remove_tree(folder)
