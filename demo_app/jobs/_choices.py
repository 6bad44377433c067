"""What the visitor decided in the pre-flight: which face, how the picture is framed, which part
of the clip is sent. Kept with the job, so the job sends exactly what the estimate priced."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from demo_app import media

MAX_TRIM_S = 15 * 60.0
"""The audio checks count no further than this; a trim past it could never be measured."""


class BadChoices(ValueError):
    """Pre-flight choices of the wrong shape; `str()` says what to fix."""


class InputChoices(BaseModel):
    """The pre-flight's answers; the defaults decide nothing (a problem found is then refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    use_anyway: bool = False
    """Send a picture in which no face was found."""
    face: int | None = None
    """The face to animate, numbered from 1, left to right."""
    framing: Literal["whole", "face"] | None = None
    """None: framed on the face in a group photo, else the whole picture."""
    trim_start_s: float = 0.0
    trim_end_s: float | None = None
    """Send only the part of the clip from `trim_start_s` to `trim_end_s` (None: no trim)."""

    @model_validator(mode="after")
    def _sane(self) -> InputChoices:
        if self.face is not None and not 1 <= self.face <= 100:
            raise ValueError("face is numbered from 1 (left to right)")
        start, end = self.trim_start_s, self.trim_end_s
        if not math.isfinite(start) or not 0 <= start <= MAX_TRIM_S:
            raise ValueError(f"the trim starts between 0 and {MAX_TRIM_S:g} s")
        if end is not None and (not math.isfinite(end) or end <= start):
            raise ValueError("the trim ends after it starts")
        return self

    def face_choice(self) -> media.FaceChoice:
        return media.FaceChoice(use_anyway=self.use_anyway, face=self.face, framing=self.framing)

    def trim(self) -> media.Trim | None:
        """The part of the clip to send, or None for all of it."""
        return None if self.trim_end_s is None else (self.trim_start_s, self.trim_end_s)


def choices_from(values: dict[str, Any]) -> InputChoices:
    """Checked choices; BadChoices names the first wrong one in a sentence."""
    try:
        return InputChoices.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the choices"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise BadChoices(f"Pre-flight choice {where}: {message}.") from None
