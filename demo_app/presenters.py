"""What a visitor reads on the page: job snapshots, balances and ledger lines turned into HTML and rows.

Pure functions, no Gradio and no I/O, so every sentence the page shows can be tested directly.
Everything that came from outside (model logs, error texts, file names) is HTML-escaped here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from demo_app.catalog import ModelSpec, PricingRule, get_model
from demo_app.credits import Balance, OpenHold, StatementLine
from demo_app.jobs import JobSnapshot, JobStatus, LineView, ProgressSource, Quote, about
from demo_app.money import format_credits

STATUS_LABELS: dict[JobStatus, str] = {
    JobStatus.QUEUED: "Queued",
    JobStatus.REJECTED: "Rejected",
    JobStatus.UPLOADING: "Uploading",
    JobStatus.STARTING: "Starting",
    JobStatus.PROCESSING: "Processing",
    JobStatus.DOWNLOADING: "Downloading",
    JobStatus.SUCCEEDED: "Succeeded",
    JobStatus.FAILED: "Failed",
    JobStatus.CANCELED: "Canceled",
    JobStatus.TIMED_OUT: "Timed out",
}

_TONES: dict[JobStatus, str] = {
    JobStatus.QUEUED: "wait",
    JobStatus.UPLOADING: "run",
    JobStatus.STARTING: "wait",
    JobStatus.PROCESSING: "run",
    JobStatus.DOWNLOADING: "run",
    JobStatus.SUCCEEDED: "good",
    JobStatus.REJECTED: "bad",
    JobStatus.FAILED: "bad",
    JobStatus.TIMED_OUT: "bad",
    JobStatus.CANCELED: "muted",
}

STATUS_CSS = """
.ls-job { display: flex; flex-direction: column; gap: 8px; padding: 4px 0; }
.ls-line { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; font-size: 0.95em; }
.ls-badge { border-radius: 999px; padding: 2px 12px; font-weight: 600; color: #fff; background: #6b7280; }
.ls-tone-wait { background: #b45309; }
.ls-tone-run { background: #2563eb; }
.ls-tone-good { background: #15803d; }
.ls-tone-bad { background: #b91c1c; }
.ls-tone-muted { background: #6b7280; }
.ls-bar { height: 14px; border-radius: 7px; background: rgba(127, 127, 127, 0.25); overflow: hidden; }
.ls-fill { height: 100%; background: #2563eb; transition: width 0.4s ease; }
.ls-bar.ls-unknown .ls-fill { width: 30%; opacity: 0.5; animation: ls-slide 1.6s ease-in-out infinite; }
@keyframes ls-slide { from { margin-left: -30%; } to { margin-left: 100%; } }
.ls-pct { font-size: 0.9em; opacity: 0.85; }
.ls-msg { margin: 0; }
.ls-msg.ls-problem { color: #b91c1c; font-weight: 600; }
code { font-size: 0.9em; }
"""

ELAPSED_CLOCK_JS = """
const pad = (n) => String(n).padStart(2, '0');
const format = (whole) => {
  const h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
  return h ? h + ':' + pad(m) + ':' + pad(s) : m + ':' + pad(s);
};
let sent = null, received = 0;
setInterval(() => {
  const clock = element.querySelector('.ls-clock[data-elapsed]');
  if (!clock) return;
  if (clock.dataset.elapsed !== sent) { sent = clock.dataset.elapsed; received = performance.now(); }
  const text = format(Math.max(0, Math.floor(Number(sent) + (performance.now() - received) / 1000)));
  if (clock.textContent !== text) clock.textContent = text;
}, 250);
"""
"""The run panel's clock: from the elapsed seconds of the last frame and the time since it arrived
(the browser's own monotonic clock, so a skewed wall clock does not matter), the running job's
elapsed time ticks every second without a frame from the server."""


def idle_status_html() -> str:
    """The run panel before any job: says what will happen."""
    return (
        '<div class="ls-job" data-status="idle"><p class="ls-msg">'
        "Add a face and a voice, then press Generate. The estimated cost is held while the video "
        "is made; you pay only for what is delivered.</p></div>"
    )


def status_html(snap: JobSnapshot) -> str:
    """Badge, progress bar with its source, elapsed time, prediction id and the job's sentence."""
    label = STATUS_LABELS[snap.status]
    tone = _TONES[snap.status]
    facts = [f'<span class="ls-badge ls-tone-{tone}">{label}</span>']
    facts.append(_elapsed_html(snap))
    if snap.prediction_id:
        facts.append(f'<span class="ls-pred">Prediction <code>{_esc(snap.prediction_id)}</code></span>')
    parts = [f'<div class="ls-line">{"".join(facts)}</div>']
    if snap.status is not JobStatus.REJECTED:
        parts.append(_progress_html(snap))
    sentence = outcome_sentence(snap)
    problem = snap.status in (JobStatus.REJECTED, JobStatus.FAILED, JobStatus.TIMED_OUT)
    css = "ls-msg ls-problem" if problem else "ls-msg"
    parts.append(f'<p class="{css}">{_esc(sentence)}</p>')
    progress_attr = "" if snap.progress is None else f' data-progress="{snap.progress:.4f}"'
    return (
        f'<div class="ls-job" data-status="{snap.status.value}" data-job="{_esc(snap.job_id)}"'
        f"{progress_attr}>{''.join(parts)}</div>"
    )


def _elapsed_html(snap: JobSnapshot) -> str:
    """The elapsed time; while the job runs it carries the seconds at send time, from which the
    browser keeps it ticking (`ELAPSED_CLOCK_JS`) with no frame from the server."""
    ticking = "" if snap.terminal else f' data-elapsed="{snap.elapsed_s:.1f}"'
    clock = f'<span class="ls-clock"{ticking}>{format_elapsed(snap.elapsed_s)}</span>'
    return f'<span class="ls-elapsed">Elapsed {clock}</span>'


def outcome_sentence(snap: JobSnapshot) -> str:
    """The sentence under the bar: its place while in the create line, else the job's own
    message (it names the credits charged or returned)."""
    if snap.queue_position is not None and not snap.terminal:
        return line_sentence(snap.queue_position, snap.eta_s or 0.0)
    message = snap.message or snap.error or ""
    if snap.status is JobStatus.REJECTED:
        return f"{message} Nothing was charged; your balance is unchanged."
    return message


def line_sentence(position: int, eta_s: float) -> str:
    """"You are 37th in line, about 2 min." — a job waiting for its turn to start."""
    if position == 1:
        return f"You are next in line to start, {about(eta_s)}."
    return f"You are {ordinal(position)} in line to start, {about(eta_s)}."


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, …"""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def _progress_html(snap: JobSnapshot) -> str:
    """A determinate bar when a fraction is known, else a moving bar that says it is waiting."""
    if snap.progress is None:
        text = "Finished." if snap.terminal else "Waiting for the model to report progress…"
        if snap.terminal:
            return f'<div class="ls-pct">{text}</div>'
        return (
            '<div class="ls-bar ls-unknown" role="progressbar" aria-label="progress">'
            f'<div class="ls-fill"></div></div><div class="ls-pct">{text}</div>'
        )
    percent = max(0, min(100, round(snap.progress * 100)))
    if snap.progress_source is ProgressSource.LOGS:
        source = "from the model's logs"
    else:
        source = "estimated from elapsed time"
    return (
        f'<div class="ls-bar" role="progressbar" aria-label="progress" aria-valuemin="0" '
        f'aria-valuemax="100" aria-valuenow="{percent}"><div class="ls-fill" style="width:{percent}%">'
        f'</div></div><div class="ls-pct">{percent}% — {source}</div>'
    )


BUILT_IN_RUN_S_FOR_10S = 4.0
"""A whole job of 10 s of audio on the built-in offline engine (checks, render, delivery) on an
idle 2-core machine; the render alone is measured by `python -m bench.render`."""


def model_info(model_id: str, unavailable: str | None = None, *, built_in: bool = False) -> str:
    """About the model: what it does, how long a 10-second clip typically takes (on the built-in
    engine when `built_in`, with Replicate's time beside it), its price (and whether the Space set
    it) and its licence note; when the model cannot run now, the sentence saying why follows (it
    quotes Replicate's schema: escaped)."""
    try:
        spec = get_model(model_id)
    except ValueError as exc:
        return str(exc)
    typical = _duration(spec.typical_run_s(10.0))
    if built_in:
        about = (
            f"{spec.description} Typically about {_duration(BUILT_IN_RUN_S_FOR_10S)} for 10 s of audio "
            f"on this built-in offline engine (about {typical} on Replicate)."
        )
    else:
        about = f"{spec.description} Typically about {typical} for 10 s of audio."
    line = f"{about} {price_text(spec)} {spec.licence}"
    return line if unavailable is None else f"{line}\n\n**⚠ {html.escape(unavailable)}**"


def _duration(seconds: float) -> str:
    return f"{round(seconds)} s" if seconds < 90 else f"{round(seconds / 60)} min"


MORE_CREDITS = "Need more credits? Whoever runs this app can add them with"


def grant_command(owner: str) -> str:
    """The owner's desk command that grants `owner` more credits."""
    return f'python -m demo_app.admin grant {owner} <credits> --reason "<text>"'


def more_credits_text(owner: str) -> str:
    """How a visitor who spent their credits gets more (Markdown, for the estimate)."""
    return f"{MORE_CREDITS} `{grant_command(owner)}`."


def more_credits_html(owner: str) -> str:
    """The same, as the Credits tab's HTML shows it."""
    return f'<p class="ls-more">{MORE_CREDITS} <code>{_esc(grant_command(owner))}</code>.</p>'


def price_text(spec: ModelSpec) -> str:
    """The model's price rule in a sentence, saying who set it."""
    if spec.priced_by is not None:
        rates = " or ".join(f"{_rate(rule)} ({choice})" for choice, rule in spec.choice_pricing)
    else:
        rates = _rate(spec.pricing)
    if spec.price_set_by_space:
        who = "set by this Space"
    elif spec.pricing.confirmed:
        who = "Replicate's price"
    else:
        who = "Replicate's price as read from public sources, unconfirmed"
    return f"Price: {rates} — {who}."


def _rate(rule: PricingRule) -> str:
    if rule.per_run is not None:
        return f"{format_credits(rule.per_run)} per run"
    if rule.per_output_second is not None:
        return f"{format_credits(rule.per_output_second)} per second of video"
    assert rule.per_predict_second is not None
    return f"{format_credits(rule.per_predict_second)} per second of GPU time"


def format_elapsed(seconds: float) -> str:
    """0:07, 1:05, 1:02:03 (`ELAPSED_CLOCK_JS` writes the same in the browser)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_when(moment: datetime) -> str:
    """A timestamp as the history and statement show it (UTC, to the minute)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def history_rows(snaps: Iterable[JobSnapshot], titles: dict[str, str]) -> list[list[str]]:
    """One row per job, newest first as given: when, model, status, cost, job id."""
    rows = []
    for snap in snaps:
        rows.append(
            [
                format_when(snap.created_at),
                titles.get(snap.model, snap.model),
                STATUS_LABELS[snap.status],
                cost_text(snap),
                snap.job_id,
            ]
        )
    return rows


def cost_text(snap: JobSnapshot) -> str:
    """What the job cost: the charge once settled, the hold while running."""
    if snap.terminal:
        charged = snap.charged or 0
        return format_credits(charged) if charged else "free"
    return f"{format_credits(snap.held)} held" if snap.held else "—"


def log_text(snap: JobSnapshot) -> str:
    """The live log tail (plain text: the Textbox escapes it)."""
    return snap.log_tail or ""


def quote_html(quote: Quote | None, *, busy: bool = False, line: LineView | None = None) -> str:
    """The live estimate, or why Generate is not possible yet (`busy`: the owner's job limit is
    reached), and how long the create line is when there is one."""
    if quote is None:
        return "Loading your balance…"
    if busy:
        return (
            "⏳ A job is running and you may run no more at once: wait for one to finish or cancel it "
            "before starting another."
        )
    waiting = f" {_esc(line_outlook(line))}" if line is not None and line.waiting else ""
    if quote.ready:
        return f"**{_esc(quote.text)}**{waiting}"
    return f"⚠️ {_esc(quote.reason)}{waiting}"


def line_outlook(line: LineView) -> str:
    """How long the create line is, said before Generate is pressed."""
    jobs = "job is" if line.waiting == 1 else "jobs are"
    return f"⏳ {line.waiting:,} {jobs} waiting to start; a new one would start in {about(line.eta_s)}."


def balance_html(balance: Balance) -> str:
    """The header's balance: available credits in dollars and credits, plus what is held."""
    held = f" · {format_credits(balance.held)} held for a running job" if balance.held else ""
    return (
        f'<div class="ls-balance" data-balance="{balance.balance}" data-available="{balance.available}"'
        f' data-held="{balance.held}"><span>Credits</span> <span class="ls-amount">'
        f'{format_credits(balance.available)}</span> <span class="ls-sub">({balance.available:,} credits'
        f" available{held})</span></div>"
    )


def credits_summary_html(balance: Balance) -> str:
    """The Credits tab's headline: balance, held and available, with the unit explained."""
    return (
        f'<p data-balance="{balance.balance}" data-available="{balance.available}">'
        f"Balance <b>{balance.balance:,}</b> credits ({format_credits(balance.balance)}) · "
        f"held <b>{balance.held:,}</b> · available <b>{balance.available:,}</b> "
        f"({format_credits(balance.available)}). One credit is $0.001.</p>"
    )


def holds_rows(holds: Iterable[OpenHold]) -> list[list[Any]]:
    """Open holds: since when, how much, for which job."""
    return [[format_when(hold.created_at), format_credits(hold.amount), hold.ref] for hold in holds]


ENTRY_NAMES = {
    "grant": "Grant",
    "hold": "Hold",
    "capture": "Charge",
    "release": "Release",
    "adjust": "Adjustment",
}


def statement_rows(lines: Iterable[StatementLine]) -> list[list[str]]:
    """The ledger statement as the Credits tab shows it: each entry and the totals after it."""
    return [
        [
            format_when(line.time),
            ENTRY_NAMES.get(line.kind, line.kind),
            line.reason,
            _signed(line.amount),
            _signed(line.held_change),
            f"{line.balance:,}",
            f"{line.available:,}",
        ]
        for line in lines
    ]


def _signed(credits: int) -> str:
    if credits == 0:
        return "0"
    return f"+{credits:,}" if credits > 0 else f"−{-credits:,}"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
