"""The sample face and voice offered beside a tab's inputs, accepted as uploads once Gradio has
copied them into its cache."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from demo_app.uploads import UploadPolicy, is_file_dict

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def sample_examples(image: gr.Image, audio: gr.Audio, uploads: UploadPolicy) -> None:
    """The "Try the sample" button for `image` and `audio`; the policy accepts what it sends."""
    examples = gr.Examples(
        examples=[[str(ASSETS / "sample-face.png"), str(ASSETS / "sample-voice.wav")]],
        inputs=[image, audio],
        label="Try the sample face and voice",
    )
    uploads.allow_examples(
        [
            value["path"]
            for processed in examples.non_none_processed_examples.values()
            for value in processed
            if is_file_dict(value)
        ]
    )
