"""`Prediction` parses real recorded responses; statuses, outputs and the video pick."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from demo_app.replicate import TERMINAL_STATUSES, Prediction, Progress, Status, pick_video
from tests.replicate.fakes import prediction_body, recorded


def _body(name: str) -> dict[str, Any]:
    data = recorded(name)
    return data["body"] if name.endswith(".http.json") else data


@pytest.mark.parametrize(
    ("name", "status", "urls", "progress"),
    [
        ("prediction-starting-create-201.http.json", Status.STARTING, [], None),
        ("prediction-starting-create-by-model.json", Status.STARTING, [], None),
        ("prediction-starting-with-stream-url.json", Status.STARTING, [], None),
        ("training-starting-create.json", Status.STARTING, [], None),
        ("prediction-processing-no-logs.json", Status.PROCESSING, [], None),
        ("prediction-processing-with-logs-tqdm.json", Status.PROCESSING, [], Progress(0.92, 46, 50)),
        ("prediction-processing-prefer-wait-token-list-output.http.json", Status.PROCESSING, [], None),
        ("training-processing-with-tqdm-logs.json", Status.PROCESSING, [], Progress(0.077, 77, 1000)),
        (
            "prediction-succeeded-list-output.json",
            Status.SUCCEEDED,
            ["https://replicate.delivery/pbxt/DrIrmUBWOSqrMhGKd86thpGwe8paOezCVyxDf1Xqq3eaTzqFB/out-0.png"],
            Progress(1.0, 50, 50),
        ),
        (
            "prediction-succeeded-string-output-file-url-logs-null.json",
            Status.SUCCEEDED,
            ["https://replicate.delivery/pbxt/tJRjXvJQ7ToOENFUyIBJbhFDotUITeTQLxUoTAckVtLS1Y8IA/output.wav"],
            None,
        ),
        ("prediction-succeeded-string-output.json", Status.SUCCEEDED, [], None),  # "safe": text, no file
        ("prediction-succeeded-token-list-output-llm-metrics.json", Status.SUCCEEDED, [], None),
        (
            "prediction-succeeded-dict-output.json",
            Status.SUCCEEDED,
            [
                "https://replicate.delivery/pbxt/rhullrG7V952J1bcugHfqhl7qlJwBOSfzPUGYC5bHT6afeiHB/inputs.zip",
                "https://replicate.delivery/pbxt/M4Pzelv5NLRBG6zM4p9IXk90unzXRXl1fICOeKpceyam99iHB/animated.gif",
            ],
            None,
        ),
        (
            "prediction-succeeded-logs-tqdm-crlf.json",
            Status.SUCCEEDED,
            ["https://replicate.delivery/mgxm/54715c16-4e7b-4c56-8b7c-c130aa1c219c/out.mp4"],
            Progress(1.0, 299, 299),
        ),
        ("prediction-canceled.json", Status.CANCELED, [], None),
        ("training-canceled-with-logs.json", Status.CANCELED, [], Progress(0.115, 115, 1000)),
    ],
)
def test_recorded_responses_parse(
    name: str, status: Status, urls: list[str], progress: Progress | None
) -> None:
    prediction = Prediction.model_validate(_body(name))
    assert prediction.status is status
    assert prediction.output_urls == urls
    if progress is None:
        assert prediction.progress is None
    else:
        assert prediction.progress is not None
        assert prediction.progress.fraction == pytest.approx(progress.fraction)
        assert (prediction.progress.current, prediction.progress.total) == (progress.current, progress.total)
    assert prediction.is_terminal is (status in TERMINAL_STATUSES)


def test_recorded_list_of_objects_output_flattens_in_order() -> None:
    prediction = Prediction.model_validate(_body("prediction-succeeded-list-of-objects-output.json"))
    assert len(prediction.output_urls) == 25
    assert all(url.endswith("/out.png") for url in prediction.output_urls)
    assert pick_video(prediction.output_urls) is None


def test_recorded_sync_mode_data_uri_output_is_kept_while_processing() -> None:
    """`Prefer: wait` can answer `processing` with the output already there, as a data: URI."""
    prediction = Prediction.model_validate(
        _body("prediction-processing-prefer-wait-data-uri-output.http.json")
    )
    assert prediction.status is Status.PROCESSING and not prediction.is_terminal
    [url] = prediction.output_urls
    assert url.startswith("data:image/png;base64,iVBOR")


def test_recorded_fields_and_timestamps() -> None:
    prediction = Prediction.model_validate(_body("prediction-succeeded-token-list-output-llm-metrics.json"))
    assert prediction.error == ""
    assert prediction.predict_time == pytest.approx(prediction.metrics["predict_time"])
    assert prediction.completed_at is not None and prediction.completed_at.tzinfo is not None
    created = Prediction.model_validate(_body("prediction-starting-create-201.http.json"))
    assert created.created_at == datetime(2023, 8, 16, 18, 53, 35, 447342, tzinfo=UTC)  # 8 digits given
    assert created.urls.get == "https://api.replicate.com/v1/predictions/q6wgrytbhsc7dbdhwxhcyr7bue"
    assert created.urls.web is None
    assert created.metrics == {} and created.predict_time is None
    canceled = Prediction.model_validate(_body("prediction-canceled.json"))
    assert canceled.logs is None and canceled.output is None


def test_recorded_list_page_with_malformed_timestamp_still_parses() -> None:
    """The documented list example has `started_at` with 84 seconds: that field alone is dropped."""
    [item] = recorded("handwritten-fixture-predictions-list-page.json")["results"]
    prediction = Prediction.model_validate(item)
    assert prediction.status is Status.SUCCEEDED
    assert prediction.started_at is None
    assert prediction.created_at == datetime(2022, 4, 26, 20, 0, 40, 658234, tzinfo=UTC)
    assert prediction.source == "web"


def test_every_documented_field_is_read() -> None:
    body = prediction_body(
        "abc",
        "succeeded",
        source="api",
        data_removed=True,
        deadline="2025-01-01T00:10:00Z",
        deployment="acme/lipsync",
        started_at="2025-01-01T00:00:01Z",
        completed_at="2025-01-01T00:00:09Z",
        metrics={"predict_time": 7.5, "total_time": 9.0},
        output=None,
        webhook_completed=None,  # undocumented extra key: ignored
    )
    prediction = Prediction.model_validate(body)
    assert prediction.source == "api" and prediction.data_removed is True
    assert prediction.deadline == datetime(2025, 1, 1, 0, 10, tzinfo=UTC)
    assert prediction.deployment == "acme/lipsync"
    assert prediction.predict_time == 7.5
    assert prediction.version == "hidden"


def test_aborted_is_terminal_and_known() -> None:
    prediction = Prediction.model_validate(prediction_body(status="aborted"))
    assert prediction.status is Status.ABORTED and prediction.is_terminal
    assert {Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.ABORTED} == TERMINAL_STATUSES


def test_unknown_status_is_kept_not_terminal_and_logged_once_per_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="demo_app.replicate")
    first = Prediction.model_validate(prediction_body(status="queued-for-gpu-xyz"))
    again = Prediction.model_validate_json(json.dumps(prediction_body(status="queued-for-gpu-xyz")))
    other = Prediction.model_validate(prediction_body(status="warming-xyz"))
    assert first.status is again.status is other.status is Status.UNKNOWN
    assert not first.is_terminal
    messages = [r.getMessage() for r in caplog.records]
    assert sum("queued-for-gpu-xyz" in m for m in messages) == 1
    assert sum("warming-xyz" in m for m in messages) == 1


@pytest.mark.parametrize(
    ("output", "urls"),
    [
        (None, []),
        ("https://x.test/a.mp4", ["https://x.test/a.mp4"]),
        ("just text", []),
        (["https://x.test/a.png", "https://x.test/b.mp4"], ["https://x.test/a.png", "https://x.test/b.mp4"]),
        (
            {"video": "https://x.test/v.mp4", "meta": {"thumb": "https://x.test/t.jpg"}},
            ["https://x.test/v.mp4", "https://x.test/t.jpg"],
        ),
        ([{"file": "https://x.test/o.mp4"}, {"file": "https://x.test/o.mp4"}], ["https://x.test/o.mp4"]),
        ("data:video/mp4;base64,AAAA", ["data:video/mp4;base64,AAAA"]),
        (["tok", "ens", 3, True], []),
    ],
)
def test_output_shapes_normalise_to_urls(output: Any, urls: list[str]) -> None:
    assert Prediction.model_validate(prediction_body(output=output)).output_urls == urls


@pytest.mark.parametrize(
    ("urls", "video"),
    [
        ([], None),
        (["https://x.test/a.png", "https://x.test/out.MP4?sig=1"], "https://x.test/out.MP4?sig=1"),
        (["https://x.test/clip.webm"], "https://x.test/clip.webm"),
        (["https://x.test/audio.wav", "https://x.test/anim.gif"], None),
        (["data:image/png;base64,AA", "data:video/mp4;base64,AA"], "data:video/mp4;base64,AA"),
        (["https://x.test/video"], None),
    ],
)
def test_pick_video(urls: list[str], video: str | None) -> None:
    assert pick_video(urls) == video
