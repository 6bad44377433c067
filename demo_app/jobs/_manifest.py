"""A finished job's manifest: what someone needs to reproduce its video, as plain JSON.

Everything comes from the job's record, noted when it was known (`_facts`): the model and the
version Replicate ran, the options and seed, each input's sha256 and length as uploaded and as
sent, the prediction, its times, its credits and the app that ran it. A shared video's manifest
leaves out the credits, which are the owner's business.
"""

from __future__ import annotations

import subprocess
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from demo_app.catalog import ModelSpec, UnknownModel, find_model
from demo_app.jobs._store import JobRecord

MANIFEST_VERSION = 1
APP_NAME = "lipsync-studio"
REPO = Path(__file__).resolve().parents[2]
SEED_OPTION = "seed"


class JobNotFinished(ValueError):
    """A manifest was asked for a job that is still running; `str()` says so."""

    def __init__(self) -> None:
        super().__init__("This job has not finished yet: its manifest exists once it ends.")


def _project_version() -> str:
    """The version in pyproject.toml (the app runs from its source tree)."""
    try:
        with (REPO / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _git_commit() -> str | None:
    """The commit the source tree was checked out at, when it is a git checkout (None otherwise)."""
    if not (REPO / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if len(commit) == 40 else None


def _app_version() -> str:
    commit = _git_commit()
    version = _project_version()
    return f"{version}+{commit[:12]}" if commit else version


APP_VERSION = _app_version()
"""This app's version, and its commit when run from a git checkout; read once, at start-up."""


def job_manifest(record: JobRecord) -> dict[str, Any]:
    """The finished job's manifest (JobNotFinished while it runs)."""
    if not record.terminal:
        raise JobNotFinished
    return {
        "manifest_version": MANIFEST_VERSION,
        "job_id": record.job_id,
        "status": record.status.value,
        "model": _model(record),
        "options": dict(record.options),
        **_seed(record),
        "inputs": {role: facts.model_dump() for role, facts in record.inputs.items()} or None,
        "prediction_id": record.prediction_id,
        "times": {
            "created": _iso(record.created_at),
            "create_sent": _iso(record.create_sent_at),
            "started": _iso(record.started_at),
            "finished": _iso(record.finished_at),
            "predict_time_s": record.predict_time_s,
        },
        "credits": {"held": record.held, "charged": record.charged, "returned": record.returned},
        "app": {"name": APP_NAME, "version": record.app_version},
    }


def shared_manifest(record: JobRecord) -> dict[str, Any]:
    """The manifest a shared video carries: the same, without the owner's credits."""
    manifest = job_manifest(record)
    del manifest["credits"]
    return manifest


def _model(record: JobRecord) -> dict[str, Any]:
    """The model id, its title, and the version run: Replicate's report, else the catalog's pin."""
    spec = _spec(record)
    pinned = spec.version if spec is not None else None
    return {
        "id": record.model,
        "title": spec.title if spec is not None else record.model,
        "version": record.model_version or pinned,
    }


def _seed(record: JobRecord) -> dict[str, Any]:
    """The seed and what it means: set by the visitor, left to the model (random), or none at all."""
    spec = _spec(record)
    if spec is None or all(option.name != SEED_OPTION for option in spec.options):
        return {"seed": None, "seed_note": "This model takes no seed."}
    seed = record.options.get(SEED_OPTION)
    if seed is None:
        return {"seed": None, "seed_note": "No seed was set: the model chose a random one."}
    return {"seed": seed, "seed_note": "Set by the visitor: the same seed repeats the result."}


def _spec(record: JobRecord) -> ModelSpec | None:
    try:
        return find_model(record.model)
    except UnknownModel:
        return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
