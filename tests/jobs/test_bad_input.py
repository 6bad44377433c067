"""Every kind of bad upload is refused by the job with its sentence: nothing held, nothing sent."""

from __future__ import annotations

from pathlib import Path

from demo_app.engine import MODEL_READS
from demo_app.jobs import JobStatus
from tests.jobs.checks import job_lines
from tests.jobs.conftest import OWNER, StackFactory
from tests.media.bad_inputs import BAD_AUDIO, BAD_IMAGES

MODEL = "wan-video/wan-2.2-s2v"


async def test_bad_inputs_are_refused_without_touching_credits_or_upstream(
    make_stack: StackFactory, face: Path, voice: Path, tmp_path: Path
) -> None:
    stack = await make_stack("normal")
    opened = await stack.ledger.open_account(OWNER)
    cases = [(f"image:{name}", bad, "image") for name, bad in BAD_IMAGES.items() if not bad.limits]
    cases += [(f"audio:{name}", bad, "audio") for name, bad in BAD_AUDIO.items() if not bad.limits]
    assert len(cases) >= 20
    refused = {}
    for number, (label, bad, kind) in enumerate(cases):
        folder = tmp_path / f"case-{number}"
        folder.mkdir()
        path = bad.make(folder)
        image, audio = (path, voice) if kind == "image" else (face, path)
        first = await stack.jobs.start(OWNER, str(image), str(audio), MODEL, {})
        final = await stack.jobs.wait(OWNER, first.job_id)
        refused[label] = final
        assert final.status is JobStatus.REJECTED, (label, final.message)
        assert final.message.count(". ") == 0 and final.message.endswith("."), (label, final.message)
        assert all(fact in final.message for fact in bad.facts), (label, final.message, bad.facts)
        assert (final.held, final.charged) == (0, 0), label
        assert await job_lines(stack.ledger, OWNER, final.job_id) == [], label
    sent = sum(n for route, n in stack.engine.requests.items() if route not in MODEL_READS)
    assert sent == 0, "nothing of a job may be sent upstream (the schema reads at start are not a job's)"
    balance = await stack.ledger.balance(OWNER)
    assert (balance.balance, balance.held) == (opened.balance, 0)
    assert stack.jobs.history(OWNER) == [], "refused attempts are not history"
    assert len({snap.message for snap in refused.values()}) >= 15, "each kind gets its own sentence"
