"""The crowd's figures: what visitors saw against when the engine changed, budgets, the ledger.

Lag of a status change: from the engine's `started_at` (or `completed_at`) to the first update
in which the visitor's job shows it (processing or later; downloading or later). Lag of a
progress change: from the moment the engine printed a progress line to the first update showing
at least that fraction from the logs (or the job past processing). Budgets: the most creates,
and the most other API calls, the engine received in any 60 s window.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._crowd_visitors import Crowd, Frame, Visit
from demo_app.credits import Kind, Ledger
from demo_app.media._worker_process import NICENESS
from demo_app.replicate import parse_progress

SEEN_STARTED = frozenset({"processing", "downloading", "succeeded", "failed", "canceled", "timed_out"})
SEEN_COMPLETED = SEEN_STARTED - {"processing"}
WINDOW_S = 60.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_per_window(times: Iterable[float], window_s: float = WINDOW_S) -> int:
    """The most events in any sliding window of `window_s` seconds."""
    ordered, best, first = sorted(times), 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


def _first(frames: Sequence[Frame], start: int, wanted: Any) -> int:
    """Index of the first frame from `start` that satisfies `wanted`, else len(frames)."""
    while start < len(frames) and not wanted(frames[start]):
        start += 1
    return start


def status_lags(visit: Visit, timeline: dict[str, Any]) -> dict[str, float]:
    """Seconds from the engine's start and completion to this visitor seeing each."""
    lags = {}
    for name, moment, shown in (
        ("started", timeline["started_at"], SEEN_STARTED),
        ("completed", timeline["completed_at"], SEEN_COMPLETED),
    ):
        index = _first(visit.frames, 0, lambda f, shown=shown: f.status in shown)
        if moment is not None and index < len(visit.frames):
            lags[name] = visit.frames[index].at - moment
    return lags


def progress_lags(visit: Visit, timeline: dict[str, Any]) -> list[tuple[float, float | None]]:
    """For each progress line the engine printed, seconds to this visitor seeing that far: from
    the printing, and from the app's first answer showing the line (None if none did)."""
    lags: list[tuple[float, float | None]] = []
    index = 0
    for printed_at, line, heard_at in timeline["logs"]:
        progress = parse_progress(line)
        if progress is None:
            continue
        reached = progress.fraction - 1e-9

        def shows(frame: Frame, reached: float = reached) -> bool:
            return frame.status in SEEN_COMPLETED or (
                frame.progress is not None and frame.progress >= reached
            )

        index = _first(visit.frames, index, shows)
        if index < len(visit.frames):
            seen = visit.frames[index].at
            lags.append((seen - printed_at, seen - heard_at if heard_at is not None else None))
    return lags


