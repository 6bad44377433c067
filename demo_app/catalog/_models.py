"""The models we offer. Prices and limits that were not read on replicate.com say so in `notes`
and `pricing.source`; each is one edit away here.

Sources: the team's Replicate notes (shared reference replicate-api.md §9), the models' Cog
`predict.py` files in public repositories (field names, defaults, choices), replicate.com/pricing
(hardware rates, per GPU-second).
"""

from __future__ import annotations

from demo_app.catalog._options import OptionSpec
from demo_app.catalog._pricing import PricingRule
from demo_app.catalog._spec import ModelSpec
from demo_app.money import credits_from_dollars

DEFAULT_MODEL = "wan-video/wan-2.2-s2v"

_HARDWARE_RATES = (
    "replicate.com/pricing bills community models per GPU-second: A100 (80GB) $0.0014/s, "
    "L40S $0.000975/s, A40 (Large) $0.000725/s, T4 $0.000225/s"
)

WAN_S2V = ModelSpec(
    id="wan-video/wan-2.2-s2v",
    title="Wan 2.2 S2V",
    description="Wan 2.2 speech-to-video: a talking, gesturing person from one photo and speech.",
    endpoint="model",
    version=None,
    image_field="image",
    audio_field="audio",
    prompt_field="prompt",
    options=(
        OptionSpec(
            name="prompt",
            label="Prompt",
            kind="text",
            default="",
            max_length=500,
            help="Optional: describe the scene or how the person should move.",
        ),
        OptionSpec(
            name="seed",
            label="Seed",
            kind="int",
            default=None,
            minimum=0,
            maximum=2**31 - 1,
            help="Leave blank for a random seed; set one to repeat a result.",
        ),
        OptionSpec(
            name="num_frames_per_chunk",
            label="Frames per chunk",
            kind="int",
            default=81,
            minimum=1,
            maximum=121,
            help="Frames generated per step; more is smoother and slower.",
        ),
    ),
    max_audio_s=60.0,
    min_image_side=256,
    max_image_side=1280,
    typical_run_s_per_audio_s=7.0,
    typical_overhead_s=15.0,
    pricing=PricingRule(
        per_output_second=credits_from_dollars("0.02"),
        confirmed=False,
        source=(
            "$0.02 per second of output video, as reported by several third-party projects; "
            "not read on replicate.com."
        ),
    ),
    notes=(
        "Fields from the version 09607e6e… input schema. The 60 s audio and image-side limits are "
        "ours (other hosts of the model take up to 120 s). Typical run: about 1 min 52 s for "
        "14.8 s of audio on a warm model (one third-party note, unconfirmed)."
    ),
)

OMNI_HUMAN = ModelSpec(
    id="bytedance/omni-human",
    title="OmniHuman",
    description="ByteDance OmniHuman: lifelike full-body or portrait animation driven by speech.",
    endpoint="model",
    version=None,
    image_field="image",
    audio_field="audio",
    prompt_field=None,
    options=(),
    max_audio_s=30.0,
    min_image_side=256,
    max_image_side=2048,
    typical_run_s_per_audio_s=15.0,
    typical_overhead_s=60.0,
    pricing=PricingRule(
        per_output_second=credits_from_dollars("0.14"),
        confirmed=False,
        source="About $0.14 per second of output video, from a third-party configuration; unconfirmed.",
    ),
    notes=(
        "Official model taking image and audio only. The 30 s audio limit follows another host's "
        "documentation of the same model (unconfirmed on Replicate); third-party reports put a "
        "run at 3 to 10 minutes."
    ),
)

