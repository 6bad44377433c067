"""One prediction's life, from `starting` to a terminal status, as its scenario scripts it.

`run_prediction` is the background task the engine starts for each prediction. It races the
scripted life against the prediction's deadline (`Cancel-After`): if the deadline comes first,
the prediction is `aborted` when it never started and `canceled` when it was running, as on
Replicate. Cancelling the task (a user cancel, the engine closing) stops a running render.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from demo_app.engine._clock import Clock, sleep_until
from demo_app.engine._files import FileStore
from demo_app.engine._hosted_models import validate_input
from demo_app.engine._inputs import InputUnavailable, fetch_input
from demo_app.engine._outputs import OutputStore
from demo_app.engine._predictions import PredictionRecord, RecordStatus
from demo_app.engine._progress import tqdm_line
from demo_app.engine._render_pool import Renderer, RenderJob, RenderPool, RenderResult
from demo_app.engine._scenarios import Script

logger = logging.getLogger(__name__)

OUTPUT_NAME = "output.mp4"


@dataclass(frozen=True)
class PredictionTools:
    """What a prediction's life needs from the engine."""

    clock: Clock
    files: FileStore
    outputs: OutputStore
    pool: RenderPool
    renderer: Renderer
    work_dir: Path
    output_ttl_s: float
    ready_clip: Path | None = None
    """The MP4 every `ready` outcome succeeds with."""


async def run_prediction(
    record: PredictionRecord, script: Script, own_host: str, tools: PredictionTools
) -> None:
    clock = tools.clock
    life = asyncio.create_task(_live(record, script, own_host, tools))
    tasks = {life}
    if record.deadline is not None:
        tasks.add(asyncio.create_task(sleep_until(clock, record.deadline)))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if life not in done:
        record.finish(
            RecordStatus.ABORTED if record.status is RecordStatus.STARTING else RecordStatus.CANCELED,
            clock.now(),
        )
    elif (exc := life.exception()) is not None:
        logger.error("prediction %s broke the engine", record.id, exc_info=exc)
        record.finish(RecordStatus.FAILED, clock.now(), error="The engine hit an internal error; try again.")


async def _live(record: PredictionRecord, script: Script, own_host: str, tools: PredictionTools) -> None:
    clock = tools.clock
    if not script.starts:
        await clock.sleep(script.abort_after_s)
        record.finish(RecordStatus.ABORTED, clock.now())
        return
    await clock.sleep(script.queue_s)
    record.start(clock.now())
    if script.outcome == "stall":
        await asyncio.get_running_loop().create_future()
    elif script.outcome == "render":
        await _render(record, script, own_host, tools)
    elif script.outcome == "ready":
        await _ready(record, script, tools)
    else:
        await _fake_progress(record, script, clock)
        if script.outcome == "fail":
            record.finish(RecordStatus.FAILED, clock.now(), error=script.error)
        else:
            record.finish(RecordStatus.CANCELED, clock.now())


async def _fake_progress(record: PredictionRecord, script: Script, clock: Clock) -> None:
    """Progress lines up to `fake_steps`%, for outcomes that end before any real work."""
    pace = max(script.progress_pace_s, 0.1)
    for step in range(script.fake_steps + 1):
        record.append_log(tqdm_line(step, 100, step * pace), clock.now())
        await clock.sleep(pace)


async def _ready(record: PredictionRecord, script: Script, tools: PredictionTools) -> None:
    """A tqdm line every `progress_pace_s` for `run_s`, then success with a copy of the ready clip."""
    if tools.ready_clip is None:
        raise RuntimeError("the ready_clip scenario needs a clip (--ready-clip PATH)")
    clock = tools.clock
    pace = max(script.progress_pace_s, 0.1)
    steps = max(1, round(script.run_s / pace))
    for step in range(steps + 1):
        record.append_log(tqdm_line(step, steps, step * pace), clock.now())
        if step < steps:
            await clock.sleep(pace)
    work = tools.work_dir / record.id
    work.mkdir(parents=True, exist_ok=True)
    try:
        copy = work / OUTPUT_NAME
        await asyncio.to_thread(_link_or_copy, tools.ready_clip, copy)
        record.finish(RecordStatus.SUCCEEDED, clock.now(), output=_publish(record, script, tools, copy))
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


