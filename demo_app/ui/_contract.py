"""The API's public JSON, in one place: the shapes the README's API section promises callers.

A snapshot is the job's fields (the owner is the caller and left out) plus `video`: the MP4 as a
file the client downloads once the job succeeded, else None. The credits answer is the owner's
totals, open holds and statement. Changing a key here changes the contract: update the README.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gradio.data_classes import FileData

from demo_app.credits import StatementLine
from demo_app.jobs import JobSnapshot, JobStatus
from demo_app.visitors import Account


def snapshot_json(snap: JobSnapshot) -> dict[str, Any]:
    """A snapshot for API callers; on success `video` is a file the client downloads."""
    return {
        "job_id": snap.job_id,
        "model": snap.model,
        "status": snap.status.value,
        "terminal": snap.terminal,
        "progress": snap.progress,
        "progress_source": snap.progress_source.value if snap.progress_source else None,
        "elapsed_s": round(snap.elapsed_s, 1),
        "prediction_id": snap.prediction_id,
        "log_tail": snap.log_tail,
        "message": snap.message,
        "error": snap.error,
        "held": snap.held,
        "charged": snap.charged,
        "returned": snap.returned,
        "created_at": snap.created_at.isoformat(),
        "finished_at": snap.finished_at.isoformat() if snap.finished_at else None,
        "queue_position": snap.queue_position,
        "eta_s": snap.eta_s,
        "video": _video(snap),
    }


def credits_json(owner: str, account: Account) -> dict[str, Any]:
    """Balance, held and available credits, open holds and the statement, line by line."""
    return {
        "owner": owner,
        "balance": account.balance.balance,
        "held": account.balance.held,
        "available": account.balance.available,
        "open_holds": [
            {"job_id": hold.ref, "amount": hold.amount, "since": hold.created_at.isoformat()}
            for hold in account.open_holds
        ],
        "statement": statement_json(account.statement),
    }


def statement_json(lines: Iterable[StatementLine]) -> list[dict[str, Any]]:
    """The ledger statement for API callers (credits, ISO times)."""
    return [
        {
            "seq": line.seq,
            "time": line.time.isoformat(),
            "kind": line.kind,
            "job_id": line.ref,
            "reason": line.reason,
            "amount": line.amount,
            "held_change": line.held_change,
            "balance": line.balance,
            "held": line.held,
            "available": line.available,
        }
        for line in lines
    ]


def _video(snap: JobSnapshot) -> dict[str, Any] | None:
    if snap.status is JobStatus.SUCCEEDED and snap.video_path and Path(snap.video_path).exists():
        return FileData(path=snap.video_path, mime_type="video/mp4").model_dump()
    return None
