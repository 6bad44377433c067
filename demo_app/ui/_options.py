"""The model-dependent inputs: the prompt and the advanced options, built from the catalog.

Every model's options exist on the page at once, each model's in its own group; choosing a
model shows its group and hides the others, so the values a visitor set survive a change of mind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gradio as gr

from demo_app.catalog import ModelSpec, OptionSpec

SLIDER_MAX_STEPS = 1000
"""Ranges with more steps than this (e.g. a seed) get a number box instead of a slider."""


class ModelInputs:
    """The prompt box plus one group of option components per model."""

    def __init__(self, catalog: Mapping[str, ModelSpec], selected: str) -> None:
        self._catalog = catalog
        first_prompt = _prompt_spec(catalog[selected])
        self.prompt = gr.Textbox(
            label="Prompt",
            lines=2,
            placeholder=first_prompt.help if first_prompt else "",
            visible=first_prompt is not None,
            elem_id="prompt",
        )
        self.groups: dict[str, gr.Column] = {}
        self.components: list[OptionComponent] = []
        self._slots: list[tuple[str, OptionSpec]] = []
        with gr.Accordion("Advanced options", open=False, elem_id="advanced"):
            for model_id, spec in catalog.items():
                advanced = [o for o in spec.options if o.name != spec.prompt_field]
                with gr.Column(visible=model_id == selected) as group:
                    if not advanced:
                        gr.Markdown(f"{spec.title} has no options.")
                    for option in advanced:
                        self.components.append(option_component(option))
                        self._slots.append((model_id, option))
                self.groups[model_id] = group

    @property
    def inputs(self) -> list[gr.components.Component]:
        """The prompt, then every option component, in the order `collect` expects."""
        return [self.prompt, *self.components]

    def collect(self, model_id: str, values: Sequence[Any]) -> dict[str, Any]:
        """The chosen model's options from the values of `inputs`; blanks mean "use the default"."""
        prompt, *option_values = values
        spec = self._catalog.get(model_id)
        if spec is None:
            return {}
        options: dict[str, Any] = {}
        if spec.prompt_field is not None and prompt:
            options[spec.prompt_field] = prompt
        for (owner_id, option), value in zip(self._slots, option_values, strict=True):
            if owner_id == model_id and value is not None and value != "":
                options[option.name] = value
        return options

    def show(self, model_id: str) -> list[Any]:
        """Updates for the prompt and each group when `model_id` is chosen."""
        spec = self._catalog.get(model_id)
        prompt_spec = _prompt_spec(spec) if spec else None
        updates: list[Any] = [
            gr.Textbox(visible=prompt_spec is not None, placeholder=prompt_spec.help if prompt_spec else "")
        ]
        updates.extend(gr.Column(visible=group_id == model_id) for group_id in self.groups)
        return updates

    @property
    def outputs(self) -> list[gr.components.Component | gr.Column]:
        """What `show` updates, in order."""
        return [self.prompt, *self.groups.values()]


OptionComponent = gr.Checkbox | gr.Dropdown | gr.Textbox | gr.Slider | gr.Number


def option_component(option: OptionSpec) -> OptionComponent:
    """The input that fits an option: slider, number box, checkbox, dropdown or text box."""
    common: dict[str, Any] = {"label": option.label, "info": option.help or None}
    if option.kind == "bool":
        return gr.Checkbox(value=bool(option.default), **common)
    if option.kind == "choice":
        return gr.Dropdown(choices=list(option.choices), value=option.default, **common)
    if option.kind == "text":
        return gr.Textbox(value=option.default or "", max_length=option.max_length, **common)
    step = 1 if option.kind == "int" else _float_step(option)
    low, high = option.minimum, option.maximum
    few_steps = low is not None and high is not None and (high - low) / step <= SLIDER_MAX_STEPS
    if option.default is not None and few_steps:
        assert low is not None and high is not None
        return gr.Slider(minimum=low, maximum=high, value=option.default, step=step, **common)
    return gr.Number(
        value=option.default,
        minimum=low,
        maximum=high,
        precision=0 if option.kind == "int" else None,
        **common,
    )


def _float_step(option: OptionSpec) -> float:
    """A step that gives at most a few hundred positions between the bounds."""
    if option.minimum is None or option.maximum is None:
        return 0.01
    span = option.maximum - option.minimum
    return 1.0 if span >= 20 else 0.1 if span >= 2 else 0.01


def _prompt_spec(spec: ModelSpec) -> OptionSpec | None:
    for option in spec.options:
        if option.name == spec.prompt_field:
            return option
    return None
