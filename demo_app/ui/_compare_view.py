"""Comparisons as the page shows them: a panel per model, a summary line, one History row, and
the play button's script that plays every result together."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from demo_app.jobs import ComparisonSnapshot, JobSnapshot, Quote
from demo_app.money import format_credits
from demo_app.presenters import cost_text, format_when, history_rows, status_html

COMPARE_CSS = """
.ls-compare-title { margin: 0 0 4px; font-weight: 700; }
.ls-compare-cost { margin: 0; opacity: 0.85; }
"""


def comparison_title(models: Sequence[str], titles: Mapping[str, str]) -> str:
    """ "Compare: Wan 2.2 S2V vs OmniHuman"."""
    return "Compare: " + " vs ".join(titles.get(model, model) for model in models)


def member_html(snap: JobSnapshot, titles: Mapping[str, str]) -> str:
    """One model's panel: its name and cost (held while it runs, charged once settled), then the
    same badge, progress, elapsed time and sentence as the Create tab's run panel."""
    title = html.escape(titles.get(snap.model, snap.model))
    return (
        f'<div class="ls-member" data-model="{html.escape(snap.model)}">'
        f'<p class="ls-compare-title">{title}</p>'
        f'<p class="ls-compare-cost">Cost: {html.escape(cost_text(snap))}</p>'
        f"{status_html(snap)}</div>"
    )


def summary_html(comparison: ComparisonSnapshot, titles: Mapping[str, str]) -> str:
    """The comparison in one line: its models, how far it got and what it cost in all."""
    title = comparison_title([m.model for m in comparison.members], titles)
    if comparison.terminal:
        state = "done" if comparison.succeeded else "failed"
        cost = f"{comparison.succeeded} of {len(comparison.members)} succeeded — charged " + format_credits(
            comparison.charged or 0
        )
    else:
        state = "running"
        cost = f"running — {format_credits(comparison.held)} held"
    return (
        f'<p class="ls-compare-summary" data-state="{state}" data-group="{html.escape(comparison.group_id)}">'
        f"<strong>{html.escape(title)}</strong>: {html.escape(cost)}.</p>"
    )


def quote_text(
    models: Sequence[str], quotes: Sequence[Quote], available: int, titles: Mapping[str, str]
) -> str:
    """The comparison's estimate: each model's hold and their sum, or the first reason it cannot start."""
    for model, quote in zip(models, quotes, strict=True):
        if not quote.ready:
            return f"⚠️ {html.escape(titles.get(model, model))}: {html.escape(quote.reason)}"
    total = sum(quote.estimate or 0 for quote in quotes)
    parts = ", ".join(
        f"{titles.get(model, model)} {format_credits(quote.estimate or 0)}"
        for model, quote in zip(models, quotes, strict=True)
    )
    if available < total:
        return (
            f"⚠️ Comparing these holds {format_credits(total)} ({parts}) and you have "
            f"{format_credits(available)} available; compare fewer models or use a shorter clip."
        )
    seconds = quotes[0].audio_s or 0.0
    return (
        f"≈ {format_credits(total)} for {seconds:.1f} s of audio ({parts}) — each held now, "
        "each charged only on its own success"
    )


def history_entry_rows(
    entries: Sequence[JobSnapshot | ComparisonSnapshot], titles: Mapping[str, str]
) -> list[list[str]]:
    """History rows with each comparison as one: its models, its state, its total cost, its id."""
    rows = []
    for entry in entries:
        if isinstance(entry, JobSnapshot):
            rows.extend(history_rows([entry], dict(titles)))
            continue
        rows.append(
            [
                format_when(entry.created_at),
                comparison_title([m.model for m in entry.members], titles),
                _comparison_status(entry),
                _comparison_cost(entry),
                entry.group_id,
            ]
        )
    return rows


def _comparison_status(comparison: ComparisonSnapshot) -> str:
    if not comparison.terminal:
        return "Running"
    count = len(comparison.members)
    if comparison.succeeded == count:
        return "Succeeded"
    return f"{comparison.succeeded} of {count} succeeded"


def _comparison_cost(comparison: ComparisonSnapshot) -> str:
    if comparison.terminal:
        charged = comparison.charged or 0
        return format_credits(charged) if charged else "free"
    return f"{format_credits(comparison.held)} held" if comparison.held else "—"


def play_together_js(container_id: str) -> str:
    """Plays every result video inside `#container_id` from the same moment, or pauses them all
    if any plays (runs in the browser: no request to the server)."""
    return f"""
() => {{
  const videos = [...document.querySelectorAll('#{container_id} video')].filter((v) => v.currentSrc || v.src);
  if (!videos.length) return;
  if (videos.some((v) => !v.paused && !v.ended)) {{ videos.forEach((v) => v.pause()); return; }}
  const from = videos.some((v) => v.ended) ? 0 : Math.min(...videos.map((v) => v.currentTime));
  videos.forEach((v) => {{ v.currentTime = from; }});
  videos.forEach((v) => v.play().catch(() => {{}}));
}}
"""
