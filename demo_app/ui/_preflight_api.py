"""The API's pre-flight: `preflight_json` in, and a face problem or a too-long clip refused at
/start and /generate with a sentence naming the option that answers it (nothing is held).

The page shows boxes to click; an API caller gets the boxes in the sentence, in the numbering
`{"face": N}` uses. Other file problems stay the job's: it ends `rejected` with their sentence,
as before.
"""

from __future__ import annotations

import json
from typing import Any

from demo_app.arguments import MAX_OPTIONS_JSON_CHARS
from demo_app.catalog import get_model
from demo_app.jobs import FACE_PROBLEMS, BadChoices, InputChoices, Quote, choices_from
from demo_app.media import Box
from demo_app.quoting import echo

PREFLIGHT_KEYS = frozenset({"use_anyway", "face", "framing", "trim"})


class PreflightRefused(ValueError):
    """The inputs need a pre-flight choice; `str()` says which."""


def choices_from_json(value: Any) -> InputChoices:
    """`preflight_json`: {"use_anyway": true, "face": 2, "framing": "whole", "trim": [0, 60]}
    (every key optional); BadChoices says what is wrong."""
    if value is None or value == "":
        return InputChoices()
    if not isinstance(value, str) or len(value) > MAX_OPTIONS_JSON_CHARS:
        raise BadChoices(_SHAPE + f" got {echo(value)}.")
    try:
        parsed = json.loads(value, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadChoices(_SHAPE + " it is not valid JSON.") from None
    if not isinstance(parsed, dict) or not set(parsed) <= PREFLIGHT_KEYS:
        raise BadChoices(_SHAPE + f" got {echo(parsed)}.")
    chosen = {key: parsed[key] for key in ("use_anyway", "face", "framing") if key in parsed}
    trim = parsed.get("trim")
    if trim is not None:
        if not (isinstance(trim, list) and len(trim) == 2 and all(_number(part) for part in trim)):
            raise BadChoices(_SHAPE + ' "trim" is [start, end] in seconds, such as [0, 60].')
        chosen.update(trim_start_s=trim[0], trim_end_s=trim[1])
    return choices_from(chosen)


def preflight_refusal(quote: Quote, model_id: str) -> PreflightRefused | None:
    """The refusal for a face problem or a too-long clip this estimate found, or None."""
    for problem in quote.problems:
        picture = quote.picture
        if problem.code in FACE_PROBLEMS and picture is not None:
            if problem.code == "image_no_face":
                return PreflightRefused(
                    "No face was found in this picture; send a clear photo of a face, or pass "
                    '{"use_anyway": true} in preflight_json to send it as it is.'
                )
            return PreflightRefused(
                f"{_faces_problem(problem.code, problem.text, len(picture.faces))}; pass "
                f'{{"face": N}} in preflight_json to choose one, numbered left to right: '
                f'{_boxes(picture.faces)} (add {{"framing": "whole"}} to send the whole picture rather '
                "than a square framed on that face)."
            )
        if problem.code == "audio_too_long":
            limit = get_model(model_id).max_audio_s
            return PreflightRefused(
                f"{problem.text.removesuffix(' — trim it and try again.')} — pass "
                f'{{"trim": [0, {limit:g}]}} in preflight_json to send its first {limit:g} s, or send a '
                "shorter clip."
            )
    return None


_SHAPE = (
    'preflight_json must be a JSON object such as {"face": 2} or {"trim": [0, 60]} (keys: '
    'use_anyway, face, framing, trim; "{}" for none);'
)


def _faces_problem(code: str, text: str, count: int) -> str:
    """What is wrong, without the page's advice (the caller gets the API's)."""
    if code == "image_many_faces":
        return f"The picture shows {count} faces"
    return text.split(";")[0].split(":")[0]


def _boxes(faces: tuple[Box, ...]) -> str:
    return "; ".join(f"{n}: x={x} y={y} {w}×{h} px" for n, (x, y, w, h) in enumerate(faces, start=1))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")
