"""Batches: many face-and-clip pairs checked as one, run as ordinary jobs within the owner's limit."""

from demo_app.batches._checks import MAX_ITEMS, Pair, pairs_of
from demo_app.batches._files import shown_name
from demo_app.batches._service import RECORDS_FILE, Batches, replica_records_file
from demo_app.batches._types import BatchNotFound, BatchRefused, ItemState
from demo_app.batches._views import BatchView, ItemView

__all__ = [
    "MAX_ITEMS",
    "RECORDS_FILE",
    "BatchNotFound",
    "BatchRefused",
    "BatchView",
    "Batches",
    "ItemState",
    "ItemView",
    "Pair",
    "pairs_of",
    "replica_records_file",
    "shown_name",
]
