"""What the app needs to know about one Replicate model to run it and charge for it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from demo_app.catalog._options import OptionSpec, validate
from demo_app.catalog._pricing import PricingRule


@dataclass(frozen=True)
class ModelSpec:
    """One model: its endpoint, how our image/audio map to its fields, its limits and its price."""

    id: str
    """"owner/name" on Replicate."""
    title: str
    description: str
    """One line for the model picker."""
    endpoint: Literal["model", "version"]
    """"model": official model, POST /v1/models/{id}/predictions; "version": POST /v1/predictions."""
    version: str | None
    """64-hex version id (version endpoint only)."""
    image_field: str
    audio_field: str
    prompt_field: str | None
    """Which option, if any, is the free-text prompt (the UI shows it prominently)."""
    options: tuple[OptionSpec, ...]
    max_audio_s: float
    min_image_side: int
    max_image_side: int
    typical_run_s_per_audio_s: float
    typical_overhead_s: float
    pricing: PricingRule
    notes: str = ""
    """Where the field names, version and limits come from, and what is unconfirmed."""
    licence: str = ""
    """The licence note shown in the model's description: may the Space sell runs of it?"""
    commercial: bool = False
    """True only when the model's licence allows selling its runs; others are offered only when
    the owner names them (`LIPSYNC_MODELS`), labelled as research models."""
    priced_by: str | None = None
    """The option whose choice sets the price (e.g. a resolution), or None."""
    choice_pricing: tuple[tuple[str, PricingRule], ...] = ()
    """(choice, rule) for every choice of `priced_by`; `pricing` is the default choice's rule."""
    default_prompt: str | None = None
    """Sent as the prompt when the visitor leaves it blank (for models whose schema requires one)."""
    output_fps: int | None = None
    chunk_option: str | None = None
    """The option giving frames per generated chunk: the video is padded to whole chunks of
    `output_fps` frames per second, and a per-output-second price bills the padding."""
    max_image_bytes: int | None = None
    max_image_aspect: float | None = None
    """Longest side over shortest side the model takes (2.5 for 1:2.5 to 2.5:1)."""
    max_audio_bytes: int | None = None
    """Largest audio file the model takes; a bigger clip is sent compressed, or refused."""

    def __post_init__(self) -> None:
        if (self.endpoint == "version") != (self.version is not None):
            raise ValueError(f"{self.id}: a version id goes with the version endpoint, and only there.")
        names = [option.name for option in self.options]
        if self.prompt_field is not None and self.prompt_field not in names:
            raise ValueError(f"{self.id}: the prompt field must be one of its options.")
        if {self.image_field, self.audio_field} & set(names) or len(set(names)) != len(names):
            raise ValueError(f"{self.id}: option names must be unique and differ from the media fields.")
        by_name = {option.name: option for option in self.options}
        if self.priced_by is not None:
            option = by_name.get(self.priced_by)
            if option is None or option.kind != "choice":
                raise ValueError(f"{self.id}: the price must follow one of its choice options.")
            if [choice for choice, _ in self.choice_pricing] != list(option.choices):
                raise ValueError(f"{self.id}: every choice of {self.priced_by} needs its own price.")
            if self.pricing != self.pricing_for({}):
                raise ValueError(f"{self.id}: `pricing` must be the default choice's price.")
        if self.chunk_option is not None and (self.output_fps is None or self.chunk_option not in by_name):
            raise ValueError(f"{self.id}: chunked output needs output_fps and a chunk option.")

    @property
    def label(self) -> str:
        """The model's name in the picker: research-only models say so."""
        return self.title if self.commercial else f"{self.title} (non-commercial research model)"

    @property
    def price_set_by_space(self) -> bool:
        """True when the Space's owner set this model's price (any choice of it)."""
        return self.pricing.set_by_space or any(rule.set_by_space for _, rule in self.choice_pricing)

    def pricing_for(self, options: Mapping[str, Any]) -> PricingRule:
        """The rule for the options chosen (a checked or raw options dict; missing: the default)."""
        if self.priced_by is None:
            return self.pricing
        checked = self.validate_options(options)
        chosen = checked.get(self.priced_by)
        return dict(self.choice_pricing).get(chosen, self.pricing) if chosen is not None else self.pricing

    def longest_output_s(self, audio_s: float, options: Mapping[str, Any]) -> float:
        """The longest video the model can return for `audio_s` of audio: padded to whole chunks."""
        if self.chunk_option is None or self.output_fps is None:
            return audio_s
        chunk = int(self.validate_options(options).get(self.chunk_option) or 1)
        frames = math.ceil(max(audio_s, 0.0) * self.output_fps - 1e-9)
        return math.ceil(frames / chunk) * chunk / self.output_fps

    def hold_for(self, audio_s: float, options: Mapping[str, Any]) -> int:
        """Credits to hold: the worst case Replicate can bill for this audio and these options."""
        rule = self.pricing_for(options)
        return rule.estimate(audio_s, output_s=self.longest_output_s(audio_s, options))

    def cancel_after_s(self, held: int, options: Mapping[str, Any], job_timeout_s: float) -> float:
        """The run time the hold buys: time-billed runs are stopped before they outgrow it."""
        bought = self.pricing_for(options).run_seconds(held)
        return job_timeout_s if bought is None else min(job_timeout_s, math.floor(bought))

    def image_problem(self, width: int, height: int, size_bytes: int) -> str | None:
        """Why the prepared picture breaks a limit of this model (one sentence), or None."""
        if self.max_image_aspect is not None:
            short, long = sorted((max(width, 1), max(height, 1)))
            if long / short > self.max_image_aspect:
                ratio = f"{self.max_image_aspect:g}"
                return (
                    f"{self.title} takes pictures between 1:{ratio} and {ratio}:1, and this one is "
                    f"{width}×{height}; crop it closer to a square and try again."
                )
        if self.max_image_bytes is not None and size_bytes > self.max_image_bytes:
            return (
                f"{self.title} takes pictures of at most {self.max_image_bytes // (1024 * 1024)} MB; "
                "use a smaller picture."
            )
        return None

    def with_pricing(self, rule: PricingRule, choices: Mapping[str, PricingRule]) -> ModelSpec:
        """The same model at other prices (the owner's overrides)."""
        return replace(self, pricing=rule, choice_pricing=tuple(choices.items()))

    def typical_run_s(self, audio_s: float) -> float:
        """Seconds a warm run usually takes: drives the progress estimate when logs say nothing."""
        return self.typical_overhead_s + self.typical_run_s_per_audio_s * max(audio_s, 0.0)

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """All options with defaults filled in; OptionError names the first bad one."""
        return validate(self.options, options, model_title=self.title)

    def build_input(self, image_url: str, audio_url: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """The prediction `input`, in the model's own field names; unset options are left out."""
        checked = self.validate_options(options)
        if self.prompt_field is not None and self.default_prompt and not checked.get(self.prompt_field):
            checked[self.prompt_field] = self.default_prompt
        model_input: dict[str, Any] = {self.image_field: image_url, self.audio_field: audio_url}
        model_input.update((name, value) for name, value in checked.items() if value is not None)
        return model_input

    def prediction_target(self) -> dict[str, str]:
        """Keyword arguments naming the model for `ReplicateClient.create_prediction`."""
        if self.endpoint == "model":
            return {"model": self.id}
        assert self.version is not None
        return {"version": self.version}
