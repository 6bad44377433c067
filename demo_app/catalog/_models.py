"""The models we offer. Prices and limits that were not read on replicate.com say so in `notes`
and `pricing.source`; each is one edit away here.

Sources: the team's Replicate notes (shared reference replicate-api.md §9), the models' Cog
`predict.py` files in public repositories (field names, defaults, choices), replicate.com/pricing
(hardware rates, per GPU-second), and the public readings quoted in issue #11 (model pages and
API schemas as quoted by third parties; read 2026-11-30, none confirmed on replicate.com from
here: there is no network access where this catalog was written). The schemas are checked
against the live service when a Space starts with a token.
"""

from __future__ import annotations

from demo_app.catalog._options import OptionSpec
from demo_app.catalog._pricing import PricingRule
from demo_app.catalog._spec import ModelSpec
from demo_app.money import credits_from_dollars

DEFAULT_MODEL = "wan-video/wan-2.2-s2v"

_ISSUE_11 = "issue #11's public readings (read 2026-11-30; unconfirmed on replicate.com)"


def _page_price(dollars: str, choice: str) -> PricingRule:
    """A per-output-second price read off a model page, as quoted in issue #11."""
    return PricingRule(
        per_output_second=credits_from_dollars(dollars),
        confirmed=False,
        source=f"About ${dollars} per second of output {choice}, read off its model page ({_ISSUE_11}).",
    )


_OFFICIAL_LICENCE = (
    "Licence: an official Replicate model, run through Replicate's API under its terms; "
    "the videos may be used commercially."
)

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
    typical_run_s_per_audio_s=15.0,
    typical_overhead_s=90.0,
    pricing=PricingRule(
        per_output_second=credits_from_dollars("0.02"),
        confirmed=False,
        source=(
            "$0.02 per second of output video, as reported by several third-party projects; "
            "not read on replicate.com."
        ),
    ),
    notes=(
        "Fields from the version 09607e6e… input schema; the current schema requires `prompt` "
        f"(two independent readings, {_ISSUE_11}), so a blank prompt is sent as `default_prompt`. "
        "The latest version has gained `interpolate` and a resolution, left at their defaults. "
        "The 60 s audio and image-side limits are ours (other hosts of the model take up to "
        f"120 s). Public runs took 112 to 531 s ({_ISSUE_11}): the typical time (90 s + 15 s per "
        "second of audio, 4 min for 10 s) sits inside that range. Output: 16 frames per second "
        "(sample_fps of the Wan2.2 S2V configuration, unconfirmed on Replicate), generated in "
        "chunks of `num_frames_per_chunk` frames, so the video (and the bill) is padded to whole "
        "chunks; the hold covers the padding."
    ),
    licence=(
        "Licence: Wan 2.2 is released under Apache-2.0 and runs here as an official Replicate "
        "model; the videos may be used commercially."
    ),
    commercial=True,
    default_prompt="A person talking naturally to the camera.",
    output_fps=16,
    chunk_option="num_frames_per_chunk",
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
    max_audio_s=15.0,
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
        "Official model taking image and audio only. Audio limit 15 s: Replicate's own field help "
        f"says quality degrades after 15 s and recommends 15 s chunks ({_ISSUE_11}); longer clips "
        "are refused with a sentence offering to trim. Third-party reports put a run at 3 to 10 "
        "minutes."
    ),
    licence=_OFFICIAL_LICENCE,
    commercial=True,
)

OMNI_HUMAN_15 = ModelSpec(
    id="bytedance/omni-human-1.5",
    title="OmniHuman 1.5",
    description="ByteDance OmniHuman 1.5: expressive full-body or portrait animation, steered by a prompt.",
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
            help="Optional: describe the scene, the camera or how the person should move.",
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
            name="fast_mode",
            label="Fast mode",
            kind="bool",
            default=False,
            help="Quicker, at some cost in quality.",
        ),
    ),
    max_audio_s=35.0,
    min_image_side=256,
    max_image_side=2048,
    typical_run_s_per_audio_s=15.0,
    typical_overhead_s=60.0,
    pricing=PricingRule(
        per_output_second=credits_from_dollars("0.14"),
        confirmed=False,
        source=(
            "No public reading of its price was found: OmniHuman's $0.14 per second of output is "
            "held as a stand-in (unconfirmed); set its real price in prices.toml."
        ),
    ),
    notes=(
        f"Fields prompt, seed and fast_mode, and audio over 35 s being an error, from {_ISSUE_11}. "
        "The fast_mode default (off), the image sides and the typical time are ours."
    ),
    licence=_OFFICIAL_LICENCE,
    commercial=True,
)

