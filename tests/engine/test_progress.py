"""The engine's tqdm lines: tqdm's own layout, and read back by our client's progress parser."""

from __future__ import annotations

import pytest

from demo_app.engine._progress import tqdm_line
from demo_app.replicate import parse_progress


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "line"),
    [
        (0, 250, 0.0, "  0%|          | 0/250 [00:00<?, ?it/s]"),
        (113, 250, 2.35, " 45%|████▌     | 113/250 [00:02<00:02, 48.09it/s]"),
        (10, 50, 0.59, " 20%|██        | 10/50 [00:00<00:02, 16.95it/s]"),
        (250, 250, 5.2, "100%|██████████| 250/250 [00:05<00:00, 48.08it/s]"),
        (3, 7000, 3700.0, "  0%|          | 3/7000 [1:01:40<2397:07:13, 1233.33s/it]"),
        (1, 1, 1.29, "100%|██████████| 1/1 [00:01<00:00,  1.29s/it]"),
    ],
)
def test_lines_have_tqdm_layout(done: int, total: int, elapsed: float, line: str) -> None:
    assert tqdm_line(done, total, elapsed) == line


def test_client_reads_the_newest_line() -> None:
    logs = "Rendering\n" + "\n".join(tqdm_line(n, 80, n / 40) for n in (0, 20, 60)) + "\n"
    progress = parse_progress(logs)
    assert progress is not None
    assert (progress.fraction, progress.current, progress.total) == (0.75, 60, 80)
