"""What the page and the API say about a job, a balance and a statement."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from demo_app.credits import Balance, StatementLine
from demo_app.jobs import JobSnapshot, JobStatus, LineView, ProgressSource, Quote
from demo_app.presenters import (
    balance_html,
    format_elapsed,
    history_rows,
    model_info,
    more_credits_html,
    more_credits_text,
    ordinal,
    quote_html,
    statement_rows,
    status_html,
)
from demo_app.ui._contract import snapshot_json

CREATED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)

RUNNING = JobSnapshot(
    job_id="job-1",
    owner="browser:abc",
    model="wan-video/wan-2.2-s2v",
    status=JobStatus.PROCESSING,
    progress=0.423,
    progress_source=ProgressSource.LOGS,
    elapsed_s=75.4,
    prediction_id="pred-9",
    log_tail=" 42%|████      | 42/100",
    error=None,
    held=254,
    charged=None,
    returned=None,
    video_path=None,
    created_at=CREATED,
    finished_at=None,
    message="Generating the video…",
)


def test_running_job_shows_badge_percent_source_elapsed_and_prediction() -> None:
    page = status_html(RUNNING)
    assert 'data-status="processing"' in page
    assert ">Processing<" in page
    assert "42% — from the model's logs" in page
    assert 'aria-valuenow="42"' in page
    assert "Elapsed 1:15" in _text(page)
    assert "pred-9" in page


def test_a_running_clock_carries_its_seconds_for_the_browser_and_a_finished_one_stops() -> None:
    assert 'data-elapsed="75.4"' in status_html(RUNNING)
    done = status_html(replace(RUNNING, status=JobStatus.SUCCEEDED, progress=1.0, charged=200))
    assert "Elapsed 1:15" in _text(done)
    assert "data-elapsed" not in done


def test_estimated_progress_says_so_and_unknown_progress_waits() -> None:
    estimated = status_html(replace(RUNNING, progress=0.1, progress_source=ProgressSource.ESTIMATE))
    assert "10% — estimated from elapsed time" in estimated
    waiting = status_html(replace(RUNNING, status=JobStatus.STARTING, progress=None, progress_source=None))
    assert "Waiting for the model to report progress" in waiting
    assert "aria-valuenow" not in waiting


def test_rejected_job_shows_the_media_sentence_and_no_bar() -> None:
    sentence = "The picture is 40×40 pixels; use one at least 256 pixels on each side."
    snap = replace(
        RUNNING, status=JobStatus.REJECTED, progress=None, message=sentence, error=sentence, held=0
    )
    page = status_html(snap)
    assert "40×40 pixels" in page
    assert "balance is unchanged" in page
    assert "progressbar" not in page


def test_text_from_outside_is_escaped() -> None:
    snap = replace(RUNNING, status=JobStatus.FAILED, message="<script>alert(1)</script> failed")
    page = status_html(snap)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (7.9, "0:07"), (65, "1:05"), (3723, "1:02:03")])
def test_elapsed_reads_like_a_clock(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_snapshot_json_is_plain_json() -> None:
    data = snapshot_json(RUNNING)
    assert json.loads(json.dumps(data)) == data
    assert data["status"] == "processing"
    assert data["progress_source"] == "logs"
    assert "owner" not in data


def test_a_job_in_the_create_line_shows_its_place_and_wait_on_the_page_and_in_the_api() -> None:
    waiting = replace(
        RUNNING,
        status=JobStatus.QUEUED,
        progress=None,
        progress_source=None,
        prediction_id=None,
        message="Waiting in line to start…",
        queue_position=37,
        eta_s=118.0,
    )
    page = status_html(waiting)
    assert 'data-status="queued"' in page and ">Queued<" in page
    assert "You are 37th in line to start, about 2 min." in page
    assert "You are next in line to start, under a minute." in status_html(
        replace(waiting, queue_position=1, eta_s=4.0)
    )
    data = snapshot_json(waiting)
    assert (data["queue_position"], data["eta_s"]) == (37, 118.0)
    assert (snapshot_json(RUNNING)["queue_position"], snapshot_json(RUNNING)["eta_s"]) == (None, None)
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111, 1002)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th", "1,002nd",
    ]  # fmt: skip


def test_the_line_is_shown_before_generate() -> None:
    ready = Quote(ready=True, reason="", estimate=254, audio_s=12.7, text="≈ $0.254 for 12.7 s of audio")
    assert "waiting" not in quote_html(ready, line=LineView(waiting=0, eta_s=0.0))
    text = quote_html(ready, line=LineView(waiting=412, eta_s=3000.0))
    assert "≈ $0.254" in text
    assert "412 jobs are waiting to start; a new one would start in about 50 min." in text
    assert "1 job is waiting to start; a new one would start in under a minute." in quote_html(
        ready, line=LineView(waiting=1, eta_s=14.0)
    )


def test_history_rows_show_when_title_status_and_cost() -> None:
    done = replace(RUNNING, status=JobStatus.SUCCEEDED, charged=254, returned=0, job_id="job-2")
    canceled = replace(RUNNING, status=JobStatus.CANCELED, charged=0, returned=254, job_id="job-3")
    rows = history_rows([done, canceled, RUNNING], {"wan-video/wan-2.2-s2v": "Wan 2.2 S2V"})
    assert rows[0] == ["2026-03-04 05:06 UTC", "Wan 2.2 S2V", "Succeeded", "$0.254", "job-2"]
    assert rows[1][2:4] == ["Canceled", "free"]
    assert rows[2][2:4] == ["Processing", "$0.254 held"]


def test_balance_and_quote_texts() -> None:
    page = balance_html(Balance(owner="browser:abc", balance=1000, held=254, available=746))
    assert 'data-available="746"' in page
    assert "$0.746" in page
    assert "$0.254 held" in page
    ready = Quote(ready=True, reason="", estimate=254, audio_s=12.7, text="≈ $0.254 for 12.7 s of audio")
    assert "≈ $0.254 for 12.7 s of audio" in quote_html(ready)
    short = Quote(ready=False, reason="Add a face image.", estimate=None, audio_s=None, text="")
    assert "Add a face image." in quote_html(short)
    assert "A job is running" in quote_html(ready, busy=True)


def test_statement_rows_sign_each_change() -> None:
    line = StatementLine(
        seq=2,
        time=CREATED,
        kind="capture",
        ref="job-2",
        reason="video delivered",
        amount=-254,
        held_change=-254,
        balance=746,
        held=0,
        available=746,
    )
    assert statement_rows([line]) == [
        ["2026-03-04 05:06 UTC", "Charge", "video delivered", "−254", "−254", "746", "746"]
    ]


def test_model_info_gives_the_description_and_typical_time() -> None:
    assert "Typically about 4 min for 10 s of audio." in model_info("wan-video/wan-2.2-s2v")
    assert "min for 10 s" in model_info("bytedance/omni-human")
    assert "no model" in model_info("someone/else")


def test_model_info_on_the_built_in_engine_says_its_own_time_beside_replicates() -> None:
    line = model_info("wan-video/wan-2.2-s2v", built_in=True)
    assert "Typically about 4 s for 10 s of audio on this built-in offline engine" in line
    assert "(about 4 min on Replicate)." in line


def test_more_credits_names_the_owners_desk_command_for_this_visitor() -> None:
    command = 'python -m demo_app.admin grant browser:abc <credits> --reason "<text>"'
    assert more_credits_text("browser:abc").endswith(f"`{command}`.")
    assert "&lt;credits&gt; --reason &quot;&lt;text&gt;&quot;" in more_credits_html("browser:abc")


def test_model_info_says_why_a_model_cannot_run_escaped() -> None:
    line = model_info("veed/fabric-1.0", "Fabric is unavailable: it now requires “<b>x</b>”.")
    assert line.startswith("VEED Fabric")
    assert line.endswith("\n\n**⚠ Fabric is unavailable: it now requires “&lt;b&gt;x&lt;/b&gt;”.**")


def _text(page: str) -> str:
    """What the browser shows of an HTML fragment: its text without the tags."""
    return re.sub(r"<[^>]+>", "", page)