def _link_or_copy(source: Path, dest: Path) -> None:
    """A hard link where the file system allows it (a thousand outputs, one clip on disk)."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


async def _render(record: PredictionRecord, script: Script, own_host: str, tools: PredictionTools) -> None:
    clock = tools.clock
    work = tools.work_dir / record.id
    work.mkdir(parents=True, exist_ok=True)
    try:
        model = record.model
        try:
            image = await asyncio.to_thread(_fetch, model.image_field, record, own_host, tools, work)
            audio = await asyncio.to_thread(_fetch, model.audio_field, record, own_host, tools, work)
        except InputUnavailable as exc:
            record.finish(RecordStatus.FAILED, clock.now(), error=str(exc))
            return
        for field, path in ((model.image_field, image), (model.audio_field, audio)):
            if (error := model.oversized(field, path.stat().st_size)) is not None:
                record.finish(RecordStatus.FAILED, clock.now(), error=error)
                return
        values = validate_input(model, record.input)[0]
        if script.pad_output:
            from demo_app.engine._loudness import pad_with_silence  # PyAV stays out of the parent otherwise

            audio = await asyncio.to_thread(
                pad_with_silence, audio, work / "padded.wav", lambda s: model.padded_duration_s(values, s)
            )
        options = model.render_options(values)
        record.append_log(
            f"Rendering a talking face at {options.fps} fps, at most {options.max_side} px a side",
            clock.now(),
        )
        began = clock.now()
        last: tuple[int, int] | None = None

        async def on_progress(done: int, total: int) -> None:
            nonlocal last
            if last is not None and script.progress_pace_s:
                await clock.sleep(script.progress_pace_s)
            last = (done, total)
            now = clock.now()
            record.append_log(tqdm_line(done, total, (now - began).total_seconds()), now)

        job = RenderJob(image, audio, work / OUTPUT_NAME, options.fps, options.max_side)
        try:
            report = await tools.pool.render(tools.renderer, job, on_progress)
        except Exception as exc:  # the renderer's own error text is the prediction's
            logger.info("render of %s failed: %s", record.id, exc)
            reason = str(exc) or type(exc).__name__
            record.finish(
                RecordStatus.FAILED, clock.now(), error=f"The video could not be rendered: {reason}"
            )
            return
        if last != (report.frames, report.frames):
            elapsed = (clock.now() - began).total_seconds()
            record.append_log(tqdm_line(report.frames, report.frames, elapsed), clock.now())
        record.append_log(_describe(report), clock.now())
        record.finish(RecordStatus.SUCCEEDED, clock.now(), output=_publish(record, script, tools, job.out))
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)


def _fetch(field: str, record: PredictionRecord, own_host: str, tools: PredictionTools, work: Path) -> Path:
    return fetch_input(
        field,
        record.input[field],
        own_host=own_host,
        files=tools.files,
        outputs=tools.outputs,
        dest=work / field,
    )


def _describe(report: RenderResult) -> str:
    video = f"Wrote {report.frames} frames ({report.duration_s:.2f} s of video)."
    if not report.face_found or report.face_box is None:
        return f"No face found in the image: animated the centre of the picture instead. {video}"
    x, y, w, h = report.face_box
    return f"Face found at x={x}, y={y} ({w}x{h} px). {video}"


def _publish(
    record: PredictionRecord, script: Script, tools: PredictionTools, video: Path
) -> str | list[str] | None:
    if script.output_shape == "missing":
        return None
    output = tools.outputs.publish(
        video,
        name=OUTPUT_NAME,
        content_type="video/mp4",
        ttl_s=0.0 if script.output_expired else tools.output_ttl_s,
        prediction_id=None if script.output_expired else record.id,
    )
    if script.output_expired:
        tools.outputs.sweep()
    return [output.url_path] if script.output_shape == "list" else output.url_path
