"""The `/models` answer: every offered model with its limits, options, price rule and availability.

One dict literal per model (`model_json`), one key per line, so adding a fact is adding a line.
Prices are whole credits (1 credit = $0.001); `unavailable_reason` is the one sentence a model
whose schema on Replicate no longer fits carries (None while it is available). Changing a key
here changes the contract: update the README.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from demo_app.catalog import Availability, ModelSpec, OptionSpec, PricingRule

TYPICAL_AUDIO_S = 10.0
"""The clip length the typical run time and the example price are given for."""


def models_json(specs: Iterable[ModelSpec], availability: Callable[[str], Availability]) -> dict[str, Any]:
    """The `/models` answer."""
    return {"credit_usd": 0.001, "models": [model_json(spec, availability(spec.id)) for spec in specs]}


def model_json(spec: ModelSpec, availability: Availability) -> dict[str, Any]:
    """One model, as researchers and agents choose among them."""
    return {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description,
        "label": spec.label,
        "licence": spec.licence,
        "commercial": spec.commercial,
        "available": availability.available,
        "unavailable_reason": availability.reason,
        "schema_checked_at": availability.checked_at.isoformat() if availability.checked_at else None,
        "limits": {
            "max_audio_s": spec.max_audio_s,
            "min_image_side": spec.min_image_side,
            "max_image_side": spec.max_image_side,
            "max_image_bytes": spec.max_image_bytes,
            "max_image_aspect": spec.max_image_aspect,
            "max_audio_bytes": spec.max_audio_bytes,
        },
        "prompt_option": spec.prompt_field,
        "options": [option_json(option) for option in spec.options],
        "price": price_json(spec),
        "typical_run_s_for_10s_audio": round(spec.typical_run_s(TYPICAL_AUDIO_S)),
        "notes": spec.notes,
    }


def option_json(option: OptionSpec) -> dict[str, Any]:
    """An option as `options_json` takes it: its name, kind, default and what it accepts."""
    return {
        "name": option.name,
        "label": option.label,
        "kind": option.kind,
        "default": option.default,
        "minimum": option.minimum,
        "maximum": option.maximum,
        "choices": list(option.choices) or None,
        "max_length": option.max_length,
        "help": option.help,
    }


def price_json(spec: ModelSpec) -> dict[str, Any]:
    """The rule in credits per second or per run (per choice when an option sets it), what 10 s
    of audio holds with the default options, who set the price and where it comes from."""
    rule = spec.pricing
    return {
        **rule_json(rule),
        "priced_by_option": spec.priced_by,
        "per_choice": {choice: rule_json(choice_rule) for choice, choice_rule in spec.choice_pricing} or None,
        "held_for_10s_audio": spec.hold_for(TYPICAL_AUDIO_S, {}),
        "set_by_space": spec.price_set_by_space,
        "confirmed": rule.confirmed,
        "source": rule.source,
    }


def rule_json(rule: PricingRule) -> dict[str, Any]:
    """One price rule in whole credits."""
    return {
        "per_output_second": rule.per_output_second,
        "per_predict_second": rule.per_predict_second,
        "per_run": rule.per_run,
    }
