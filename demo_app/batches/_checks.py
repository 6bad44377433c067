"""Every item of a batch checked before anything is held: the model and options once, then each
face and clip decoded and measured for real (in the media workers), then the whole estimate
against the balance. The first problem refuses the whole batch with its item's number.

Nothing here writes anywhere the batch keeps: a face is converted into a scratch folder that is
removed at once (the job converts its own copy when it starts).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo_app import media
from demo_app.batches._types import BatchRefused
from demo_app.catalog import ModelSpec, OptionError, UnknownModel, get_model
from demo_app.money import format_credits
from demo_app.storage import remove_tree

MAX_ITEMS = 20
"""Items in one batch, at most."""
CHECKS_AT_ONCE = 2
"""Media checks of one batch at once: they share the cores with every other visitor."""


@dataclass(frozen=True)
class Pair:
    """One face and one clip, as paths to files the caller uploaded; `clip` names the clip for showing."""

    image: str
    audio: str
    clip: str


@dataclass(frozen=True)
class Checked:
    """A batch that passed its checks: the model, its options with defaults, what each item holds."""

    spec: ModelSpec
    options: dict[str, Any]
    estimates: list[int]


def pairs_of(images: Sequence[str], audios: Sequence[str], clips: Sequence[str]) -> list[Pair]:
    """One face for every clip, or one face per clip; at least one and at most `MAX_ITEMS` clips."""
    if not audios:
        raise BatchRefused("Add at least one audio clip.")
    if len(audios) > MAX_ITEMS:
        raise BatchRefused(
            f"A batch takes at most {MAX_ITEMS} clips; you sent {len(audios)}. Split it in two."
        )
    if len(images) == 1:
        images = list(images) * len(audios)
    elif len(images) != len(audios):
        raise BatchRefused(
            f"Send one face for all the clips, or one face per clip; you sent {len(images)} faces "
            f"for {len(audios)} clips."
        )
    return [Pair(image, audio, clip) for image, audio, clip in zip(images, audios, clips, strict=True)]


async def check_batch(
    workers: media.MediaWorkers,
    pairs: Sequence[Pair],
    model_id: str,
    options: dict[str, Any],
    *,
    unavailable: Callable[[str], str | None],
    max_bytes: int,
    available: int,
) -> Checked:
    """The batch checked end to end (a `BatchRefused` names the first bad item), without holding."""
    try:
        spec = get_model(model_id)
        checked = spec.validate_options(options)
    except (UnknownModel, OptionError) as exc:
        raise BatchRefused(str(exc)) from None
    reason = unavailable(model_id)
    if reason is not None:
        raise BatchRefused(reason)
    slots = asyncio.Semaphore(CHECKS_AT_ONCE)
    faces = list(dict.fromkeys(pair.image for pair in pairs))
    problems = await asyncio.gather(*(_face_problem(workers, slots, spec, face, max_bytes) for face in faces))
    face_problems = dict(zip(faces, problems, strict=True))
    lengths = await asyncio.gather(*(_clip_length(workers, slots, spec, p.audio, max_bytes) for p in pairs))
    for number, (pair, length) in enumerate(zip(pairs, lengths, strict=True), start=1):
        problem = face_problems[pair.image] or (length if isinstance(length, str) else None)
        if problem is not None:
            raise BatchRefused(f"Item {number} ({pair.clip}): {problem}")
    estimates = [spec.hold_for(float(length), checked) for length in lengths]
    total = sum(estimates)
    if total > available:
        raise BatchRefused(
            f"These {len(pairs)} clips need up to {format_credits(total)} and you have "
            f"{format_credits(available)} available; send fewer or shorter clips."
        )
    return Checked(spec, checked, estimates)


async def _face_problem(
    workers: media.MediaWorkers, slots: asyncio.Semaphore, spec: ModelSpec, path: str, max_bytes: int
) -> str | None:
    """Why this face cannot go to the model, or None (converted in a scratch folder, then dropped)."""
    scratch = Path(tempfile.mkdtemp(prefix="batch-face-"))
    try:
        async with slots:
            image = await workers.prepare_image(
                Path(path),
                scratch,
                min_side=spec.min_image_side,
                max_side=spec.max_image_side,
                max_bytes=max_bytes,
            )
        return spec.image_problem(image.width, image.height, image.path.stat().st_size)
    except media.MediaError as exc:
        return str(exc)
    finally:
        await remove_tree(scratch)


async def _clip_length(
    workers: media.MediaWorkers, slots: asyncio.Semaphore, spec: ModelSpec, path: str, max_bytes: int
) -> float | str:
    """The clip's seconds, or why it cannot go to the model."""
    try:
        if await asyncio.to_thread(os.path.getsize, path) > max_bytes:
            return (
                f"The clip is larger than {max_bytes // (1024 * 1024)} MB; send a shorter or compressed one."
            )
        async with slots:
            seconds = await workers.audio_duration(Path(path))
        media.check_audio_length(seconds, max_seconds=spec.max_audio_s)
    except OSError:
        return "The clip could not be read; upload it again."
    except media.MediaError as exc:
        return str(exc)
    return seconds
