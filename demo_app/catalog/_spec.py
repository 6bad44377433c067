"""What the app needs to know about one Replicate model to run it and charge for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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

    def __post_init__(self) -> None:
        if (self.endpoint == "version") != (self.version is not None):
            raise ValueError(f"{self.id}: a version id goes with the version endpoint, and only there.")
        names = [option.name for option in self.options]
        if self.prompt_field is not None and self.prompt_field not in names:
            raise ValueError(f"{self.id}: the prompt field must be one of its options.")
        if {self.image_field, self.audio_field} & set(names) or len(set(names)) != len(names):
            raise ValueError(f"{self.id}: option names must be unique and differ from the media fields.")

    def typical_run_s(self, audio_s: float) -> float:
        """Seconds a warm run usually takes: drives the progress estimate when logs say nothing."""
        return self.typical_overhead_s + self.typical_run_s_per_audio_s * max(audio_s, 0.0)

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """All options with defaults filled in; OptionError names the first bad one."""
        return validate(self.options, options, model_title=self.title)

    def build_input(self, image_url: str, audio_url: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """The prediction `input`, in the model's own field names; unset options are left out."""
        checked = self.validate_options(options)
        model_input: dict[str, Any] = {self.image_field: image_url, self.audio_field: audio_url}
        model_input.update((name, value) for name, value in checked.items() if value is not None)
        return model_input

    def prediction_target(self) -> dict[str, str]:
        """Keyword arguments naming the model for `ReplicateClient.create_prediction`."""
        if self.endpoint == "model":
            return {"model": self.id}
        assert self.version is not None
        return {"version": self.version}
