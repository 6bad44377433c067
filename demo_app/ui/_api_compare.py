"""The API's comparisons: `/compare_start` sends the same face and voice to two or three models,
`/compare_status` reads the comparison; each member job also answers `/status` and `/cancel`.

Same rules as the other endpoints (`_api`): the caller's key first, files only as uploads, plain
JSON answers, a sentence for any wrong argument, another owner's comparison looks missing.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from demo_app.arguments import BadArgument, job_id_text, model_text
from demo_app.jobs import MAX_MODELS, MIN_MODELS, ComparisonSnapshot, JobNotFound, JobRefused
from demo_app.quoting import echo
from demo_app.ui._api import HOW_TO_SEND, ApiEndpoints
from demo_app.ui._compare_view import comparison_title
from demo_app.ui._contract import snapshot_json
from demo_app.ui._handlers import TITLES
from demo_app.ui._sentences import refusal, speaks

MAX_MODELS_CHARS = 1000


class CompareEndpoints(ApiEndpoints):
    """`/compare_start` and `/compare_status`, over the same key, services and upload checks."""

    def register(self) -> None:
        """Add the two endpoints to the Blocks being built (call inside `with demo:`)."""
        gr.api(self.compare_start, api_name="compare_start", concurrency_limit=None)
        gr.api(self.compare_status, api_name="compare_status", concurrency_limit=None)

    @speaks
    async def compare_start(
        self, api_key: str, image: dict[str, Any], audio: dict[str, Any], models: str
    ) -> dict[str, Any]:
        """Start one job per model (2 or 3, comma-separated ids, each with its default options);
        returns `comparison_id`, `job_ids` and each member's first snapshot. Poll /compare_status."""
        owner = await self._calls.owner(api_key)
        services = await self._calls.services()
        chosen = models_text(models)
        image_path = self._calls.uploaded(image, "image", HOW_TO_SEND)
        audio_path = self._calls.uploaded(audio, "audio", HOW_TO_SEND)
        try:
            comparison = await services.jobs.start_comparison(owner, image_path, audio_path, chosen)
        except JobRefused as exc:
            raise refusal(str(exc), "Cannot start") from None
        return comparison_json(comparison)

    @speaks
    async def compare_status(self, api_key: str, comparison_id: str) -> dict[str, Any]:
        """The comparison's latest state: every member's snapshot and the totals."""
        owner = await self._calls.owner(api_key)
        services = await self._calls.services()
        try:
            comparison = services.jobs.comparison(owner, comparison_id_text(comparison_id))
        except JobNotFound as exc:
            raise refusal(str(exc), "No such comparison") from None
        return comparison_json(comparison)


def comparison_json(comparison: ComparisonSnapshot) -> dict[str, Any]:
    """A comparison for API callers: its id, title, totals and each member's snapshot."""
    return {
        "comparison_id": comparison.group_id,
        "title": comparison_title([m.model for m in comparison.members], TITLES),
        "terminal": comparison.terminal,
        "succeeded": comparison.succeeded,
        "held": comparison.held,
        "charged": comparison.charged,
        "job_ids": [m.job_id for m in comparison.members],
        "jobs": [snapshot_json(m) for m in comparison.members],
    }


def models_text(value: Any) -> list[str]:
    """Model ids, comma-separated (or a JSON list of them)."""
    if not isinstance(value, str) or len(value) > MAX_MODELS_CHARS:
        raise BadArgument(
            f"models must be 2 or 3 model ids separated by commas; got {echo(value)}.", title="Cannot start"
        )
    text = value.strip()
    try:
        items = json.loads(text) if text.startswith("[") else text.split(",")
    except ValueError:
        items = None
    if not isinstance(items, list) or not MIN_MODELS <= len(items) <= MAX_MODELS:
        raise BadArgument(
            f"models must be {MIN_MODELS} or {MAX_MODELS} model ids separated by commas; got {echo(value)}.",
            title="Cannot start",
        )
    return [model_text(item.strip() if isinstance(item, str) else item) for item in items]


def comparison_id_text(value: Any) -> str:
    """A comparison id as /compare_start returned it."""
    try:
        return job_id_text(value)
    except BadArgument:
        raise BadArgument(
            f"comparison_id must be the text /compare_start returned in “comparison_id”; got {echo(value)}.",
            title="No such comparison",
        ) from None