KLING_AVATAR = ModelSpec(
    id="kwaivgi/kling-avatar-v2",
    title="Kling Avatar v2",
    description="Kuaishou Kling Avatar v2: a talking avatar from one photo and speech, standard or pro.",
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
            help="Optional: describe the expression or the motion.",
        ),
        OptionSpec(
            name="mode",
            label="Quality",
            kind="choice",
            default="std",
            choices=("std", "pro"),
            help='"pro" is sharper and costs about twice as much per second.',
        ),
    ),
    max_audio_s=60.0,
    min_image_side=300,
    max_image_side=2048,
    typical_run_s_per_audio_s=8.0,
    typical_overhead_s=30.0,
    pricing=_page_price("0.056", "in std mode"),
    priced_by="mode",
    choice_pricing=(
        (
            "std",
            _page_price("0.056", "in std mode"),
        ),
        (
            "pro",
            _page_price("0.11", "in pro mode"),
        ),
    ),
    notes=(
        f"Fields image, audio, prompt and mode (std/pro), and the limits: image at least 300 px, "
        f"at most 10 MB, aspect between 1:2.5 and 2.5:1; audio mp3/wav/m4a/aac at most 5 MB "
        f"({_ISSUE_11}). Audio is sent as WAV, or compressed to AAC when the WAV would pass 5 MB. "
        "The 60 s audio limit and the typical time are ours."
    ),
    licence=_OFFICIAL_LICENCE,
    commercial=True,
    max_image_bytes=10 * 1024 * 1024,
    max_image_aspect=2.5,
    max_audio_bytes=5 * 1024 * 1024,
)

P_VIDEO_AVATAR = ModelSpec(
    id="prunaai/p-video-avatar",
    title="P-Video Avatar",
    description="Pruna P-Video Avatar: a fast talking avatar from one photo and speech, at 720p or 1080p.",
    endpoint="model",
    version=None,
    image_field="image",
    audio_field="audio",
    prompt_field="video_prompt",
    options=(
        OptionSpec(
            name="video_prompt",
            label="Prompt",
            kind="text",
            default="",
            max_length=500,
            help="Optional: describe the scene or how the person should move.",
        ),
        OptionSpec(
            name="resolution",
            label="Resolution",
            kind="choice",
            default="720p",
            choices=("720p", "1080p"),
            help="1080p costs almost twice as much per second.",
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
    ),
    max_audio_s=60.0,
    min_image_side=256,
    max_image_side=2048,
    typical_run_s_per_audio_s=3.0,
    typical_overhead_s=20.0,
    pricing=_page_price("0.025", "at 720p"),
    priced_by="resolution",
    choice_pricing=(
        (
            "720p",
            _page_price("0.025", "at 720p"),
        ),
        (
            "1080p",
            _page_price("0.045", "at 1080p"),
        ),
    ),
    notes=(
        f"Fields image, audio, video_prompt, resolution (720p/1080p) and seed from {_ISSUE_11}. "
        "The 60 s audio limit, the image sides, the 720p default and the typical time are ours."
    ),
    licence=_OFFICIAL_LICENCE,
    commercial=True,
)

FABRIC = ModelSpec(
    id="veed/fabric-1.0",
    title="Fabric 1.0",
    description="VEED Fabric 1.0: a talking video from one image and speech, up to a minute long.",
    endpoint="model",
    version=None,
    image_field="image",
    audio_field="audio",
    prompt_field=None,
    options=(
        OptionSpec(
            name="resolution",
            label="Resolution",
            kind="choice",
            default="480p",
            choices=("480p", "720p"),
            help="720p costs almost twice as much per second.",
        ),
    ),
    max_audio_s=60.0,
    min_image_side=256,
    max_image_side=2048,
    typical_run_s_per_audio_s=8.0,
    typical_overhead_s=30.0,
    pricing=_page_price("0.08", "at 480p"),
    priced_by="resolution",
    choice_pricing=(
        (
            "480p",
            _page_price("0.08", "at 480p"),
        ),
        (
            "720p",
            _page_price("0.15", "at 720p"),
        ),
    ),
    notes=(
        f"Fields image, audio and resolution (480p/720p), and audio up to 60 s, from {_ISSUE_11}. "
        "The 480p default, the image sides and the typical time are ours."
    ),
    licence=_OFFICIAL_LICENCE,
    commercial=True,
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
        "replicate.com). Fields and choices from the model's Cog predict.py; another public "
        f"version uses entirely different field names ({_ISSUE_11}). It returns no output when it "
        "finds no face (its predict() just returns): that run fails and its hold is released. "
        "Limits are ours."
    ),
    licence=(
        "Licence: unclear — SadTalker's README and its LICENSE file disagree about commercial use "
        f"({_ISSUE_11}), so it is treated as a non-commercial research model until its LICENSE "
        "is confirmed to allow selling runs."
    ),
    commercial=False,
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
    licence=(
        "Licence: non-commercial — Wav2Lip's weights forbid commercial use (“any form of "
        f"commercial use is strictly prohibited”, {_ISSUE_11}); for research only."
    ),
    commercial=False,
)

CATALOG: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        WAN_S2V,
        OMNI_HUMAN,
        OMNI_HUMAN_15,
        KLING_AVATAR,
        P_VIDEO_AVATAR,
        FABRIC,
        SADTALKER,
        WAV2LIP,
    )
}
"""Every model this app knows, at the catalog's prices (the Space offers some: see `_offer`)."""
