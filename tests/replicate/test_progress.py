"""`parse_progress` on hand-written edge cases and on real recorded Replicate logs."""

from __future__ import annotations

import re

import pytest

from demo_app.replicate import Progress, parse_progress
from tests.replicate.fakes import recorded


@pytest.mark.parametrize(
    ("logs", "expected"),
    [
        (" 76%|███████▌  | 7568/10000 [00:33<00:10, 229.31it/s]", Progress(0.7568, 7568, 10000)),
        (" 97%|#########6| 290/299 [01:14<00:02,  3.95it/s]", Progress(290 / 299, 290, 299)),
        ("100%|██████████| 24/24 [00:36<00:00,  1.54s/it]", Progress(1.0, 24, 24)),
        (
            "# PTI :step: 76, epoch: 76:   8%|▊         | 77/1000 [00:27<05:35,  2.75it/s]",
            Progress(0.077, 77, 1000),
        ),
        ("Map: 100%|██████████| 2/2 [00:00<00:00, 269.44 examples/s]", Progress(1.0, 2, 2)),
        ("  0%|          | 0/50 [00:00<?, ?it/s]", Progress(0.0, 0, 50)),
        ("rendering frame 45/100", Progress(0.45, 45, 100)),
        ("Frame: 3 / 4", Progress(0.75, 3, 4)),
        ("step 10/40 loss=0.3", Progress(0.25, 10, 40)),
    ],
)
def test_reads_one_line(logs: str, expected: Progress) -> None:
    got = parse_progress(logs)
    assert got is not None
    assert got.fraction == pytest.approx(expected.fraction)
    assert (got.current, got.total) == (expected.current, expected.total)


@pytest.mark.parametrize(
    "logs",
    [
        None,
        "",
        "\n\r\n",
        "Using seed: 42069\nPrompt: a corgi",
        "frame=    5 fps=0.0 q=-0.0 Lsize=     939kB time=00:00:01.34",  # ffmpeg, no total
        "Epoch 0: |          | 428/? [02:33<00:00,  2.78it/s]",  # tqdm without a known total
        "Total progress: 64it [04:17,  1.82it/s]",
    ],
)
def test_nothing_to_tell(logs: str | None) -> None:
    assert parse_progress(logs) is None


def test_carriage_returns_newest_update_wins() -> None:
    """A terminal tqdm rewrites one line with \\r: the last update is the current one."""
    logs = "loading\n 10%|#   | 1/10 [..]\r 50%|#####     | 5/10 [..]\r 70%|#######   | 7/10 [..]"
    assert parse_progress(logs) == Progress(0.7, 7, 10)


def test_newest_progress_line_wins_over_older_bars() -> None:
    logs = "100%|██████████| 1/1 [00:01<00:00]\nframe 2/8\nsaving\n"
    assert parse_progress(logs) == Progress(0.25, 2, 8)


def test_a_newest_bar_with_unknown_total_hides_older_progress() -> None:
    logs = " 50%|#####     | 5/10 [..]\nEpoch 1: |   | 12/? [00:01<00:00,  2.7it/s]"
    assert parse_progress(logs) is None


def test_fraction_is_clamped() -> None:
    assert parse_progress("frame 12/10") == Progress(1.0, 12, 10)


def test_recorded_processing_prediction_with_tqdm() -> None:
    body = recorded("prediction-processing-with-logs-tqdm.json")
    assert parse_progress(body["logs"]) == Progress(46 / 50, 46, 50)


def test_recorded_crlf_logs_with_ascii_bars_and_trailing_text() -> None:
    """stylegan3: `\\r\\n\\r\\n` between updates and "The video is ready" after the last bar."""
    body = recorded("prediction-succeeded-logs-tqdm-crlf.json")
    assert parse_progress(body["logs"]) == Progress(1.0, 299, 299)


def test_recorded_training_with_prefixed_bars() -> None:
    assert parse_progress(recorded("training-processing-with-tqdm-logs.json")["logs"]) == Progress(
        77 / 1000, 77, 1000
    )
    assert parse_progress(recorded("training-canceled-with-logs.json")["logs"]) == Progress(
        115 / 1000, 115, 1000
    )


def test_recorded_logs_without_progress() -> None:
    for name in (
        "prediction-succeeded-list-of-objects-output.json",  # "Iteration: N" lines
        "prediction-succeeded-dict-output.json",  # ffmpeg banner, frame= lines
        "prediction-succeeded-logs-crlf-vllm.json",
        "prediction-canceled.json",  # logs null
    ):
        assert parse_progress(recorded(name)["logs"]) is None, name


@pytest.mark.parametrize(
    "page", ["models-list-page1-next-only.json", "models-list-page2-next-and-previous.json"]
)
def test_every_recorded_example_prediction(page: str) -> None:
    """Real logs of ~50 models: none crashes, and a log ending on a full bar reads as done."""
    ending_on_full_bar = 0
    for model in recorded(page)["results"]:
        logs = (model.get("default_example") or {}).get("logs") or ""
        progress = parse_progress(logs)
        if progress is not None:
            assert 0.0 <= progress.fraction <= 1.0
        lines = [line for line in re.split(r"[\r\n]+", logs) if line.strip()]
        if lines and re.match(r"\s*100%\|", lines[-1]):
            assert progress is not None and progress.fraction == 1.0, model["name"]
            ending_on_full_bar += 1
    assert ending_on_full_bar >= 10
