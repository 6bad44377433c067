"""Which arguments of which event Gradio validates as files before any handler of ours runs.

A page event's Image or Audio input is validated against the component's data model (ImageData,
FileData) even when the event skips preprocessing; a list or a number there fails inside Gradio
with its generic error. The guard checks those arguments first, with the same models, so the
caller reads a sentence instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gradio.data_classes import FileData, GradioModel, GradioRootModel, ImageData


@dataclass(frozen=True)
class FileInput:
    """One file argument of an event: its position in `data`, its label and Gradio's model of it."""

    position: int
    label: str
    model: type[GradioModel] | type[GradioRootModel]


class FileInputs:
    """The file arguments of every event of a Blocks, by fn_index and by API name."""

    def __init__(self, events: Iterable[Any]) -> None:
        self._by_index: dict[int, list[FileInput]] = {}
        self._by_name: dict[str, int] = {}
        for fn in events:
            self._by_index[fn._id] = [
                FileInput(position, str(getattr(block, "label", None) or f"argument {position + 1}"), model)
                for position, block in enumerate(fn.inputs)
                if (model := getattr(block, "data_model", None)) is not None and _is_file_model(model)
            ]
            if fn.api_name:
                self._by_name[str(fn.api_name)] = fn._id

    def of(self, fn_index: Any, api_name: str | None) -> list[FileInput]:
        """The file arguments of the event a request names (its fn_index wins, as in Gradio)."""
        if isinstance(fn_index, int) and not isinstance(fn_index, bool):
            return self._by_index.get(fn_index, [])
        if api_name is not None and api_name in self._by_name:
            return self._by_index[self._by_name[api_name]]
        return []


def _is_file_model(model: Any) -> bool:
    return isinstance(model, type) and issubclass(model, FileData | ImageData)
