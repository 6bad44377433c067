"""The models Lipsync Studio knows and the ones this Space offers: field mapping, options,
limits, licences and pricing.

`CATALOG` is every model at the catalog's prices; `offered()` the ones the Space offers at its
own prices (`LIPSYNC_MODELS` and the price file, read by `read_offer` and made current by
`use_offer` at start). `get_model(DEFAULT_MODEL).hold_for(10.0, {})` is what 10 s of audio
holds; `model.build_input(image_url, audio_url, options)` is the prediction input in the
model's own field names, and `model.prediction_target()` says which endpoint takes it.
`SchemaWatch` keeps each model's availability in step with its input schema on Replicate.
"""

from __future__ import annotations

from demo_app.catalog._models import CATALOG, DEFAULT_MODEL
from demo_app.catalog._offer import (
    Offer,
    OfferError,
    UnknownModel,
    current_offer,
    find_model,
    get_model,
    offered,
    read_offer,
    use_offer,
)
from demo_app.catalog._options import OptionError, OptionKind, OptionSpec
from demo_app.catalog._pricing import PricingRule
from demo_app.catalog._schema_check import UnreadableSchema, schema_problem
from demo_app.catalog._schema_watch import Availability, SchemaWatch
from demo_app.catalog._spec import ModelSpec

__all__ = [
    "CATALOG",
    "DEFAULT_MODEL",
    "Availability",
    "ModelSpec",
    "Offer",
    "OfferError",
    "OptionError",
    "OptionKind",
    "OptionSpec",
    "PricingRule",
    "SchemaWatch",
    "UnknownModel",
    "UnreadableSchema",
    "current_offer",
    "find_model",
    "get_model",
    "offered",
    "read_offer",
    "schema_problem",
    "use_offer",
]
