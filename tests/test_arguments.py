"""Arguments of any JSON type become one sentence when they have the wrong shape."""

from __future__ import annotations

from typing import Any

import pytest

from demo_app.arguments import (
    BadArgument,
    api_key_text,
    browser_key_text,
    job_id_text,
    model_text,
    options_from_json,
)


@pytest.mark.parametrize("key", ["ключ.подпись", "x" * 201, "", None, 5, ["k"], {"k": 1}, "a b", "k\x00"])
def test_keys_of_the_wrong_shape_are_invalid_keys(key: Any) -> None:
    with pytest.raises(BadArgument, match="This API key is not valid") as caught:
        api_key_text(key)
    assert caught.value.title == "Invalid API key"
    assert browser_key_text(key) is None


def test_a_well_shaped_key_passes_stripped() -> None:
    assert api_key_text("  browser:abc.SIG-_x  ") == "browser:abc.SIG-_x"


@pytest.mark.parametrize(
    ("job_id", "quoted"),
    [(5, "got 5"), (None, "got nothing"), (["a"], "a list or an object"), ("x" * 65, "…"), ("ü", "“ü”")],
)
def test_job_ids_of_the_wrong_shape_are_refused(job_id: Any, quoted: str) -> None:
    with pytest.raises(BadArgument, match="job_id must be the text /start returned") as caught:
        job_id_text(job_id)
    assert quoted in str(caught.value)


@pytest.mark.parametrize("model", [None, 5, ["x"], "", "m" * 101])
def test_models_of_the_wrong_shape_are_refused(model: Any) -> None:
    with pytest.raises(BadArgument, match="model must be one of"):
        model_text(model)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * 4000, "not valid JSON"),
        ('{"seed": ' + "9" * 5000 + "}", "characters long, more than 4096"),
        ('{"seed": NaN}', "not valid JSON"),
        ('{"seed": Infinity}', "not valid JSON"),
        ("{'seed': 1}", "not valid JSON"),
        ("[1, 2]", "got a list or an object"),
        ('"seed"', "got “seed”"),
        ('{"seed": {"value": 1}}', "“seed” holds a list or an object"),
        ('{"seed": [1]}', "“seed” holds a list or an object"),
        (42, "got 42"),
    ],
)
def test_options_json_is_small_flat_and_readable(text: Any, problem: str) -> None:
    with pytest.raises(BadArgument) as caught:
        options_from_json(text)
    message = str(caught.value)
    assert message.startswith("options_json must be a JSON object") and problem in message
    assert len(message) < 200


def test_options_json_gives_the_object_and_blanks_mean_defaults() -> None:
    assert options_from_json('{"seed": 7, "prompt": "hi"}') == {"seed": 7, "prompt": "hi"}
    assert options_from_json("") == {} and options_from_json(None) == {}
    # A long number that still fits the size limit reaches the catalog, which bounds it.
    assert options_from_json('{"seed": ' + "9" * 4000 + "}")["seed"] > 2**31
