"""The pre-flight panel: the faces found, the choices they call for, the picture the model will
receive, and the part of a too-long clip to send.

Every control here feeds the live estimate, which judges the picture and the clip with the
choices made; the panel only shows what the estimate found. A choice is about the files judged
when it was made: a new picture forgets the face chosen, a new clip forgets the trim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo_app.jobs import InputChoices, Quote, choices_from
from demo_app.media import Box, FramedPicture

SMALL_FACE = 0.35
"""A lone face shorter than this share of the picture's short side gets the framing choice."""


@dataclass(frozen=True)
class PreflightPanel:
    """The components; `inputs` feed the estimate and Generate, `outputs` show what it found."""

    judged: gr.State
    """The picture and the clip the choices were made for."""
    faces: gr.Image
    face: gr.Radio
    framing: gr.Radio
    use_anyway: gr.Checkbox
    sent: gr.Image
    trim: gr.Group
    trim_use: gr.Checkbox
    trim_start: gr.Number
    trim_end: gr.Number

    @property
    def inputs(self) -> list[Any]:
        """In the order `choices_of` reads them."""
        return [
            self.judged,
            self.face,
            self.framing,
            self.use_anyway,
            self.trim_use,
            self.trim_start,
            self.trim_end,
        ]

    @property
    def outputs(self) -> list[Any]:
        """In the order `panel_updates` returns them."""
        return [
            self.judged,
            self.faces,
            self.face,
            self.framing,
            self.use_anyway,
            self.sent,
            self.trim,
            self.trim_use,
            self.trim_start,
            self.trim_end,
        ]

    @property
    def triggers(self) -> list[Any]:
        """The visitor's own changes (never the estimate's updates: those would ask again)."""
        return [
            self.face.input,
            self.framing.input,
            self.use_anyway.input,
            self.trim_use.input,
            self.trim_start.input,
            self.trim_end.input,
        ]


INPUT_COUNT = 7
"""len(PreflightPanel.inputs): the handlers split their arguments with it."""


def preflight_panel() -> PreflightPanel:
    """The panel, hidden until the estimate finds something to show (call inside the Create tab)."""
    judged = gr.State(None)
    faces = gr.Image(
        label="Faces found — choose one below",
        type="filepath",
        interactive=False,
        visible=False,
        height=260,
        elem_id="faces",
    )
    face = gr.Radio(label="Face to animate", choices=[], visible=False, elem_id="face-pick")
    framing = gr.Radio(
        label="Framing",
        choices=[("Focus on this face", "face"), ("Whole picture", "whole")],
        visible=False,
        elem_id="framing",
    )
    use_anyway = gr.Checkbox(label="Use this picture anyway", visible=False, elem_id="use-anyway")
    sent = gr.Image(
        label="What the model will receive",
        type="filepath",
        interactive=False,
        visible=False,
        height=220,
        elem_id="sent-picture",
    )
    with gr.Group(visible=False, elem_id="trim") as trim:
        trim_use = gr.Checkbox(label="Use only this part of the clip", elem_id="trim-use")
        with gr.Row():
            trim_start = gr.Number(label="From (s)", value=0, minimum=0, elem_id="trim-start")
            trim_end = gr.Number(label="To (s)", value=None, minimum=0, elem_id="trim-end")
    return PreflightPanel(
        judged, faces, face, framing, use_anyway, sent, trim, trim_use, trim_start, trim_end
    )


def choices_of(values: Sequence[Any], image_path: str | None, audio_path: str | None) -> InputChoices:
    """The choices the panel holds, for this picture and clip (BadChoices when malformed)."""
    judged, face, framing, use_anyway, trim_use, start, end = values
    judged_image, judged_audio = _judged(judged)
    chosen: dict[str, Any] = {}
    if judged_image == image_path:
        chosen.update(face=face or None, framing=framing or None, use_anyway=bool(use_anyway))
    if judged_audio == audio_path and trim_use:
        chosen.update(trim_start_s=start or 0.0, trim_end_s=end)
    return choices_from(chosen)


def panel_updates(
    quote: Quote, values: Sequence[Any], image_path: str | None, audio_path: str | None
) -> list[Any]:
    """What the panel shows for this estimate, in the order of `PreflightPanel.outputs`."""
    judged_image, judged_audio = _judged(values[0])
    new_picture, new_audio = judged_image != image_path, judged_audio != audio_path
    picture = quote.picture
    faces = picture.faces if picture is not None else ()
    no_face = picture is not None and not faces
    framing_helps = len(faces) > 1 or (
        len(faces) == 1 and picture is not None and _small(picture.faces[0], picture)
    )
    sent = picture.sent if picture is not None else None
    too_long = quote.clip_s is not None and quote.max_audio_s is not None and quote.clip_s > quote.max_audio_s
    trim_shown = too_long or (not new_audio and bool(values[4]) and audio_path is not None)
    limit = quote.max_audio_s or 0.0
    clip = f"The clip is {quote.clip_s:.1f} s; this model takes up to {limit:g} s." if quote.clip_s else ""
    return [
        {"image": image_path, "audio": audio_path},
        gr.Image(value=quote.faces_preview, visible=quote.faces_preview is not None),
        _face_radio(len(faces), new_picture),
        _framing_radio(
            picture.framing if picture is not None and sent is not None else None,
            new_picture or not values[2],
        )
        if framing_helps and sent is not None
        else gr.Radio(value=None, visible=False)
        if new_picture
        else gr.Radio(visible=False),
        gr.Checkbox(value=False, visible=no_face) if new_picture else gr.Checkbox(visible=no_face),
        gr.Image(value=str(sent.path) if sent is not None else None, visible=sent is not None),
        gr.Group(visible=trim_shown),
        gr.Checkbox(info=clip, value=False) if new_audio else gr.Checkbox(info=clip),
        gr.Number(value=0) if new_audio else gr.skip(),
        gr.Number(value=limit) if new_audio and too_long else gr.skip(),
    ]


def _face_radio(count: int, new_picture: bool) -> Any:
    """The faces to choose from. The visitor's choice is never written back for the same picture:
    an estimate still running when they click would undo the click."""
    choices = [(f"Face {number}", number) for number in range(1, count + 1)]
    if new_picture:
        return gr.Radio(choices=choices, value=None, visible=count > 1)
    return gr.Radio(choices=choices, visible=count > 1)


def _framing_radio(default: str | None, write_value: bool) -> Any:
    """Shown with the framing that applies, unless the visitor chose one (then left as they set it)."""
    return gr.Radio(value=default, visible=True) if write_value else gr.Radio(visible=True)


def unchanged() -> list[Any]:
    """The panel as it is (the page is still loading)."""
    return [gr.skip() for _ in range(10)]


def _judged(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, dict):
        return None, None
    image, audio = value.get("image"), value.get("audio")
    return (image if isinstance(image, str) else None, audio if isinstance(audio, str) else None)


def _small(face: Box, picture: FramedPicture) -> bool:
    short = min(picture.whole.width, picture.whole.height)
    return face[3] < SMALL_FACE * short
