"""The manifest of a finished job: what made its video, and what it cost, as plain JSON."""

from __future__ import annotations

from typing import Any

from demo_app.jobs._store import JobRecord


def job_manifest(record: JobRecord) -> dict[str, Any]:
    """The job's model, options, timing and credits (nothing about the owner or upstream secrets)."""
    return {
        "job_id": record.job_id,
        "model": record.model,
        "options": record.options,
        "status": record.status.value,
        "created_at": record.created_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "audio_s": record.audio_s,
        "held": record.held,
        "charged": record.charged,
        "returned": record.returned,
        "prediction_id": record.prediction_id,
    }
