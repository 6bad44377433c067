"""Face pictures: decode for real, refuse what a model cannot use, hand on a clean JPEG.

The prepared file is re-encoded from pixels, so it carries no EXIF (no GPS position, no camera
serial) and its orientation is already applied: models ignore EXIF rotation and would get a
sideways face from a phone photo otherwise.

Memory is bounded before decoding: the format comes from the file's bytes (PNG, JPEG or WebP,
each opened by its own PIL plugin only), the dimensions from its header, and the pixel cap of
each format is what fits the decode, one conversion and the downscale in about 200 MiB
(figures in `bench/media_hostile.py`). Only the first frame of an animation is decoded.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from demo_app.media._errors import MediaError
from demo_app.media._files import check_file, new_path
from demo_app.media._sniff import ImageFormat, head, image_format, known_other

DEFAULT_MAX_PIXELS = 50_000_000
"""Above this (a 48-megapixel phone photo fits) decoding alone would cost too much memory."""

PIXEL_CAPS: dict[ImageFormat, int] = {"JPEG": 50_000_000, "PNG": 20_000_000, "WEBP": 10_000_000}
"""JPEG decodes at 1/2 to 1/8 scale (libjpeg's draft mode): 50 megapixels measured 24 MiB. PNG
holds every pixel (4 bytes each with alpha) and the downscale takes one more copy: 24
megapixels measured 196 MiB, too close to the 200 MiB bound. WebP's decoder keeps its own
canvas and hands PIL a copy of it: 12 megapixels measured 183 MiB."""

PROGRESSIVE_JPEG_CAP = 24_000_000
"""A progressive JPEG is decoded from a buffer of every DCT coefficient (2 bytes per sample, up
to 6 bytes a pixel), whatever the draft scale: 50 megapixels measured 286 MiB."""

MAX_ASPECT_RATIO = 4.0
"""Longer side over shorter side; beyond it there is hardly a face-shaped area to animate."""

_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N", "I"}

_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""EXIF orientation tag -> the transposition that shows the picture upright."""

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error, IndexError)
"""What PIL raises on damaged data (truncated files, bad chunks, broken headers)."""

JPEG_QUALITY = 92


@dataclass(frozen=True)
class PreparedImage:
    path: Path
    width: int
    height: int
    content_type: str


def prepare_image(
    src: Path,
    dest_dir: Path,
    *,
    min_side: int,
    max_side: int,
    max_bytes: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> PreparedImage:
    """A still, upright, RGB JPEG no larger than `max_side`, or MediaError saying why not."""
    check_file(src, max_bytes=max_bytes, kind="image")
    kind = image_format(head(src))
    if kind is None:
        raise _refused_format(src)
    with warnings.catch_warnings():
        # Our own pixel limit below is stricter than PIL's bomb warning.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(src, formats=[kind])
        except Image.DecompressionBombError:
            raise _too_many_pixels(None, min(max_pixels, PIXEL_CAPS[kind])) from None
        except (UnidentifiedImageError, *_DECODE_ERRORS):
            raise _corrupt() from None
        with image:
            cap = _cap(image, kind, max_pixels)
            _check_header(image, min_side=min_side, max_side=max_side, max_pixels=cap)
            small, orientation = _decode_small(image, max_side=max_side)
    rgb = _to_rgb(_upright(small, orientation))
    dest = new_path(dest_dir, "image", ".jpg")
    rgb.save(dest, format="JPEG", quality=JPEG_QUALITY)
    return PreparedImage(path=dest, width=rgb.width, height=rgb.height, content_type="image/jpeg")


def _cap(image: Image.Image, kind: ImageFormat, max_pixels: int) -> int:
    """The pixel limit that keeps this picture's decode within the memory bound."""
    cap = PIXEL_CAPS[kind]
    if kind == "JPEG" and image.info.get("progressive"):
        cap = PROGRESSIVE_JPEG_CAP
    return min(max_pixels, cap)


def _check_header(image: Image.Image, *, min_side: int, max_side: int, max_pixels: int) -> None:
    """Refusals decided from the header alone, before any pixel is decoded."""
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels((width, height), max_pixels)
    short, long = sorted((width, height))
    if short < min_side:
        raise MediaError(
            "image_too_small",
            f"The picture is {width} × {height} pixels; this model needs at least {min_side} pixels "
            "on each side — use a larger photo.",
        )
    if long / short > MAX_ASPECT_RATIO or short * min(1.0, max_side / long) < min_side:
        raise MediaError(
            "image_bad_shape",
            f"The picture is {width} × {height} pixels, too long and narrow for this model; "
            "crop it around the face and try again.",
        )


def _decode_small(image: Image.Image, *, max_side: int) -> tuple[Image.Image, int]:
    """The first frame's pixels, 8 bits per channel, no larger than `max_side`; and the EXIF
    orientation. Each full-size copy is dropped as soon as the next, smaller one exists."""
    if image.format in {"JPEG", "MPO"}:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still leaves >= max_side.
        image.draft("RGB", (max_side, max_side))
    try:
        orientation = int(image.getexif().get(0x0112, 1))
        image.load()
        pixels: Image.Image = image
        if pixels.mode in _SIXTEEN_BIT:
            pixels = _eight_bit_grey(pixels)
        return _fit(pixels, max_side), orientation
    except _DECODE_ERRORS:
        raise _corrupt() from None


def _eight_bit_grey(image: Image.Image) -> Image.Image:
    """16-bit greyscale to 8 bits by its high byte (clipping would turn it white), in place."""
    levels = np.array(image, dtype=np.uint32 if image.mode == "I" else np.uint16)
    np.right_shift(levels, 8, out=levels)
    if image.mode == "I":
        np.minimum(levels, 255, out=levels)
    return Image.fromarray(levels.astype(np.uint8), mode="L")


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _ORIENTATIONS.get(orientation)
    return image if method is None else image.transpose(method)


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB; transparent areas become white (what a face on a sticker would sit on)."""
    if image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _fit(image: Image.Image, max_side: int) -> Image.Image:
    """Downscaled so its longer side is at most `max_side` (never upscaled)."""
    long = max(image.size)
    if long <= max_side:
        return image
    scale = max_side / long
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> MediaError:
    limit = f"{max_pixels / 1_000_000:g} megapixels"
    described = "The picture is enormous"
    if size is not None:
        megapixels = size[0] * size[1] / 1_000_000
        described = f"The picture is {size[0]} × {size[1]} pixels ({megapixels:.0f} megapixels)"
    return MediaError(
        "image_too_many_pixels",
        f"{described}, more than the {limit} we accept; resize it and try again.",
    )


def _refused_format(src: Path) -> MediaError:
    data = head(src)
    other = known_other(data)
    if other is not None and other.endswith("picture"):
        return MediaError(
            "image_unsupported",
            f"This is a {other.removesuffix(' picture')} picture; save it as PNG, JPEG or WebP and "
            "upload that instead.",
        )
    return MediaError(
        "image_not_image",
        "This file is not a picture we can read; upload a photo of a face as PNG, JPEG or WebP.",
    )


def _corrupt() -> MediaError:
    return MediaError(
        "image_corrupt",
        "The picture file is damaged or incomplete; save or download it again and retry.",
    )
