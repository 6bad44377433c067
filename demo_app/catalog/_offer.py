"""The models this Space offers, at its prices: the catalog filtered by `LIPSYNC_MODELS` and
priced by the owner's price file, chosen once at start.

By default only commercially usable models are offered: selling credits for a model whose
licence forbids commercial use is a licence problem. The owner may still name one (research
Spaces), and it is then labelled "non-commercial research model" (`ModelSpec.label`).
A job started before a restart may name a model no longer offered: `find_model` still knows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from demo_app.catalog._models import CATALOG, DEFAULT_MODEL
from demo_app.catalog._prices import read_prices
from demo_app.catalog._spec import ModelSpec
from demo_app.quoting import echo

MAX_MODELS_CHARS = 2000


class OfferError(ValueError):
    """`LIPSYNC_MODELS` or the price file cannot be used; `str()` is one sentence saying why."""


class UnknownModel(ValueError):
    """A model id the Space does not offer; `str()` lists the ones it does."""

    def __init__(self, model_id: str) -> None:
        names = ", ".join(_current.models)
        super().__init__(f"There is no model “{model_id}” here; choose one of {names}.")
        self.model_id = model_id


@dataclass(frozen=True)
class Offer:
    """What the Space offers (`models`, catalog order) and every model at its prices (`known`)."""

    models: Mapping[str, ModelSpec]
    known: Mapping[str, ModelSpec]

    @property
    def default(self) -> str:
        """The model the page starts on: Wan 2.2 S2V when offered, else the first offered."""
        return DEFAULT_MODEL if DEFAULT_MODEL in self.models else next(iter(self.models))


def read_offer(model_ids: str | None = None, prices_path: Path | None = None) -> Offer:
    """The offer `LIPSYNC_MODELS` (None or blank: every commercial model) and the price file make."""
    known = dict(CATALOG)
    if prices_path is not None:
        try:
            known = read_prices(prices_path, known)
        except ValueError as exc:
            raise OfferError(str(exc)) from None
    if model_ids is None or not model_ids.strip():
        return Offer({i: s for i, s in known.items() if s.commercial}, known)
    if len(model_ids) > MAX_MODELS_CHARS:
        raise OfferError(
            f"LIPSYNC_MODELS is {len(model_ids):,} characters long; list at most a few model ids."
        )
    wanted = {name.strip() for name in model_ids.split(",") if name.strip()}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise OfferError(
            f"LIPSYNC_MODELS names {echo(unknown[0])}, which is not a model of this app; "
            f"use comma-separated ids from {', '.join(known)}."
        )
    return Offer({i: s for i, s in known.items() if i in wanted}, known)


_current = read_offer()


def use_offer(offer: Offer) -> Offer:
    """Make `offer` the Space's offer (at start); returns the one it replaces."""
    global _current
    previous, _current = _current, offer
    return previous


def current_offer() -> Offer:
    return _current


def offered() -> Mapping[str, ModelSpec]:
    """The models the Space offers, in catalog order, at its prices."""
    return _current.models


def get_model(model_id: str) -> ModelSpec:
    """An offered model's spec, or UnknownModel (a ValueError) with a readable sentence."""
    try:
        return _current.models[model_id]
    except (KeyError, TypeError):
        raise UnknownModel(str(model_id)) from None


def find_model(model_id: str) -> ModelSpec:
    """Any model this app knows, at the Space's prices (jobs started before the offer changed)."""
    try:
        return _current.known[model_id]
    except (KeyError, TypeError):
        raise UnknownModel(str(model_id)) from None
