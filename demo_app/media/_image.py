"""Face pictures: decode for real, refuse what a model cannot use, hand on a clean JPEG.

The prepared file is re-encoded from pixels, so it carries no EXIF (no GPS position, no camera
serial) and its orientation is already applied: models ignore EXIF rotation and would get a
sideways face from a phone photo otherwise.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from demo_app.media._errors import MediaError
from demo_app.media._files import check_file, new_path
from demo_app.media._sniff import head, looks_like_image

DEFAULT_MAX_PIXELS = 50_000_000
"""Above this (a 48-megapixel phone photo fits) decoding alone would cost too much memory."""

MAX_ASPECT_RATIO = 4.0
"""Longer side over shorter side; beyond it there is hardly a face-shaped area to animate."""

_ACCEPTED_FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP"}
"""What cameras, webcams, clipboards and browsers give. MPO is a phone JPEG with a depth map.
Other formats PIL can read (TIFF, ICO, PSD, ...) are refused: fewer decoders, smaller risk."""

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error, IndexError)
"""What PIL raises on damaged data (truncated files, bad chunks, broken headers)."""

_JPEG_QUALITY = 92


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
    with warnings.catch_warnings():
        # Our own pixel limit below is stricter than PIL's bomb warning.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(src)
        except Image.DecompressionBombError:
            raise _too_many_pixels(None, max_pixels) from None
        except UnidentifiedImageError:
            raise _unreadable(src) from None
        except _DECODE_ERRORS:
            raise _corrupt() from None
        with image:
            _check_header(image, min_side=min_side, max_side=max_side, max_pixels=max_pixels)
            upright = _decode_upright(image, max_side=max_side)
    rgb = _to_rgb(upright)
    rgb = _fit(rgb, max_side)
    dest = new_path(dest_dir, "image", ".jpg")
    rgb.save(dest, format="JPEG", quality=_JPEG_QUALITY)
    return PreparedImage(path=dest, width=rgb.width, height=rgb.height, content_type="image/jpeg")


def _check_header(image: Image.Image, *, min_side: int, max_side: int, max_pixels: int) -> None:
    """Refusals decided from the header alone, before any pixel is decoded."""
    kind = image.format or "unknown"
    if kind not in _ACCEPTED_FORMATS:
        raise MediaError(
            "image_unsupported",
            f"This is a {kind} picture; save it as PNG, JPEG or WebP and upload that instead.",
        )
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and kind != "MPO":
        raise MediaError(
            "image_animated",
            f"The picture is animated ({frames} frames); upload a still photo (PNG, JPEG or WebP).",
        )
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


def _decode_upright(image: Image.Image, *, max_side: int) -> Image.Image:
    """All pixels, rotated as the EXIF orientation says; MediaError if the data is damaged."""
    if image.format in {"JPEG", "MPO"}:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still leaves >= max_side.
        image.draft("RGB", (max_side, max_side))
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        raise _corrupt() from None
    return upright


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB; transparent areas become white (what a face on a sticker would sit on)."""
    if image.mode in {"I;16", "I;16L", "I;16B", "I;16N", "I"}:
        # 16-bit greyscale: scale to 8 bits instead of clipping everything to white.
        levels = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(levels / 257.0, 0, 255).round().astype(np.uint8), mode="L")
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


def _unreadable(src: Path) -> MediaError:
    if looks_like_image(head(src)):
        return _corrupt()
    return MediaError(
        "image_not_image",
        "This file is not a picture we can read; upload a photo of a face as PNG, JPEG or WebP.",
    )


def _corrupt() -> MediaError:
    return MediaError(
        "image_corrupt",
        "The picture file is damaged or incomplete; save or download it again and retry.",
    )
