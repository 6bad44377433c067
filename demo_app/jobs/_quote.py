"""The live estimate shown before Generate: what would be held now, or why Generate cannot run."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from demo_app import media
from demo_app.catalog import OptionError, UnknownModel, get_model
from demo_app.credits import Ledger
from demo_app.jobs._types import Quote
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
) -> Quote:
    """Measures the audio for real (in a media worker); never holds anything. The options
    chosen count: a price may follow one (a resolution), and padding may follow another."""
    try:
        spec = get_model(model_id)
        checked = spec.validate_options(options)
    except (UnknownModel, OptionError) as exc:
        return _not_ready(str(exc))
    if not audio_path:
        return _not_ready("Add an audio clip." if image_path else "Add a face image and an audio clip.")
    try:
        async with cpu_slots:
            audio_s = await workers.audio_duration(Path(audio_path))
    except media.MediaError as exc:
        return _not_ready(str(exc))
    estimate = spec.hold_for(audio_s, checked)
    text = f"≈ {format_credits(estimate)} for {audio_s:.1f} s of audio — held now, charged only on success"
    try:
        media.check_audio_length(audio_s, max_seconds=spec.max_audio_s)
    except media.MediaError as exc:
        return _not_ready(str(exc), estimate, audio_s)
    available = (await ledger.balance(owner)).available
    if available < estimate:
        reason = (
            f"You have {format_credits(available)} available and this needs"
            f" {format_credits(estimate)}; use a shorter clip or wait for running jobs to finish."
        )
        return _not_ready(reason, estimate, audio_s)
    if not image_path:
        return Quote(ready=False, reason="Add a face image.", estimate=estimate, audio_s=audio_s, text=text)
    return Quote(ready=True, reason="", estimate=estimate, audio_s=audio_s, text=text)


def _not_ready(reason: str, estimate: int | None = None, audio_s: float | None = None) -> Quote:
    return Quote(ready=False, reason=reason, estimate=estimate, audio_s=audio_s, text=reason)
