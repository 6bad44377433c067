"""A hundred visitors on /generate through Gradio's queue, against `python app.py` and the
engine's ready clip, each in its own process (`bench/crowd.py`): nobody gets an error, every one
sees their job start and succeed, the app keeps Replicate's create and read budgets over every
60 s window, and every job's hold is settled exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.crowd import run_crowd

VISITORS = 100

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.mark.parametrize(
    "webhooks",
    [
        pytest.param(False, id="polling"),
        pytest.param(True, id="webhooks"),
    ],
)
def test_a_hundred_visitors_all_served_within_budget_and_settled_once(tmp_path: Path, webhooks: bool) -> None:
    run = run_crowd(tmp_path, visitors=VISITORS, rate=50.0, webhooks=webhooks)
    f = run.figures
    report = "\n".join(run.report(50.0))
    assert (f.done, f.errors) == (VISITORS, Counter()), report
    assert len(f.started_lag) == len(f.completed_lag) == VISITORS, report
    assert f.creates_peak <= run.limits[0] and f.reads_peak <= run.limits[1], report
    assert f.settlement == Counter({"settled once": VISITORS}), report
