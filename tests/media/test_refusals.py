"""Bad uploads, each made for real, each refused with its code and one readable sentence.

The sentence must name the key fact (the size, the length, the format ...) and must not leak
the server's file path. The cases themselves live in `bad_inputs`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from demo_app.media import MediaError, audio_duration, prepare_audio, prepare_image
from tests.media.bad_inputs import AUDIO_LIMITS, BAD_AUDIO, BAD_IMAGES, IMAGE_LIMITS, Bad, twelve_minutes


def assert_one_readable_sentence(message: str, src: Path) -> None:
    assert message[0].isupper() and message.endswith(".")
    assert "\n" not in message
    assert not re.search(r"\. [A-Z]", message), f"more than one sentence: {message}"
    assert str(src) not in message and src.name not in message


@pytest.mark.parametrize("case", BAD_IMAGES.values(), ids=list(BAD_IMAGES))
def test_bad_pictures_are_refused_with_their_reason(case: Bad, tmp_path: Path) -> None:
    src = case.make(tmp_path)
    out = tmp_path / "prepared"
    with pytest.raises(MediaError) as caught:
        prepare_image(src, out, **{**IMAGE_LIMITS, **case.limits})
    error = caught.value
    assert error.code == case.code, str(error)
    for fact in case.facts:
        assert fact in str(error)
    assert_one_readable_sentence(str(error), src)
    assert not out.exists() or not any(out.iterdir()), "a refused picture left a file behind"


@pytest.mark.parametrize("case", BAD_AUDIO.values(), ids=list(BAD_AUDIO))
def test_bad_audio_is_refused_with_its_reason(case: Bad, tmp_path: Path) -> None:
    src = case.make(tmp_path)
    out = tmp_path / "prepared"
    with pytest.raises(MediaError) as caught:
        prepare_audio(src, out, **{**AUDIO_LIMITS, **case.limits})
    error = caught.value
    assert error.code == case.code, str(error)
    for fact in case.facts:
        assert fact in str(error)
    assert_one_readable_sentence(str(error), src)
    assert not out.exists() or not any(out.iterdir()), "refused audio left a file behind"


def test_the_issue_s_example_sentence_word_for_word(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        prepare_audio(twelve_minutes(tmp_path), tmp_path, **AUDIO_LIMITS)
    assert str(caught.value) == (
        "The audio is 12 min 3 s long; this model takes at most 60 s — trim it and try again."
    )


def test_there_are_at_least_twenty_kinds_of_bad_input() -> None:
    assert len(BAD_IMAGES) + len(BAD_AUDIO) >= 20
    codes = {case.code for case in [*BAD_IMAGES.values(), *BAD_AUDIO.values()]}
    assert len(codes) >= 20


@pytest.mark.parametrize(
    "name", ["text file renamed .mp3", "picture renamed .wav", "video without a sound track"]
)
def test_the_quick_duration_probe_refuses_the_same_files(name: str, tmp_path: Path) -> None:
    case = BAD_AUDIO[name]
    with pytest.raises(MediaError) as caught:
        audio_duration(case.make(tmp_path))
    assert caught.value.code == case.code