def heard_lags(timeline: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Upstream → app: from each status change and progress line to the first answer that showed it."""
    shown = timeline["status_shown"]
    statuses = [
        shown[status] - moment
        for status, moment in (
            ("processing", timeline["started_at"]),
            (timeline["status"], timeline["completed_at"]),
        )
        if moment is not None and status in shown
    ]
    lines = [
        seen - printed
        for printed, line, seen in timeline["logs"]
        if seen is not None and parse_progress(line)
    ]
    return statuses, lines


@dataclass(frozen=True)
class AppUse:
    """The app process over the run: CPU it used and waited for (cores), peak RSS, machine load."""

    cores: float
    cpu_wait: float
    peak_mib: float
    load_average: float
    children_cores: float = 0.0
    """CPU its child processes used (the media workers), not counted in `cores`."""

    @classmethod
    def together(cls, uses: Sequence[AppUse]) -> AppUse:
        """Several processes as one: cores and peak memory added up (the peaks may not coincide)."""
        return cls(
            cores=sum(u.cores for u in uses),
            children_cores=sum(u.children_cores for u in uses),
            cpu_wait=sum(u.cpu_wait for u in uses),
            peak_mib=sum(u.peak_mib for u in uses),
            load_average=max((u.load_average for u in uses), default=0.0),
        )


@dataclass
class Figures:
    """One run's figures; lags in seconds, loop lags in milliseconds."""

    visitors: int
    done: int
    errors: Counter[str]
    create_delay: list[float]
    """From the visitor's join to the upstream create (media checks and any line before it)."""
    started_lag: list[float]
    completed_lag: list[float]
    progress_lag: list[float]
    progress_lag_pushed: list[float]
    """Of `progress_lag`, the lines of predictions that pushed their logs by webhook."""
    pushing: int
    """Predictions that pushed their logs (at least one `logs` delivery answered)."""
    heard_status: list[float]
    """Of the status lag, upstream → app (the first answer showing the change)."""
    heard_progress: list[float]
    progress_after_app: list[float]
    """Of the progress lag, from the app's answer that first showed the line to the visitor."""
    transit: list[float]
    """From the app taking a snapshot of a running job to the visitor receiving it (every update
    after the first, to the 0.1 s of `elapsed_s`): Gradio's queue, the stream and this driver."""
    updates: list[int]
    creates_peak: int
    reads_peak: int
    deliveries: int
    app: AppUse
    loop_lag_ms: list[float]
    loop_lag_own_ms: list[float]
    """Each loop-lag sample less the time the loop's thread waited for a core in it."""
    gc_pauses: list[tuple[int, float, float]]
    """The collector's pauses of 1 ms or more in the app: generation, wall ms, CPU ms."""
    client_lag_ms: list[float]
    settlement: Counter[str]
    wall_s: float


def figures(
    crowd: Crowd, stats: dict[str, Any], loop_lags: Sequence[Path], settlement: Counter[str], app: AppUse
) -> Figures:
    """Every figure of one run; `loop_lags` are the loop-lag files of the app's processes."""
    timelines = {t["id"]: t for t in stats["predictions"]}
    started, completed, progress, created, heard_status, heard_progress = [], [], [], [], [], []
    progress_pushed, pushing, progress_after_app = [], 0, []
    for one in crowd.visits:
        timeline = timelines.get(one.prediction_id or "")
        if timeline is None:
            continue
        created.append(timeline["created_at"] - one.joined_at)
        lags = status_lags(one, timeline)
        started += [lags["started"]] if "started" in lags else []
        completed += [lags["completed"]] if "completed" in lags else []
        lines_seen = progress_lags(one, timeline)
        lags_of_lines = [lag for lag, _ in lines_seen]
        progress += lags_of_lines
        progress_after_app += [lag for _, lag in lines_seen if lag is not None]
        if timeline.get("logs_pushed", 0):
            progress_pushed += lags_of_lines
            pushing += 1
        statuses, lines = heard_lags(timeline)
        heard_status += statuses
        heard_progress += lines
    requests = stats["requests"]
    return Figures(
        visitors=len(crowd.visits),
        done=sum(one.done for one in crowd.visits),
        errors=Counter(
            one.error or f"ended {one.final_status}: {one.final_words}"
            for one in crowd.visits
            if not one.done
        ),
        create_delay=created,
        started_lag=started,
        completed_lag=completed,
        progress_lag=progress,
        progress_lag_pushed=progress_pushed,
        pushing=pushing,
        heard_status=heard_status,
        heard_progress=heard_progress,
        progress_after_app=progress_after_app,
        transit=[
            f.at - f.made_at
            for one in crowd.visits
            for f in one.frames[1:]
            if f.made_at is not None and f.status not in SEEN_COMPLETED
        ],
        updates=[len(one.frames) for one in crowd.visits],
        creates_peak=peak_per_window(requests["create"]),
        reads_peak=peak_per_window(requests["read"]),
        deliveries=len(requests["delivery"]),
        app=app,
        loop_lag_ms=[ms for path in loop_lags for ms in read_loop_lag(path, crowd.began, crowd.ended)],
        loop_lag_own_ms=[
            ms for path in loop_lags for ms in read_loop_lag(path, crowd.began, crowd.ended, own=True)
        ],
        gc_pauses=[
            pause
            for path in loop_lags
            for pause in read_gc_pauses(Path(f"{path}.gc"), crowd.began, crowd.ended)
        ],
        client_lag_ms=crowd.client_lag_ms,
        settlement=settlement,
        wall_s=crowd.ended - crowd.began,
    )


def read_loop_lag(path: Path, began: float, ended: float, *, own: bool = False) -> list[float]:
    """The app's loop-lag samples (ms) taken while the crowd ran; with `own`, each less the time
    the loop's thread waited for a core (samples without that figure are left out)."""
    if not path.exists():
        return []
    samples = [line.split() for line in path.read_text().splitlines()]
    kept = [fields for fields in samples if began <= float(fields[0]) <= ended]
    if not own:
        return [float(fields[1]) for fields in kept]
    return [max(0.0, float(fields[1]) - float(fields[2])) for fields in kept if len(fields) > 2]


def read_gc_pauses(path: Path, began: float, ended: float) -> list[tuple[int, float, float]]:
    """The app's collector pauses (generation, wall ms, CPU ms) while the crowd ran."""
    if not path.exists():
        return []
    samples = (line.split() for line in path.read_text().splitlines())
    return [(int(g), float(wall), float(cpu)) for at, g, wall, cpu in samples if began <= float(at) <= ended]


def settlements(ledger_path: Path, visits: Sequence[Visit]) -> Counter[str]:
    """Per job, how its hold ended in the TinyDB ledger: 'settled once' is the only good answer."""
    ledger = Ledger(ledger_path, starting_grant=0, daily_budget=0, max_open_holds_per_owner=0)
    return asyncio.run(verdicts(ledger, visits))


async def verdicts(ledger: Ledger, visits: Sequence[Visit]) -> Counter[str]:
    """Per job, how its hold ended in `ledger` (closed after): 'settled once' is the only good answer."""
    try:
        verdicts: Counter[str] = Counter()
        for one in visits:
            if one.job_id is None:
                verdicts["no job"] += 1
                continue
            kinds = Counter(line.kind for line in await ledger.statement(one.owner) if line.ref == one.job_id)
            ends = kinds[Kind.CAPTURE] + kinds[Kind.RELEASE]
            verdicts[
                "settled once"
                if kinds[Kind.HOLD] == 1 and ends == 1
                else f"{kinds[Kind.HOLD]} holds, {ends} ends"
            ] += 1
        open_holds = len(await ledger.open_holds())
        if open_holds:
            verdicts["holds still open"] = open_holds
        return verdicts
    finally:
        ledger.close()


def _ms(values: Sequence[float]) -> str:
    return f"p50 {percentile(values, 0.5) * 1e3:,.0f} ms, p99 {percentile(values, 0.99) * 1e3:,.0f} ms"


def gc_line(pauses: Sequence[tuple[int, float, float]]) -> str:
    """The collector's pauses per generation: count, longest and total (wall, and CPU)."""
    parts = []
    for generation in (0, 1, 2):
        mine = [(wall, cpu) for g, wall, cpu in pauses if g == generation]
        if mine:
            parts.append(
                f"gen {generation}: {len(mine)}, longest {max(w for w, _ in mine):,.0f} ms "
                f"(CPU {max(c for _, c in mine):,.0f} ms), total {sum(w for w, _ in mine) / 1e3:.1f} s"
            )
    return "app collector pauses ≥ 1 ms: " + ("; ".join(parts) or "none")


def lines(f: Figures, *, webhooks: bool, rate: float, limits: tuple[int, int]) -> list[str]:
    """The report, one figure a line."""
    errors = "; ".join(f"{n} × {text}" for text, n in f.errors.most_common(5)) or "none"
    mean_updates = sum(f.updates) / max(1, len(f.updates))
    loop = percentile(f.loop_lag_ms, 0.5), percentile(f.loop_lag_ms, 0.99)
    return [
        f"{f.visitors} visitors joining {rate:g}/s on /generate, webhooks {'on' if webhooks else 'off'}, "
        f"{f.wall_s:.0f} s from the first join to the last answer",
        f"jobs done / errors: {f.done} / {f.visitors - f.done} ({errors})",
        f"join → upstream create: {_ms(f.create_delay)}",
        f"status lag, started:   {_ms(f.started_lag)} ({len(f.started_lag)} seen)",
        f"status lag, succeeded: {_ms(f.completed_lag)} ({len(f.completed_lag)} seen)",
        f"  … of which upstream → app (first answer showing it): {_ms(f.heard_status)}",
        f"progress lag:          {_ms(f.progress_lag)} ({len(f.progress_lag)} lines)",
        f"  … of which upstream → app: {_ms(f.heard_progress)}; app → visitor: {_ms(f.progress_after_app)}",
        f"  … of the {f.pushing} predictions that pushed their logs: {_ms(f.progress_lag_pushed)}",
        f"app's snapshot → visitor (updates of running jobs, to 0.1 s): {_ms(f.transit)}",
        f"updates per visitor:   mean {mean_updates:.1f}, max {max(f.updates, default=0)}",
        f"upstream creates, peak per 60 s: {f.creates_peak} (limit {limits[0]})",
        f"upstream API reads (all other calls), peak per 60 s: {f.reads_peak} (limit {limits[1]}); "
        f"output downloads: {f.deliveries}",
        f"app CPU: {f.app.cores:.2f} cores used, {f.app.cpu_wait:.2f} cores' worth waited for "
        f"(machine load average {f.app.load_average:.1f}); peak memory (VmHWM): {f.app.peak_mib:,.0f} MiB",
        f"  … its media workers (processes at nice +{NICENESS}): {f.app.children_cores:.2f} cores used",
        f"app event-loop lag: p50 {loop[0]:.1f} ms, p99 {loop[1]:.1f} ms, "
        f"max {max(f.loop_lag_ms, default=float('nan')):.0f} ms ({len(f.loop_lag_ms)} samples)",
        f"  … less the time its thread waited for a core: p50 {percentile(f.loop_lag_own_ms, 0.5):.1f} ms, "
        f"p99 {percentile(f.loop_lag_own_ms, 0.99):.1f} ms ({len(f.loop_lag_own_ms)} samples)",
        gc_line(f.gc_pauses),
        f"driver's own loop lag (arrival times late by): p99 {percentile(f.client_lag_ms, 0.99):.0f} ms",
        "holds: " + ", ".join(f"{n} {verdict}" for verdict, n in f.settlement.most_common()),
    ]


@dataclass(frozen=True)
class ReplicaRun:
    """One replica's share of the crowd: the figures of the visitors it served."""

    name: str
    figures: Figures
    followed: int
    """Jobs whose lease this replica held at the end (it followed them upstream)."""


def served_groups(visits: Sequence[Visit], names: Sequence[str]) -> dict[str, list[Visit]]:
    """The visitors by the replica that served them, every name present (a visitor the balancer
    never answered is 'no replica')."""
    groups: dict[str, list[Visit]] = {name: [] for name in names}
    for one in visits:
        groups.setdefault(one.served_by or "no replica", []).append(one)
    return groups


def followers(visits: Sequence[Visit], holders: dict[str, str]) -> dict[str, str]:
    """Each job's follower by replica name: a lease holder (a random name per process) is named
    after the replica that served most of the visitors whose jobs it holds."""
    votes: dict[str, Counter[str]] = {}
    for one in visits:
        if one.job_id in holders:
            votes.setdefault(holders[one.job_id], Counter())[one.served_by] += 1
    names = {holder: count.most_common(1)[0][0] for holder, count in votes.items()}
    return {job: names[holder] for job, holder in holders.items() if holder in names}


def stats_of(stats: dict[str, Any], visits: Sequence[Visit]) -> dict[str, Any]:
    """The engine's stats as far as they are these visitors': their predictions and the creates of
    them (the engine cannot tell which replica made its other calls; those count in the total)."""
    mine = {one.prediction_id for one in visits}
    predictions = [t for t in stats["predictions"] if t["id"] in mine]
    creates = [t["created_at"] for t in predictions]
    return {"predictions": predictions, "requests": {"create": creates, "read": [], "delivery": []}}


def replica_lines(run: ReplicaRun) -> list[str]:
    """One replica's share of the report, indented under its name."""
    f = run.figures
    loop = percentile(f.loop_lag_ms, 0.5), percentile(f.loop_lag_ms, 0.99)
    return [
        f"{run.name}: {f.visitors} visitors served, {run.followed} jobs followed; "
        f"done / errors {f.done} / {f.visitors - f.done}",
        f"  status lag started {_ms(f.started_lag)}; succeeded {_ms(f.completed_lag)}",
        f"  progress lag {_ms(f.progress_lag)}; updates per visitor mean "
        f"{sum(f.updates) / max(1, len(f.updates)):.1f}; its creates, peak per 60 s: {f.creates_peak}",
        f"  CPU {f.app.cores:.2f} cores used, {f.app.cpu_wait:.2f} waited for; "
        f"peak memory (VmHWM) {f.app.peak_mib:,.0f} MiB",
        f"  event-loop lag p50 {loop[0]:.1f} ms, p99 {loop[1]:.1f} ms, "
        f"max {max(f.loop_lag_ms, default=float('nan')):.0f} ms ({len(f.loop_lag_ms)} samples)",
    ]
