"""The API with gradio_client against the launched app: every endpoint, the README verbatim, keys."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from demo_app.catalog import get_model
from tests.ui.conftest import REPO, AppFactory, RunningApp

pytestmark = pytest.mark.slow

ENDPOINTS = {
    "/models",
    "/start",
    "/status",
    "/generate",
    "/cancel",
    "/credits",
    "/manifest",
    "/share",
    "/unshare",
}
ENDPOINTS |= {"/compare_start", "/compare_status"}
ENDPOINTS |= {"/batch_start", "/batch_status", "/batch_results", "/batch_cancel"}


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    return start_app()


@pytest.fixture(scope="module")
def stalling_app(start_app: AppFactory) -> RunningApp:
    return start_app(engine_scenario="stall")


@pytest.fixture
def client(app: RunningApp, connect: Callable[[RunningApp], Client]) -> Client:
    return connect(app)


def new_key(app: RunningApp, name: str) -> str:
    return app.api_key(f"browser:{name}")


def readme_api_examples() -> list[str]:
    """The python code blocks of the README's "API" section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_only_the_six_endpoints_are_public(client: Client) -> None:
    api = client.view_api(print_info=False, return_format="dict")
    assert isinstance(api, dict)
    assert set(api["named_endpoints"]) == ENDPOINTS
    assert not api["unnamed_endpoints"]


def test_readme_examples_run_verbatim(
    app: RunningApp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = readme_api_examples()
    assert len(blocks) == 5
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("LIPSYNC_URL", app.url)
    monkeypatch.setenv("LIPSYNC_API_KEY", new_key(app, "readme"))
    namespace: dict[str, Any] = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)

    polled, streamed = namespace["job"], namespace["final"]
    assert streamed["status"] == "succeeded"
    assert Path(streamed["video"]).read_bytes()[4:8] == b"ftyp"
    canceled, credits = namespace["canceled"], namespace["credits"]
    assert canceled["status"] == "canceled" and canceled["returned"] == canceled["held"]
    # Two delivered videos of the 12.7 s sample, one canceled job: the statement explains the balance.
    charges = [line for line in credits["statement"] if line["kind"] == "capture"]
    assert len(charges) == 2
    assert credits["balance"] == 1000 + sum(line["amount"] for line in charges)
    assert credits["held"] == 0 and credits["open_holds"] == []
    assert polled["job_id"] != streamed["job_id"]
    assert namespace["trimmed"]["held"] == get_model("wan-video/wan-2.2-s2v").hold_for(5.0, {})
    printed = capsys.readouterr().out
    assert "video saved at" in printed
    listed = namespace["models"]
    assert listed[0]["id"] == "wan-video/wan-2.2-s2v"
    assert all(m["available"] and m["unavailable_reason"] is None for m in listed)


def test_start_returns_at_once_and_status_reads_the_same_job(
    stalling_app: RunningApp, connect: Callable[[RunningApp], Client], face: Path, short_voice: Path
) -> None:
    key = stalling_app.api_key("browser:poller")
    c = connect(stalling_app)
    first = c.predict(key, handle_file(face), handle_file(short_voice), api_name="/start")
    assert first["status"] == "queued" and not first["terminal"]
    assert first["video"] is None
    later = c.predict(key, first["job_id"], api_name="/status")
    assert later["job_id"] == first["job_id"]
    assert later["elapsed_s"] >= first["elapsed_s"]
    ended = c.predict(key, first["job_id"], api_name="/cancel")
    assert ended["status"] == "canceled"
    # Cancelling an ended job changes nothing.
    assert c.predict(key, first["job_id"], api_name="/cancel")["returned"] == ended["returned"]


def test_generate_streams_every_stage_and_ends_with_the_video(
    app: RunningApp, client: Client, face: Path, short_voice: Path
) -> None:
    key = new_key(app, "streamer")
    job = client.submit(
        key, handle_file(face), handle_file(short_voice), "wan-video/wan-2.2-s2v", "{}", api_name="/generate"
    )
    snapshots = list(job)
    statuses = [snap["status"] for snap in snapshots]
    assert statuses[0] == "queued" and statuses[-1] == "succeeded"
    for stage in ("uploading", "starting", "processing", "downloading"):
        assert stage in statuses
    assert all(snap["video"] is None for snap in snapshots[:-1])
    final = job.result()
    assert Path(final["video"]).read_bytes()[4:8] == b"ftyp"
    assert 0 < final["charged"] <= final["held"]
    credits = client.predict(key, api_name="/credits")
    assert credits["available"] == 1000 - final["charged"]


