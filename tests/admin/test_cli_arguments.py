"""The owner's command line reads a job id that begins with "-" as the job id it is."""

from __future__ import annotations

import pytest

from demo_app.admin._cli import _job_id_as_operand, parser


@pytest.mark.parametrize("job_id", ["-i_5e_oRma50bcIoclJC9g", "--x", "plain_id"])
def test_cancel_takes_any_job_id(job_id: str) -> None:
    args = parser().parse_args(_job_id_as_operand(["--url", "http://127.0.0.1:1", "cancel", job_id]))
    assert args.job_id == job_id and args.url == "http://127.0.0.1:1"


def test_help_stays_help() -> None:
    with pytest.raises(SystemExit) as leaving:
        parser().parse_args(_job_id_as_operand(["cancel", "-h"]))
    assert leaving.value.code == 0
