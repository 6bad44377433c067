"""A job process for the restart tests, talking to a standalone engine over loopback.

`start STAGE`: start one job and SIGKILL this very process when the job reaches STAGE.
`recover`: open the job manager (which resumes every unsettled job), wait until all are
settled, and print their final snapshots and ledger lines as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from demo_app.credits import Ledger
from demo_app.jobs import JobManager, JobSnapshot, JobStatus
from demo_app.services import open_services
from demo_app.settings import Settings
from tests.jobs.checks import settled_credits

OWNER = "browser:restart"
STAGES = {
    "after_hold": lambda s: s.status is JobStatus.UPLOADING,
    "after_create": lambda s: s.status is JobStatus.STARTING and s.prediction_id is not None,
    "following": lambda s: s.status is JobStatus.PROCESSING,
    "downloading": lambda s: s.status is JobStatus.DOWNLOADING and s.video_path is None,
    "before_capture": lambda s: s.status is JobStatus.DOWNLOADING and s.video_path is not None,
}


async def main(mode: str, stage: str | None) -> None:
    data_dir, base_url, token = (
        Path(os.environ["DATA_DIR"]),
        os.environ["ENGINE_URL"],
        os.environ["ENGINE_TOKEN"],
    )
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        poll_interval_s=0.05,
        starting_grant=1000,
        daily_budget=100_000,
        replicate_api_token=token,
        replicate_base_url=base_url,
    )

    def observer(snap: JobSnapshot) -> None:
        if stage is not None and STAGES[stage](snap):
            print(json.dumps({"killed_at": stage, "job_id": snap.job_id}), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    async with open_services(settings, observer=observer) as services:
        await run(services.jobs, services.ledger, mode)


async def run(jobs: JobManager, ledger: Ledger, mode: str) -> None:
    if mode == "start":
        await ledger.open_account(OWNER)
        snap = await jobs.start(OWNER, os.environ["FACE"], os.environ["VOICE"], "wan-video/wan-2.2-s2v", {})
        await jobs.wait(OWNER, snap.job_id)
        print(json.dumps({"finished_without_kill": snap.job_id}), flush=True)
    else:
        results = []
        for snap in jobs.history(OWNER):
            final = await jobs.wait(OWNER, snap.job_id)
            lines = [
                {"kind": line.kind, "amount": settled_credits(line.kind, line.amount, line.held_change)}
                for line in await ledger.statement(OWNER)
                if line.ref == final.job_id
            ]
            results.append(
                {
                    "job_id": final.job_id,
                    "status": final.status.value,
                    "held": final.held,
                    "charged": final.charged,
                    "video_path": final.video_path,
                    "lines": lines,
                    "open_holds": len(await ledger.open_holds()),
                }
            )
        print(json.dumps(results), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