def test_generate_sends_no_snapshot_while_only_the_clock_moves(
    start_app: AppFactory, connect: Callable[[RunningApp], Client], face: Path, short_voice: Path
) -> None:
    """A job waiting for a worker (30 s `starting`) changes nothing but its elapsed time: the
    stream stays quiet (Gradio's heartbeat keeps it open) until something changes."""
    cold = start_app(engine_scenario="cold_start", engine_time_scale=1.0)
    key = new_key(cold, "quiet")
    c = connect(cold)
    job = c.submit(key, handle_file(face), handle_file(short_voice), api_name="/generate")
    stream = iter(job)
    while (snap := next(stream))["status"] != "starting":
        pass
    sent = len(job.outputs())
    time.sleep(3.0)  # a quiet stretch: a timer re-sending the snapshot would have sent about three
    assert len(job.outputs()) == sent
    canceled = connect(cold).predict(key, snap["job_id"], api_name="/cancel")
    assert canceled["status"] == "canceled"
    assert [s["status"] for s in stream][-1] == "canceled"
    assert len(job.outputs()) == sent + 1


def test_another_key_can_neither_read_nor_cancel_a_job(
    stalling_app: RunningApp, connect: Callable[[RunningApp], Client], face: Path, short_voice: Path
) -> None:
    owner, other = stalling_app.api_key("browser:owner"), stalling_app.api_key("browser:other")
    c = connect(stalling_app)
    job = c.predict(owner, handle_file(face), handle_file(short_voice), api_name="/start")
    for endpoint in ("/status", "/cancel"):
        with pytest.raises(AppError, match="No such job"):
            c.predict(other, job["job_id"], api_name=endpoint)
    assert not c.predict(owner, job["job_id"], api_name="/status")["terminal"]
    assert c.predict(other, api_name="/credits")["open_holds"] == []
    c.predict(owner, job["job_id"], api_name="/cancel")


def test_forged_keys_are_refused_everywhere(app: RunningApp, client: Client, face: Path) -> None:
    genuine = new_key(app, "victim")
    forged = [
        "browser:victim.forgedsignature",
        "browser:attacker",
        genuine.replace("victim", "attacker"),
        "",
    ]
    for key in forged:
        with pytest.raises(AppError, match="API key is not valid"):
            client.predict(key, api_name="/credits")
        with pytest.raises(AppError, match="API key is not valid"):
            client.predict(key, "some-job", api_name="/status")
        with pytest.raises(AppError, match="API key is not valid"):
            client.predict(key, handle_file(face), handle_file(face), api_name="/start")


def test_a_key_never_brings_a_second_grant(app: RunningApp, client: Client) -> None:
    key = new_key(app, "granted-once")
    for _ in range(3):
        credits = client.predict(key, api_name="/credits")
    grants = [line for line in credits["statement"] if line["kind"] == "grant"]
    assert len(grants) == 1
    assert credits["balance"] == 1000


def test_bad_inputs_are_refused_with_a_sentence_and_cost_nothing(
    app: RunningApp, client: Client, tiny_face: Path, short_voice: Path
) -> None:
    key = new_key(app, "careless")
    job = client.submit(key, handle_file(tiny_face), handle_file(short_voice), api_name="/generate")
    final = job.result()
    assert final["status"] == "rejected"
    assert "40 × 40 pixels" in final["message"]
    assert client.predict(key, api_name="/credits")["available"] == 1000

    with pytest.raises(AppError, match="options_json must be a JSON object"):
        client.predict(key, handle_file(tiny_face), handle_file(short_voice), "", "[1, 2]", api_name="/start")
    with pytest.raises(AppError, match="no model"):
        client.predict(
            key, handle_file(tiny_face), handle_file(short_voice), "someone/else", api_name="/start"
        )
    with pytest.raises(AppError, match="handle_file"):
        client.predict(key, "/etc/hostname", handle_file(short_voice), api_name="/start")
    # Options are checked before anything is stored or decoded: a refusal, not a rejected job.
    with pytest.raises(AppError, match="Frames per chunk"):
        client.predict(
            key,
            handle_file(tiny_face),
            handle_file(short_voice),
            "wan-video/wan-2.2-s2v",
            '{"num_frames_per_chunk": 500}',
            api_name="/generate",
        )
    assert client.predict(key, api_name="/credits")["available"] == 1000


