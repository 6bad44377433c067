"""The models Lipsync Studio offers: field mapping, options, limits and pricing.

`get_model(DEFAULT_MODEL).pricing.estimate(10.0)` is 200 credits ($0.20, the original's
estimate); `model.build_input(image_url, audio_url, options)` is the prediction input in the
model's own field names, and `model.prediction_target()` says which endpoint takes it.
"""

from __future__ import annotations

from demo_app.catalog._models import CATALOG, DEFAULT_MODEL, UnknownModel, get_model
from demo_app.catalog._options import OptionError, OptionKind, OptionSpec
from demo_app.catalog._pricing import PricingRule
from demo_app.catalog._spec import ModelSpec

__all__ = [
    "CATALOG",
    "DEFAULT_MODEL",
    "ModelSpec",
    "OptionError",
    "OptionKind",
    "OptionSpec",
    "PricingRule",
    "UnknownModel",
    "get_model",
]
