"""The live estimate shown before Generate: what would be held now, or every reason Generate
cannot run (a picture's, the clip's and the balance's problems together, never one hiding another)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from demo_app import media
from demo_app.catalog import ModelSpec, OptionError, UnknownModel, get_model
from demo_app.credits import Ledger
from demo_app.jobs._choices import InputChoices
from demo_app.jobs._preflight import picture_problems
from demo_app.jobs._types import Problem, Quote
from demo_app.media._errors import limit_text
from demo_app.money import format_credits


async def quote(
    ledger: Ledger,
    workers: media.MediaWorkers,
    cpu_slots: asyncio.Semaphore,
    owner: str,
    model_id: str,
    image_path: str | None,
    audio_path: str | None,
    options: Mapping[str, Any],
    *,
    choices: InputChoices,
    preview_dir: Path,
    max_bytes: int,
) -> Quote:
    """Judges the picture and measures the audio for real (in media workers); never holds
    anything. The options chosen count: a price may follow one (a resolution), and padding may
    follow another; the choices too: the face framed, the part of the clip sent."""
    try:
        spec = get_model(model_id)
        checked = spec.validate_options(options)
    except (UnknownModel, OptionError) as exc:
        return _not_ready([Problem("options", str(exc))])
    problems: list[Problem] = []
    picture, faces_preview = None, None
    if image_path:
        try:
            async with cpu_slots:
                picture = await workers.frame_picture(
                    Path(image_path),
                    preview_dir,
                    min_side=spec.min_image_side,
                    max_side=spec.max_image_side,
                    max_bytes=max_bytes,
                    choice=choices.face_choice(),
                    scope=owner,
                )
                if len(picture.faces) > 1:
                    faces_preview = str(
                        await workers.draw_faces(picture.whole.path, picture.faces, preview_dir)
                    )
        except media.MediaError as exc:
            problems.append(Problem(exc.code, str(exc)))
        else:
            problems += picture_problems(spec, picture)
    clip_s = audio_s = estimate = None
    if audio_path:
        try:
            async with cpu_slots:
                clip_s = await workers.audio_duration(Path(audio_path))
        except media.MediaError as exc:
            problems.append(Problem(exc.code, str(exc)))
        else:
            trim = choices.trim()
            audio_s = clip_s if trim is None else media.trimmed_seconds(clip_s, trim)
            estimate = spec.hold_for(audio_s, checked)
            try:
                media.check_audio_length(audio_s, max_seconds=spec.max_audio_s)
            except media.MediaError as exc:
                problems.append(Problem(exc.code, str(exc)))
    if estimate is not None:
        available = (await ledger.balance(owner)).available
        if available < estimate:
            problems.append(
                Problem(
                    "balance",
                    f"You have {format_credits(available)} available and this needs"
                    f" {format_credits(estimate)}; use a shorter clip or wait for running jobs to finish.",
                )
            )
    missing = _missing(image_path, audio_path)
    if missing:
        problems.append(Problem("missing", missing))
    reason = " ".join(problem.text for problem in problems)
    if problems:
        text = reason
    else:
        assert estimate is not None and audio_s is not None and clip_s is not None
        text = _estimate_text(spec, estimate, audio_s, clip_s, choices)
    return Quote(
        ready=not problems,
        reason=reason,
        estimate=estimate,
        audio_s=audio_s,
        text=text,
        problems=tuple(problems),
        picture=picture,
        faces_preview=faces_preview,
        clip_s=clip_s,
        max_audio_s=spec.max_audio_s,
    )


def _estimate_text(
    spec: ModelSpec, estimate: int, audio_s: float, clip_s: float, choices: InputChoices
) -> str:
    """What is held and for what: the part of the clip sent, against the model's limit."""
    trim = choices.trim()
    part = (
        ""
        if trim is None
        else f" (from {trim[0]:g} s to {min(trim[1], clip_s):g} s of a {clip_s:.1f} s clip)"
    )
    return (
        f"≈ {format_credits(estimate)} for {audio_s:.1f} s of audio{part} — held now, charged only on"
        f" success; {spec.title} takes up to {limit_text(spec.max_audio_s)}."
    )


def _missing(image_path: str | None, audio_path: str | None) -> str | None:
    if not image_path and not audio_path:
        return "Add a face image and an audio clip."
    if not audio_path:
        return "Add an audio clip."
    return None if image_path else "Add a face image."


def _not_ready(problems: list[Problem]) -> Quote:
    reason = " ".join(problem.text for problem in problems)
    return Quote(
        ready=False, reason=reason, estimate=None, audio_s=None, text=reason, problems=tuple(problems)
    )
