"""The models Lipsync Studio offers: field mapping, options, limits and pricing.

`get_model(DEFAULT_MODEL).pricing.estimate(10.0)` is 200 credits ($0.20, the original's
estimate); `model.build_input(image_url, audio_url, options)` is the prediction input in the
model's own field names, and `model.prediction_target()` says which endpoint takes it.
`SchemaWatch` keeps each model's availability in step with its input schema on Replicate.
"""

from __future__ import annotations

from demo_app.catalog._models import CATALOG, DEFAULT_MODEL, UnknownModel, get_model
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
    "OptionError",
    "OptionKind",
    "OptionSpec",
    "PricingRule",
    "SchemaWatch",
    "UnknownModel",
    "UnreadableSchema",
    "get_model",
    "schema_problem",
]
