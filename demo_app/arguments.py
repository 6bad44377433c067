"""The plain arguments a caller sends (API key, job id, model id, options JSON), checked for shape.

Anyone can call the API, and the page's events too, with any JSON in any position. These checks
run before anything else looks at an argument, so a value of the wrong type, length or alphabet
becomes one sentence (`BadArgument`) instead of an exception deep inside a library. They check
shape only: whether a key is genuine, a job exists or an option fits its model is decided later,
by the key ring, the job manager and the catalog.
"""

from __future__ import annotations

import json
import re
from typing import Any

from demo_app.catalog import offered
from demo_app.quoting import echo

MAX_KEY_CHARS = 200
"""Longer than any key the server signs (an owner plus a 43-character signature)."""
MAX_JOB_ID_CHARS = 64
MAX_MODEL_CHARS = 100
MAX_OPTIONS_JSON_CHARS = 4096
"""A few KB: every model's options together fit in a few hundred characters."""

KEY_SHAPE = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_CHARS}}}")
JOB_ID_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_JOB_ID_CHARS}}}")

INVALID_KEY = (
    "This API key is not valid. Copy your key from the Credits tab of the app and pass it as the "
    "first argument."
)


class BadArgument(ValueError):
    """An argument of the wrong shape; `str()` is the sentence for the caller, `title` its heading."""

    def __init__(self, message: str, *, title: str) -> None:
        super().__init__(message)
        self.title = title


def api_key_text(value: Any) -> str:
    """The key as text; visible ASCII of a sane length, as every key the server signs is."""
    text = value.strip() if isinstance(value, str) else None
    if text is None or not KEY_SHAPE.fullmatch(text):
        raise BadArgument(INVALID_KEY, title="Invalid API key")
    return text


def browser_key_text(value: Any) -> str | None:
    """What a browser keeps as its key, or None when it is not even shaped like one (a new visitor)."""
    try:
        return api_key_text(value) if value else None
    except BadArgument:
        return None


def job_id_text(value: Any) -> str:
    """A job id as /start returned it."""
    if not isinstance(value, str) or not JOB_ID_SHAPE.fullmatch(value.strip()):
        raise BadArgument(
            f"job_id must be the text /start returned in “job_id”; got {echo(value)}.", title="No such job"
        )
    return value.strip()


def model_text(value: Any) -> str:
    """A model id as text; whether it is offered is the catalog's call."""
    if isinstance(value, str) and 0 < len(value) <= MAX_MODEL_CHARS:
        return value
    raise BadArgument(
        f"model must be one of {', '.join(offered())}; got {echo(value)}.", title="Unknown model"
    )


def options_from_json(value: Any) -> dict[str, Any]:
    """The options object: at most a few KB, flat (option name to a number, text, true/false or
    null) and free of NaN or Infinity. Whether each value fits its option is the catalog's call."""
    if value is None or value == "":
        return {}
    if not isinstance(value, str):
        raise _bad_options(f"got {echo(value)}")
    if len(value) > MAX_OPTIONS_JSON_CHARS:
        raise _bad_options(f"it is {len(value)} characters long, more than {MAX_OPTIONS_JSON_CHARS}")
    try:
        options = json.loads(value, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        # Malformed JSON, NaN/Infinity, a number too long for Python to read, or deep nesting.
        raise _bad_options("it is not valid JSON") from None
    if not isinstance(options, dict):
        raise _bad_options(f"got {echo(options)}")
    nested = [name for name, item in options.items() if isinstance(item, dict | list)]
    if nested:
        raise _bad_options(f"“{echo(nested[0])[1:-1]}” holds a list or an object, where a single value goes")
    return options


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _bad_options(problem: str) -> BadArgument:
    return BadArgument(
        'options_json must be a JSON object such as {"seed": 42} (use "{}" for the defaults); '
        f"{problem}.",
        title="Bad options",
    )
