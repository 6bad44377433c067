"""Batches: many face-and-clip pairs checked as one, run as ordinary jobs within the owner's limit."""

from demo_app.batches._checks import MAX_ITEMS, Pair, pairs_of
from demo_app.batches._files import shown_name
from demo_app.batches._pg_store import PgBatchStore
from demo_app.batches._service import RECORDS_FILE, Batches
from demo_app.batches._store import BatchRecords, BatchStore
from demo_app.batches._types import BatchNotFound, BatchRefused, ItemState
from demo_app.batches._views import BatchView, ItemView

__all__ = [
    "MAX_ITEMS",
    "RECORDS_FILE",
    "BatchNotFound",
    "BatchRecords",
    "BatchRefused",
    "BatchStore",
    "BatchView",
    "Batches",
    "ItemState",
    "ItemView",
    "Pair",
    "PgBatchStore",
    "pairs_of",
    "shown_name",
]
