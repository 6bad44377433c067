"""The hostile-input corpus through the job manager on the built-in engine: every file ends
the job with its sentence, with nothing held, nothing sent upstream, no request to the canary
and the media workers' memory growth under the bound."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from demo_app.catalog import get_model
from demo_app.engine import MODEL_READS
from demo_app.jobs import JobStatus
from demo_app.media import MediaError
from tests.jobs.checks import job_lines
from tests.jobs.conftest import OWNER, Stack, StackFactory
from tests.media.canary import canary_server
from tests.media.conftest import MEMORY_BOUND
from tests.media.hostile import CASES

MODEL = "wan-video/wan-2.2-s2v"


async def media_sentence(stack: Stack, kind: str, path: Path, code: str) -> str:
    """The sentence the media check itself gives, with the code the corpus expects."""
    limits = {"max_bytes": stack.settings.max_upload_bytes}
    spec = get_model(MODEL)
    with pytest.raises(MediaError) as caught:
        if kind == "image":
            await stack.jobs.media.prepare_image(
                path,
                Path(tempfile.mkdtemp()),
                min_side=spec.min_image_side,
                max_side=spec.max_image_side,
                **limits,
            )
        else:
            await stack.jobs.media.prepare_audio(
                path, Path(tempfile.mkdtemp()), max_seconds=spec.max_audio_s, **limits
            )
    assert caught.value.code == code, (path.name, str(caught.value))
    return str(caught.value)


@pytest.mark.slow
async def test_every_hostile_file_is_refused_by_the_job_with_nothing_held_or_sent(
    make_stack: StackFactory, face: Path, voice: Path, tmp_path: Path
) -> None:
    stack = await make_stack("normal")
    opened = await stack.ledger.open_account(OWNER)
    with canary_server() as canary:
        for case in CASES:
            path = case.write(tmp_path, canary.url)
            image, audio = (path, voice) if case.kind == "image" else (face, path)
            stack.jobs.media.reset_usage()
            first = await stack.jobs.start(OWNER, str(image), str(audio), MODEL, {})
            final = await stack.jobs.wait(OWNER, first.job_id)
            assert final.status is JobStatus.REJECTED, (case.name, final.message)
            assert final.message == await media_sentence(stack, case.kind, path, case.code), case.name
            assert final.message.endswith(".") and ". " not in final.message, (case.name, final.message)
            assert path.name not in final.message and str(tmp_path) not in final.message, case.name
            assert (final.held, final.charged) == (0, 0), case.name
            assert await job_lines(stack.ledger, OWNER, final.job_id) == [], case.name
            usage = stack.jobs.media.usage()
            assert usage.worst_growth_bytes < MEMORY_BOUND, (case.name, usage)
            assert usage.worst_seconds < stack.settings.media_deadline_s, (case.name, usage)
        assert canary.requests == [], "a decoder fetched a URL named in a file"
    sent = sum(n for route, n in stack.engine.requests.items() if route not in MODEL_READS)
    assert sent == 0, "nothing of a job may be sent upstream (the schema reads at start are not a job's)"
    balance = await stack.ledger.balance(OWNER)
    assert (balance.balance, balance.held) == (opened.balance, 0)
