"""What a job knows of its prediction upstream, whoever told it: a poll, the status sweeper, or a
webhook. Deliveries come late, twice or out of order, so a state is only ever replaced by a
newer one: by status first (starting < processing < an end), then by `completed_at` and by how
much log there is."""

from __future__ import annotations

import enum
from datetime import datetime

from demo_app.jobs._live import LiveJob
from demo_app.replicate import Prediction, Status
from demo_app.webhooks import Receipt

_RANK = {Status.UNKNOWN: 0, Status.STARTING: 0, Status.PROCESSING: 1}
_TERMINAL_RANK = 2


class Order(enum.Enum):
    OLDER = -1
    SAME = 0
    NEWER = 1


def status_rank(status: Status) -> int:
    """0 queued, 1 running, 2 ended: a prediction's status never goes down this scale."""
    return _RANK.get(status, _TERMINAL_RANK)


def compare(new: Prediction, old: Prediction) -> Order:
    """Whether `new` is a newer, the same or an older state of the prediction `old` shows."""
    steps = (
        (status_rank(new.status), status_rank(old.status)),
        (_moment(new.completed_at), _moment(old.completed_at)),
        (len(new.logs or ""), len(old.logs or "")),
    )
    for mine, theirs in steps:
        if mine != theirs:
            return Order.NEWER if mine > theirs else Order.OLDER
    return Order.SAME


def offer(job: LiveJob, prediction: Prediction) -> Receipt:
    """A pushed state: kept for the follower (and the follower woken) if it is news."""
    followed = job.record.prediction_id
    if followed is not None and prediction.id != followed:
        return Receipt.OTHER_PREDICTION
    job.pushes += 1
    known = [p for p in (job.pushed, job.latest) if p is not None and p.id == prediction.id]
    orders = [compare(prediction, p) for p in known]
    if Order.OLDER in orders:
        return Receipt.STALE
    if Order.SAME in orders:
        return Receipt.SAME
    job.pushed = slim(prediction)
    job.news.set()
    return Receipt.APPLIED


def slim(prediction: Prediction) -> Prediction:
    """The state without its input (inline files can be most of a body): what a job keeps."""
    return prediction.model_copy(update={"input": {}}) if prediction.input else prediction


def take_pushed(job: LiveJob, prediction_id: str) -> Prediction | None:
    """The pushed state of the followed prediction, once (a twin's state is dropped)."""
    pushed, job.pushed = job.pushed, None
    return pushed if pushed is not None and pushed.id == prediction_id else None


def _moment(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0
