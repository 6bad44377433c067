"""The official `replicate` package (1.0.7, sync client) against the engine on loopback.

A client nobody here wrote: it uploads `Path` inputs through the Files API, polls with its own
loop, reads outputs through `FileOutput`, and parses errors as problem+json. It does not know
`aborted`, so that status is not tried with it.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
import replicate
from replicate.exceptions import ModelError, ReplicateError
from replicate.helpers import FileOutput

from demo_app.engine._routes import CANCEL_PREDICTION, CREATE_BY_MODEL, CREATE_FILE, GET_MODEL_VERSION
from demo_app.engine._server import LoopbackServer
from tests.conftest import ENGINE_TOKEN, LoopbackFactory
from tests.engine.conftest import FACE
from tests.engine.fakes import quick_render
from tests.engine.helpers import SADTALKER_VERSION

WAN = "wan-video/wan-2.2-s2v"


@pytest.fixture
def served(loopback_engine: LoopbackFactory) -> Iterator[LoopbackFactory]:
    """Factory like `loopback_engine`, already serving; stopped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda scenario, **options: stack.enter_context(loopback_engine(scenario, **options))


def _client(server: LoopbackServer, token: str = ENGINE_TOKEN) -> replicate.Client:
    client = replicate.Client(api_token=token, base_url=server.base_url)
    client.poll_interval = 0.05
    return client


def test_create_wait_and_read_the_video(served: LoopbackFactory, voice: Path) -> None:
    server = served("normal", time_scale=1.0)
    client = _client(server)
    prediction = client.models.predictions.create(
        model=WAN, input={"prompt": "A person talking.", "image": FACE, "audio": voice}
    )
    assert prediction.status == "starting" and prediction.version == "hidden"
    assert prediction.input is not None
    assert prediction.input["image"].startswith(f"{server.base_url}/v1/files/")
    prediction.wait()
    assert prediction.status == "succeeded"
    assert prediction.metrics is not None and prediction.metrics["predict_time"] > 0
    progress = prediction.progress
    assert progress is not None and progress.percentage == 1.0 and progress.current == progress.total == 25

    video = FileOutput(prediction.output, client).read()
    with av.open(io.BytesIO(video)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
    assert server.engine.requests[CREATE_FILE] == 2 and server.engine.requests[CREATE_BY_MODEL] == 1


def test_version_endpoint_with_file_objects(served: LoopbackFactory, voice: Path) -> None:
    server = served("normal", renderer=quick_render)
    client = _client(server)
    with FACE.open("rb") as image, voice.open("rb") as audio:
        prediction = client.predictions.create(
            version=SADTALKER_VERSION, input={"source_image": image, "driven_audio": audio}
        )
    prediction.wait()
    assert prediction.status == "succeeded" and prediction.version == SADTALKER_VERSION
    assert isinstance(prediction.output, str)
    assert FileOutput(prediction.output, client).read().startswith(b"\x00\x00\x00\x18ftyp")


def test_run_waits_with_prefer_and_returns_the_output_list(served: LoopbackFactory, voice: Path) -> None:
    server = served("list_output", renderer=quick_render, time_scale=1.0)
    client = _client(server)
    output = client.run(WAN, input={"prompt": "A person talking.", "image": FACE, "audio": voice}, wait=30)
    # it wraps only https: and data: URLs in FileOutput; the loopback engine serves http:
    assert isinstance(output, list) and output[0].startswith(f"{server.base_url}/delivery/")
    assert FileOutput(output[0], client).read().startswith(b"\x00\x00\x00\x18ftyp")


def test_cancel(served: LoopbackFactory, voice: Path) -> None:
    server = served("stall")
    client = _client(server)
    prediction = client.models.predictions.create(
        model=WAN, input={"prompt": "A person talking.", "image": FACE, "audio": voice}
    )
    prediction.cancel()
    prediction.reload()
    assert prediction.status == "canceled" and prediction.output is None
    assert server.engine.requests[CANCEL_PREDICTION] == 1


def test_failed_prediction_raises_model_error(served: LoopbackFactory, voice: Path) -> None:
    server = served("failure", time_scale=20.0)  # Prefer: wait (60 s) outlasts the scripted failure
    with pytest.raises(ModelError) as raised:
        _client(server).run(WAN, input={"prompt": "A person talking.", "image": FACE, "audio": voice})
    assert raised.value.prediction.status == "failed"
    assert str(raised.value.prediction.error).startswith("The model ran out of GPU memory")


def test_bad_token(served: LoopbackFactory) -> None:
    server = served("normal")
    with pytest.raises(ReplicateError) as raised:
        _client(server, token="r8_not-the-token").predictions.list()
    assert (raised.value.status, raised.value.title) == (401, "Unauthenticated")
    assert raised.value.detail == "You did not pass a valid authentication token"


def test_list_pages(served: LoopbackFactory, voice: Path) -> None:
    server = served("stall", page_size=1)
    client = _client(server)
    made = [
        client.models.predictions.create(
            model=WAN, input={"prompt": "A person talking.", "image": FACE, "audio": voice}
        ).id
        for _ in range(2)
    ]
    first = client.predictions.list()
    second = client.predictions.list(first.next)
    assert [p.id for p in first.results + second.results] == made[::-1] and second.next is None


def test_run_by_model_and_version_reads_the_version_it_ran(served: LoopbackFactory, voice: Path) -> None:
    server = served("normal", renderer=quick_render, time_scale=1.0)
    client = _client(server)
    output = client.run(
        f"cjwbw/sadtalker:{SADTALKER_VERSION}", input={"source_image": FACE, "driven_audio": voice}, wait=30
    )
    assert isinstance(output, str)  # loopback serves http:, which run() leaves as a plain URL
    assert FileOutput(output, client).read().startswith(b"\x00\x00\x00\x18ftyp")
    assert server.engine.requests[GET_MODEL_VERSION] == 1, "run() reads the version's schema"


def test_models_and_versions_carry_the_input_schema(served: LoopbackFactory) -> None:
    server = served("normal")
    client = _client(server)
    model = client.models.get(WAN)
    assert model.latest_version is not None
    schema = model.latest_version.openapi_schema["components"]["schemas"]["Input"]
    assert sorted(schema["required"]) == ["audio", "image", "prompt"]  # Wan's prompt is required now
    assert schema["properties"]["num_frames_per_chunk"]["maximum"] == 121
    version = client.models.get("cjwbw/sadtalker").versions.get(SADTALKER_VERSION)
    assert version.id == SADTALKER_VERSION
    assert version.openapi_schema["components"]["schemas"]["enhancer"]["enum"] == ["gfpgan", "RestoreFormer"]
    with pytest.raises(ReplicateError) as missing:
        client.models.get("cjwbw/sadtalker").versions.get("0" * 64)
    assert missing.value.status == 404