def test_models_lists_limits_options_prices_and_availability(client: Client) -> None:
    answer = client.predict(api_name="/models")
    assert answer["credit_usd"] == 0.001
    wan = next(m for m in answer["models"] if m["id"] == "wan-video/wan-2.2-s2v")
    assert wan["available"] is True and wan["unavailable_reason"] is None
    assert wan["schema_checked_at"] is not None, "the schemas were read at start"
    assert wan["limits"]["max_audio_s"] > 0 and wan["prompt_option"] == "prompt"
    frames = next(o for o in wan["options"] if o["name"] == "num_frames_per_chunk")
    assert (frames["kind"], frames["minimum"], frames["maximum"]) == ("int", 1, 121)
    assert wan["price"]["per_output_second"] > 0 and wan["price"]["per_predict_second"] is None
    assert wan["price"]["held_for_10s_audio"] >= 10 * wan["price"]["per_output_second"]
    assert wan["commercial"] is True and wan["licence"] and wan["price"]["set_by_space"] is False
    offered = {m["id"] for m in answer["models"]}
    assert "cjwbw/sadtalker" not in offered and "devxpy/cog-wav2lip" not in offered, "non-commercial"
    kling = next(m for m in answer["models"] if m["id"] == "kwaivgi/kling-avatar-v2")
    assert kling["price"]["priced_by_option"] == "mode"
    per_choice = kling["price"]["per_choice"]
    assert per_choice["pro"]["per_output_second"] > per_choice["std"]["per_output_second"] > 0
    assert kling["limits"]["max_audio_bytes"] == 5 * 1024 * 1024


def test_a_drifted_model_is_unavailable_in_models_and_refused_by_start(
    start_app: AppFactory, connect: Callable[[RunningApp], Client], face: Path, short_voice: Path
) -> None:
    drifted = start_app(engine_scenario="schema_drift")  # Wan's "image" renamed upstream
    client = connect(drifted)
    answer = {m["id"]: m for m in client.predict(api_name="/models")["models"]}
    wan = answer["wan-video/wan-2.2-s2v"]
    assert wan["available"] is False
    assert wan["unavailable_reason"] == (
        "Wan 2.2 S2V is unavailable: its current input schema on Replicate no longer has the input "
        "“image” this Space sends."
    )
    assert all(m["available"] for model_id, m in answer.items() if model_id != "wan-video/wan-2.2-s2v")
    key = new_key(drifted, "drifted")
    with pytest.raises(AppError, match="no longer has the input “image”"):
        client.predict(key, handle_file(face), handle_file(short_voice), api_name="/start")
    credits = client.predict(key, api_name="/credits")
    assert (credits["available"], credits["held"], credits["statement"][-1]["kind"]) == (1000, 0, "grant")


def test_a_job_waiting_in_the_create_line_reports_its_place_and_wait(
    start_app: AppFactory, connect: Callable[[RunningApp], Client], face: Path, short_voice: Path
) -> None:
    """Ten creates a minute: the first job takes the only token at hand, the second waits ~7 s."""
    app = start_app(engine_scenario="stall", creates_per_min=10)
    c = connect(app)
    first_key, second_key = new_key(app, "line-first"), new_key(app, "line-second")
    first = c.predict(first_key, handle_file(face), handle_file(short_voice), api_name="/start")
    stream = c.submit(
        second_key, handle_file(face), handle_file(short_voice), "wan-video/wan-2.2-s2v", "{}",
        api_name="/generate",
    )  # fmt: skip
    waiting = next(snap for snap in stream if snap["queue_position"] is not None)
    assert waiting["status"] == "queued" and waiting["queue_position"] == 1
    assert 0 < waiting["eta_s"] <= 7
    status = c.predict(second_key, waiting["job_id"], api_name="/status")
    assert status["queue_position"] == 1 and status["eta_s"] is not None
    ended = c.predict(second_key, waiting["job_id"], api_name="/cancel")
    assert ended["status"] == "canceled" and ended["queue_position"] is None and ended["held"] > 0
    assert ended["returned"] == ended["held"] and ended["prediction_id"] is None
    stream.cancel()
    c.predict(first_key, first["job_id"], api_name="/cancel")