SADTALKER = ModelSpec(
    id="cjwbw/sadtalker",
    title="SadTalker",
    description="SadTalker: a talking head with natural head motion from one portrait.",
    endpoint="version",
    version="3aa3dac9353cc4d6bd62a8f95957bd844003b401ca4e4a9b33baa574c549d376",
    image_field="source_image",
    audio_field="driven_audio",
    prompt_field=None,
    options=(
        OptionSpec(
            name="enhancer",
            label="Face enhancer",
            kind="choice",
            default="gfpgan",
            choices=("gfpgan", "RestoreFormer"),
            help="Sharpens the face in every frame.",
        ),
        OptionSpec(
            name="preprocess",
            label="Framing",
            kind="choice",
            default="full",
            choices=("crop", "resize", "full"),
            help='"full" keeps the whole picture; "crop" animates the face alone.',
        ),
        OptionSpec(
            name="still",
            label="Still body",
            kind="bool",
            default=True,
            help="Less head motion; best with full framing.",
        ),
    ),
    max_audio_s=60.0,
    min_image_side=256,
    max_image_side=1024,
    typical_run_s_per_audio_s=5.0,
    typical_overhead_s=20.0,
    pricing=PricingRule(
        per_predict_second=credits_from_dollars("0.0014", round_up=True),
        confirmed=False,
        source=(
            f"Billed by GPU time; {_HARDWARE_RATES}. The hardware this model runs on is unconfirmed: "
            "we assume the A100 (80GB) and round up to 2 credits per predict second."
        ),
        estimate_predict_overhead_s=60,
        estimate_predict_s_per_audio_s=8,
    ),
    notes=(
        "Version id seen in five public projects calling cjwbw/sadtalker (not checked on "
        "replicate.com). Fields and choices from the model's Cog predict.py. Limits are ours."
    ),
)

WAV2LIP = ModelSpec(
    id="devxpy/cog-wav2lip",
    title="Wav2Lip",
    description="Wav2Lip: fast, accurate mouth movement on a still face; the rest stays still.",
    endpoint="version",
    version="f3bd0cb5538aa0c47a58f3408b233d6cea61bc939f1b256a0e065b4bd11fdd20",
    image_field="face",
    audio_field="audio",
    prompt_field=None,
    options=(
        OptionSpec(
            name="pads",
            label="Face padding",
            kind="text",
            default="0 10 0 0",
            max_length=32,
            pattern=r"\d{1,3} \d{1,3} \d{1,3} \d{1,3}",
            help='four numbers "top bottom left right" in pixels, like "0 10 0 0"',
        ),
        OptionSpec(
            name="smooth",
            label="Smooth face detection",
            kind="bool",
            default=True,
            help="Turn off if you see two mouths or a shifted mouth.",
        ),
        OptionSpec(
            name="fps",
            label="Frames per second",
            kind="float",
            default=25.0,
            minimum=1.0,
            maximum=60.0,
            help="Frame rate of the video made from the still picture.",
        ),
        OptionSpec(
            name="resize_factor",
            label="Downscale factor",
            kind="int",
            default=1,
            minimum=1,
            maximum=4,
            help="Divide the resolution by this; lower resolutions often sync better.",
        ),
    ),
    max_audio_s=60.0,
    min_image_side=128,
    max_image_side=1280,
    typical_run_s_per_audio_s=2.0,
    typical_overhead_s=15.0,
    pricing=PricingRule(
        per_predict_second=credits_from_dollars("0.000725", round_up=True),
        confirmed=False,
        source=(
            f"Billed by GPU time; {_HARDWARE_RATES}. The hardware this model runs on is unconfirmed: "
            "we assume at most an A40 (Large) and round up to 1 credit per predict second."
        ),
        estimate_predict_overhead_s=30,
        estimate_predict_s_per_audio_s=4,
    ),
    notes=(
        "Version f3bd0cb5… is the one in the team's Replicate notes; its full id was found in one "
        "public project only. Another id, 8d65e3f4f4298520e079198b493c25adfc43c058ffec924f2aefc8010ed25eef, "
        "is more widely used. Neither was checked on replicate.com. Fields and defaults from the "
        "Cog predict.py of devxpy/cog-Wav2Lip (its batch-size fields are left at their defaults). "
        "Limits are ours."
    ),
)

CATALOG: dict[str, ModelSpec] = {spec.id: spec for spec in (WAN_S2V, OMNI_HUMAN, SADTALKER, WAV2LIP)}


class UnknownModel(ValueError):
    """A model id we do not offer; `str()` lists the ones we do."""

    def __init__(self, model_id: str) -> None:
        super().__init__(f"There is no model “{model_id}” here; choose one of {', '.join(CATALOG)}.")
        self.model_id = model_id


def get_model(model_id: str) -> ModelSpec:
    """The model's spec, or UnknownModel (a ValueError) with a readable sentence."""
    try:
        return CATALOG[model_id]
    except (KeyError, TypeError):
        raise UnknownModel(str(model_id)) from None
