"""The owner's prices: a small TOML file that overrides the catalog's, because Replicate's
prices change without notice and its API returns none.

    # prices.toml, in the data directory (or LIPSYNC_PRICES_FILE)
    ["wan-video/wan-2.2-s2v"]
    usd_per_output_second = "0.025"   # or usd_per_run, or usd_per_predict_second
    margin_percent = 20               # optional: added on top, rounded up to whole credits

A model given only a margin keeps the catalog's prices (for each choice, when its price
follows an option) plus the margin; a rate replaces them all. The file is the owner's, but it
is read as hostile input all the same: bounded in size, every key known, every value checked;
a bad file stops the app with one sentence naming the line or the model.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from demo_app.catalog._pricing import PricingRule
from demo_app.catalog._spec import ModelSpec
from demo_app.money import credits_from_dollars
from demo_app.quoting import echo

MAX_FILE_BYTES = 64 * 1024
MAX_MARGIN_PERCENT = 1000
MAX_CREDITS_PER_SECOND = 10_000
"""$10 per second: far above any lip-sync model; a larger figure is a typo."""
MAX_CREDITS_PER_RUN = 100_000
"""$100 per run."""

_RATES = {
    "usd_per_output_second": ("per_output_second", MAX_CREDITS_PER_SECOND),
    "usd_per_predict_second": ("per_predict_second", MAX_CREDITS_PER_SECOND),
    "usd_per_run": ("per_run", MAX_CREDITS_PER_RUN),
}
_KEYS = (*_RATES, "margin_percent")


class PriceFileError(ValueError):
    """The price file cannot be used; `str()` is one sentence naming the line or the model."""


def read_prices(path: Path, models: Mapping[str, ModelSpec]) -> dict[str, ModelSpec]:
    """`models` with the file's prices applied (the file is optional: absent means no change)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return dict(models)
    except OSError as exc:
        raise PriceFileError(
            f"The price file {path} cannot be read ({exc.strerror}); fix or remove it."
        ) from None
    if size > MAX_FILE_BYTES:
        raise PriceFileError(
            f"The price file {path} is {size:,} bytes; a price file is at most {MAX_FILE_BYTES:,} bytes."
        )
    try:
        table = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise PriceFileError(f"The price file {path} is not UTF-8 text; save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise PriceFileError(f"The price file {path} is not valid TOML: {exc}; fix that line.") from None
    priced = dict(models)
    for model_id, entry in table.items():
        spec = models.get(model_id)
        if spec is None:
            raise PriceFileError(
                f"The price file {path} prices {echo(model_id)}, which is not a model of this app; "
                f'use one of {", ".join(models)} as a ["owner/name"] table.'
            )
        priced[model_id] = _apply(path, spec, entry)
    return priced


def _apply(path: Path, spec: ModelSpec, entry: Any) -> ModelSpec:
    where = f"The price file {path}, for {spec.id},"
    if not isinstance(entry, dict):
        raise PriceFileError(f'{where} must be a table of prices, like ["{spec.id}"].')
    unknown = [key for key in entry if key not in _KEYS]
    if unknown:
        raise PriceFileError(f"{where} has the unknown key {echo(unknown[0])}; use {', '.join(_KEYS)}.")
    rates = [key for key in _RATES if key in entry]
    if len(rates) > 1:
        raise PriceFileError(f"{where} sets both {rates[0]} and {rates[1]}; keep one.")
    margin = _margin(where, entry.get("margin_percent", 0))
    plus = f" plus a {margin}% margin" if margin else ""
    if rates:
        key = rates[0]
        field, cap = _RATES[key]
        if field == "per_predict_second" and not spec.pricing.time_billed:
            raise PriceFileError(
                f"{where} sets {key}, but Replicate bills this model per second of video; "
                "use usd_per_output_second or usd_per_run."
            )
        credits = _credits(where, key, entry[key], cap)
        source = f"Set by this Space in {path.name}: {key} = {entry[key]}{plus}."
        rule = _replaced(spec.pricing, field, credits).with_margin(margin)
        rule = replace(rule, source=source)
        return spec.with_pricing(rule, {choice: rule for choice, _ in spec.choice_pricing})
    if "margin_percent" not in entry:
        raise PriceFileError(f"{where} sets no price; give {', '.join(_RATES)} or margin_percent.")

    def raised(base: PricingRule) -> PricingRule:
        source = f"Set by this Space in {path.name}: the catalog's price{plus} ({base.source})"
        return replace(base.with_margin(margin), source=source)

    return spec.with_pricing(raised(spec.pricing), {c: raised(r) for c, r in spec.choice_pricing})


def _replaced(base: PricingRule, field: str, credits: int) -> PricingRule:
    """A rule of the kind `field` names; a time-billed one keeps the catalog's run-time bound."""
    rates: dict[str, int | None] = {"per_output_second": None, "per_predict_second": None, "per_run": None}
    rates[field] = credits
    return PricingRule(
        per_output_second=rates["per_output_second"],
        per_predict_second=rates["per_predict_second"],
        per_run=rates["per_run"],
        confirmed=False,
        estimate_predict_overhead_s=base.estimate_predict_overhead_s,
        estimate_predict_s_per_audio_s=base.estimate_predict_s_per_audio_s or 1,
        bills_unsuccessful_runs=base.bills_unsuccessful_runs,
        set_by_space=True,
    )


def _credits(where: str, key: str, value: Any, cap: int) -> int:
    finite = not isinstance(value, float) or math.isfinite(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, str | int | float)
        or len(str(value)) > 20
        or not finite
    ):
        raise PriceFileError(f'{where} {key} must be a dollar amount like "0.02"; got {echo(value)}.')
    try:
        credits = credits_from_dollars(str(value), round_up=True)
    except (ValueError, ArithmeticError):
        raise PriceFileError(
            f'{where} {key} must be a dollar amount like "0.02"; got {echo(value)}.'
        ) from None
    if not 0 <= credits <= cap:
        raise PriceFileError(f"{where} {key} must be between $0 and ${cap / 1000:g}; got {echo(value)}.")
    return credits


def _margin(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MARGIN_PERCENT:
        wanted = f"a whole number from 0 to {MAX_MARGIN_PERCENT}"
        raise PriceFileError(f"{where} margin_percent must be {wanted}; got {echo(value)}.")
    return value
