"""Quoting what a caller sent inside a refusal: short, printable, and safe for any value.

A value can be anything a caller typed: megabytes of text, control characters, or an integer too
long for Python to print (`str()` refuses past 4,300 digits). A refusal quotes a short piece.
"""

from __future__ import annotations

import math
from typing import Any

ECHO_CHARS = 40
"""How much of a refused value a message quotes."""


def echo(value: Any) -> str:
    """A short, printable quote of a value a caller sent."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 64:
            sign = "negative " if value < 0 else ""
            return f"a {sign}number of {_digits(abs(value))} digits"
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict | list | tuple):
        return "a list or an object"
    elif value is None:
        return "nothing"
    else:
        text = type(value).__name__
    text = "".join(ch if ch.isprintable() else " " for ch in text[: ECHO_CHARS + 1])
    if len(text) > ECHO_CHARS:
        text = text[:ECHO_CHARS].rstrip() + "…"
    return f"“{text}”"


def _digits(number: int) -> int:
    """How many decimal digits `number` has, without printing it."""
    digits = int((number.bit_length() - 1) * math.log10(2)) + 1
    return digits + 1 if number >= 10**digits else digits
