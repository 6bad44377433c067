"""The batch endpoints' public JSON: the batch and each item's status, job and credits.

Changing a key here changes the contract: update the README's Batches section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradio.data_classes import FileData

from demo_app.batches import BatchView


def batch_json(view: BatchView) -> dict[str, Any]:
    """The batch for API callers; `finished` once no item will change any more."""
    return {
        "batch_id": view.batch_id,
        "model": view.model,
        "created_at": view.created_at.isoformat(),
        "canceled": view.canceled,
        "finished": view.finished,
        "succeeded": view.succeeded,
        "items": [
            {
                "number": item.number,
                "clip": item.clip,
                "status": item.status,
                "job_id": item.job_id,
                "held": item.held,
                "charged": item.charged,
                "returned": item.returned,
                "error": item.error,
            }
            for item in view.items
        ],
    }


def zip_file(path: Path) -> dict[str, Any]:
    """The results zip as a file the client downloads."""
    return FileData(path=str(path), mime_type="application/zip").model_dump()
