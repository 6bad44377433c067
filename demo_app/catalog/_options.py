"""Advanced options of a model: what each one is, and checking what a visitor sent.

Option names are the model's own input field names, so a checked options dict goes into the
prediction input unchanged. Every refusal is one sentence naming the option by its label, and
quotes at most a short piece of what was sent: a value can be anything a caller typed.

Numbers are compared exactly and only within bounds every numeric option must declare, so a
5,000-digit seed is refused in a sentence, never converted to a float (which overflows) or
printed whole (Python refuses to print integers that long).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from demo_app.quoting import echo

OptionKind = Literal["int", "float", "bool", "choice", "text"]

MAX_NUMBER_CHARS = 40
"""A number written with more characters than this is refused before it is parsed."""


class OptionError(ValueError):
    """An option the model does not have, or a value it would refuse; `str()` says what to do."""

    def __init__(self, message: str, *, option: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class OptionSpec:
    """One advanced option. `default=None` means "leave it out" (the model picks, e.g. a random seed)."""

    name: str
    label: str
    kind: OptionKind
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    max_length: int | None = None
    """Longest text accepted (kind "text")."""
    pattern: str | None = None
    """Full-match regular expression for kind "text"; `help` shows the expected form."""

    def __post_init__(self) -> None:
        if self.kind in ("int", "float") and (self.minimum is None or self.maximum is None):
            raise ValueError(f"Numeric option {self.name} needs both a minimum and a maximum.")

    def check(self, value: Any) -> Any:
        """The value in the model's type, or OptionError; None stands for the default."""
        if value is None or (isinstance(value, str) and not value.strip() and self.kind != "text"):
            return self.default
        if self.kind == "bool":
            return self._check_bool(value)
        if self.kind == "choice":
            return self._check_choice(value)
        if self.kind == "text":
            return self._check_text(value)
        return self._check_number(value)

    def _check_bool(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
            return value.strip().lower() == "true"
        raise self._error(f"must be on or off (true or false); got {echo(value)}")

    def _check_choice(self, value: Any) -> str:
        text = value.strip() if isinstance(value, str) else None
        for choice in self.choices:
            if text is not None and choice.lower() == text.lower():
                return choice
        raise self._error(f"must be one of {_listing(self.choices)}; got {echo(value)}")

    def _check_text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._error(f"must be text; got {echo(value)}")
        text = value.strip()
        if self.max_length is not None and len(text) > self.max_length:
            raise self._error(f"is {len(text)} characters long; shorten it to at most {self.max_length}")
        if self.pattern is not None and not re.fullmatch(self.pattern, text):
            raise self._error(f"must look like {self.help or self.pattern}; got {echo(text)}")
        return text

    def _check_number(self, value: Any) -> int | float:
        assert self.minimum is not None and self.maximum is not None
        number = _to_number(value)
        if number is None:
            raise self._error(f"must be a number; got {echo(value)}")
        if self.kind == "int" and isinstance(number, float) and not number.is_integer():
            raise self._error(f"must be a whole number; got {echo(value)}")
        # Python compares ints and floats exactly, however long the int: check before converting.
        if not self.minimum <= number <= self.maximum:
            raise self._error(f"must be {_bounds(self.minimum, self.maximum)}; got {echo(number)}")
        return int(number) if self.kind == "int" else float(number)

    def _error(self, problem: str) -> OptionError:
        return OptionError(f"“{self.label}” {problem}.", option=self.name)


def validate(
    options_spec: Iterable[OptionSpec], options: Mapping[str, Any], *, model_title: str
) -> dict[str, Any]:
    """Every option of the model with the visitor's value or its default, checked."""
    specs = {spec.name: spec for spec in options_spec}
    unknown = sorted(set(options) - set(specs))
    if unknown:
        name = unknown[0]
        if not specs:
            raise OptionError(f"{model_title} takes no options; leave out “{name}”.", option=name)
        raise OptionError(
            f"{model_title} has no option “{name}”; use {_listing(specs)}.",
            option=name,
        )
    return {name: spec.check(options.get(name)) for name, spec in specs.items()}


def _to_number(value: Any) -> int | float | None:
    """An exact int, a finite float, or None for anything that is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and len(value) <= MAX_NUMBER_CHARS:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {_num(low)} and {_num(high)}"
    if low is not None:
        return f"at least {_num(low)}"
    assert high is not None
    return f"at most {_num(high)}"


def _num(number: float) -> str:
    whole = float(number).is_integer() and abs(number) < 1e15
    return str(int(number)) if whole else f"{number:g}"


def _listing(names: Iterable[str]) -> str:
    items = list(names)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]
