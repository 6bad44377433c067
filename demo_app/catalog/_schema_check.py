"""Does a model's input schema on Replicate still take every input this catalog may send?

`schema_problem(spec, openapi_schema)` reads the version's `components.schemas.Input` as Cog
emits it (properties with `type`, `format`, `minimum`/`maximum`, `maxLength`, inline `enum` or an
enum component behind `allOf: [{$ref}]`, `anyOf` alternatives) and answers None when every value
a visitor may pick would be accepted, else one sentence saying what no longer fits:

- a field we send is gone (renamed or removed);
- the schema requires a field we do not always send;
- a field's type differs from ours (an integer option where it now takes text, ...);
- a bound or choice list is narrower than the range or choices the page offers.

The schema comes from outside: a shape this module cannot follow (no Input object, a `$ref`
outside the document, nesting past `MAX_DEPTH`) raises `UnreadableSchema` instead of a verdict,
and sentences quote only our own names plus short `echo`es of the schema's values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from demo_app.catalog._options import OptionSpec
from demo_app.catalog._spec import ModelSpec
from demo_app.quoting import echo

MAX_DEPTH = 8
"""`$ref` / `allOf` / `anyOf` levels followed in one property."""
MAX_ENUM_RANGE = 1000
"""A whole-number option checked against an enum has at most this many values."""
_REF_PREFIX = "#/components/schemas/"


class UnreadableSchema(ValueError):
    """The schema is not in a shape this check understands; `str()` says where."""


@dataclass(frozen=True)
class _Sent:
    """One field we send: a media file (a URI string) or an option."""

    name: str
    option: OptionSpec | None


def schema_problem(spec: ModelSpec, openapi_schema: Mapping[str, Any]) -> str | None:
    """None if the schema takes everything we may send, else why not (one sentence)."""
    components = _mapping(_mapping(openapi_schema.get("components"), "components").get("schemas"), "schemas")
    input_schema = _mapping(components.get("Input"), "components.schemas.Input")
    properties = _mapping(input_schema.get("properties", {}), "Input.properties")
    required = input_schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise UnreadableSchema("Input.required is not a list of field names")
    sent = [_Sent(spec.image_field, None), _Sent(spec.audio_field, None)]
    sent += [_Sent(option.name, option) for option in spec.options]
    for field in sent:
        if field.name not in properties:
            return _sentence(spec, f"no longer has the input “{field.name}” this Space sends")
    always = {spec.image_field, spec.audio_field} | {o.name for o in spec.options if o.default is not None}
    for name in required:
        if name not in always:
            return _sentence(spec, f"requires an input {echo(name)} this Space does not always send")
    for field in sent:
        problem = _property_problem(field, properties[field.name], components, 0)
        if problem is not None:
            return _sentence(spec, problem)
    return None


def _sentence(spec: ModelSpec, problem: str) -> str:
    return f"{spec.title} is unavailable: its current input schema on Replicate {problem}."


def _property_problem(field: _Sent, prop: Any, components: Mapping[str, Any], depth: int) -> str | None:
    """Why `field` does not fit the property `prop`, or None."""
    flat = _flatten(prop, components, depth)
    alternatives = flat.get("anyOf")
    if alternatives is not None:
        if not isinstance(alternatives, list) or not alternatives:
            raise UnreadableSchema(f"anyOf of “{field.name}” is not a list")
        problems = [_property_problem(field, alt, components, depth + 1) for alt in alternatives]
        return None if None in problems else problems[0]
    option = field.option
    if option is None:
        return _expect(field.name, flat, ("string",), "a file address")
    if option.kind == "bool":
        return _expect(field.name, flat, ("boolean",), "on or off")
    if option.kind in ("int", "float"):
        return _number_problem(option, flat)
    return _text_problem(option, flat)


def _expect(name: str, flat: Mapping[str, Any], types: tuple[str, ...], ours: str) -> str | None:
    given = flat.get("type")
    if given is None or given in types:
        return None
    return f"expects “{name}” to be {echo(given)}, not {ours}"


def _number_problem(option: OptionSpec, flat: Mapping[str, Any]) -> str | None:
    assert option.minimum is not None and option.maximum is not None
    types = ("integer", "number") if option.kind == "int" else ("number",)
    ours = "a whole number" if option.kind == "int" else "a number"
    mismatch = _expect(option.name, flat, types, ours)
    if mismatch is not None:
        return mismatch
    low, high = _bound(flat, "minimum", "ge"), _bound(flat, "maximum", "le")
    if (low is not None and low > option.minimum) or (high is not None and high < option.maximum):
        return (
            f"accepts “{option.name}” only from {_range(low, high)}, "
            f"but this Space offers {_range(option.minimum, option.maximum)}"
        )
    choices = flat.get("enum")
    if choices is not None and not _enum_covers_range(option, _enum(option.name, choices)):
        return f"takes only a few listed values for “{option.name}”, not the range offered here"
    return None


def _text_problem(option: OptionSpec, flat: Mapping[str, Any]) -> str | None:
    mismatch = _expect(option.name, flat, ("string",), "text")
    if mismatch is not None:
        return mismatch
    choices = flat.get("enum")
    if choices is not None:
        listed = _enum(option.name, choices)
        if option.kind != "choice":
            return f"takes only listed values for “{option.name}”, not free text"
        missing = [c for c in option.choices if c not in listed]
        if missing:
            return f"no longer accepts {echo(missing[0])} for “{option.name}”"
    longest = flat.get("maxLength")
    if longest is not None:
        if not _is_number(longest):
            raise UnreadableSchema(f"maxLength of “{option.name}” is not a number")
        allowed = option.max_length if option.kind == "text" else max(map(len, option.choices), default=0)
        if allowed is None or allowed > longest:
            return f"limits “{option.name}” to {_num(longest)} characters, fewer than allowed here"
    return None


def _flatten(prop: Any, components: Mapping[str, Any], depth: int) -> dict[str, Any]:
    """The property with its `$ref` and `allOf` parts merged in (its own keys win)."""
    if depth > MAX_DEPTH:
        raise UnreadableSchema("a property nests deeper than this check follows")
    prop = _mapping(prop, "a property")
    merged: dict[str, Any] = {}
    ref = prop.get("$ref")
    if ref is not None:
        merged.update(_flatten(_component(ref, components), components, depth + 1))
    parts = prop.get("allOf", [])
    if not isinstance(parts, list):
        raise UnreadableSchema("allOf is not a list")
    for part in parts:
        merged.update(_flatten(part, components, depth + 1))
    merged.update((key, value) for key, value in prop.items() if key not in ("$ref", "allOf"))
    return merged


def _component(ref: Any, components: Mapping[str, Any]) -> Any:
    name = ref[len(_REF_PREFIX) :] if isinstance(ref, str) and ref.startswith(_REF_PREFIX) else None
    if name is None or name not in components:
        raise UnreadableSchema(f"a $ref points outside the schema's components: {echo(ref)}")
    return components[name]


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UnreadableSchema(f"{where} is not an object")
    return value


def _enum(name: str, choices: Any) -> list[Any]:
    if not isinstance(choices, list):
        raise UnreadableSchema(f"the enum of “{name}” is not a list")
    return choices


def _enum_covers_range(option: OptionSpec, listed: list[Any]) -> bool:
    """Every value of a whole-number range is listed (a float range never is)."""
    assert option.minimum is not None and option.maximum is not None
    if option.kind != "int" or option.maximum - option.minimum >= MAX_ENUM_RANGE:
        return False
    values = {v for v in listed if _is_number(v)}
    return all(n in values for n in range(math.ceil(option.minimum), math.floor(option.maximum) + 1))


def _bound(flat: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = flat.get(key)
        if value is not None:
            if not _is_number(value):
                raise UnreadableSchema(f"{key} is not a number")
            return float(value)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _range(low: float | None, high: float | None) -> str:
    """"1 to 81"; an open end is written as such."""
    return f"{'any' if low is None else _num(low)} to {'any' if high is None else _num(high)}"


def _num(number: float) -> str:
    return str(int(number)) if float(number).is_integer() and abs(number) < 1e15 else f"{number:g}"
