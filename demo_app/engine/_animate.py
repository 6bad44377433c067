"""Per-frame animation of a still face: jaw drop from loudness, blinks, a little head sway.

Every warp is a `cv2.remap` over a small region with maps precomputed per quantised level, so a
frame costs a few small remaps plus one affine warp of the whole picture.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from demo_app.engine._face import Box, FaceLayout, RGBImage

Floats = npt.NDArray[np.float32]
Reals = npt.NDArray[np.floating]

_MOUTH_LEVELS = 24
_BLINK_LEVELS = 6
_MOUTH_EDGE_RGB = np.array([92.0, 38.0, 40.0], np.float32)  # lit lips' inner edge
_MOUTH_DEPTH_RGB = np.array([26.0, 8.0, 10.0], np.float32)  # the shadowed back of the mouth
_LASH_RGB = np.array([40.0, 28.0, 26.0], np.float32)
_BLINK_EVERY_S = (3.1, 4.4, 2.6, 3.8, 5.0, 3.3)  # irregular, but the same for every render
_BLINK_LENGTH_S = 0.2


class _RegionWarp:
    """Remaps one rectangle of the still image and blends a colour over it, one precomputed level at once."""

    def __init__(self, still: RGBImage, top: int, bottom: int, left: int, right: int) -> None:
        self.top, self.bottom, self.left, self.right = top, bottom, left, right
        self.source = np.ascontiguousarray(still[top:bottom, left:right])
        self._levels: dict[int, tuple[npt.NDArray[np.int16], npt.NDArray[np.uint16], Floats, Floats]] = {}

    def store(self, level: int, map_y: Reals, alpha: Reals, colour: Reals) -> None:
        """map_y: source row per pixel (region coordinates); colour: RGB per pixel or one RGB for all."""
        height, width = map_y.shape
        map_x = np.broadcast_to(np.arange(width, dtype=np.float32), (height, width))
        fixed_xy, fixed_frac = cv2.convertMaps(
            np.ascontiguousarray(map_x), map_y.astype(np.float32), cv2.CV_16SC2
        )
        keep = (1.0 - alpha)[..., None].astype(np.float32)
        tint = (alpha[..., None] * colour).astype(np.float32)
        self._levels[level] = (np.asarray(fixed_xy, np.int16), np.asarray(fixed_frac, np.uint16), keep, tint)

    def has(self, level: int) -> bool:
        return level in self._levels

    def paint(self, frame: RGBImage, level: int) -> None:
        fixed_xy, fixed_frac, keep, tint = self._levels[level]
        warped = cv2.remap(
            self.source, fixed_xy, fixed_frac, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        blended = np.clip(warped.astype(np.float32) * keep + tint + 0.5, 0, 255)
        frame[self.top : self.bottom, self.left : self.right] = blended.astype(np.uint8)


class MouthWarp:
    """Drops the jaw below the lip line and fills the parted lips with a dark inner mouth."""

    def __init__(self, still: RGBImage, layout: FaceLayout) -> None:
        height, width = still.shape[:2]
        face_h = layout.face_box[3]
        half = layout.mouth_half_width
        top = max(0, layout.mouth_y - round(0.18 * face_h))
        bottom = min(height, layout.mouth_y + round(0.36 * face_h))
        left = max(0, layout.mouth_x - round(1.6 * half))
        right = min(width, layout.mouth_x + round(1.6 * half) + 1)
        self._region = _RegionWarp(still, top, bottom, left, right)
        self._lip = _lip_curve(self._region.source, layout.mouth_y - top, round(0.05 * face_h), half) + top
        room_below = bottom - 1 - float(self._lip.max())
        room_above = float(self._lip.min()) - top
        self._max_drop = max(0.0, min(0.085 * face_h, 0.4 * room_below))
        self._max_lift = max(0.0, min(0.3 * self._max_drop, 0.4 * room_above))
        across = (np.arange(left, right, dtype=np.float32) - layout.mouth_x) / max(half, 1)
        self._profile = np.clip(1.0 - across**2, 0.0, 1.0) ** 0.8

    def paint(self, frame: RGBImage, openness: float) -> None:
        level = round(min(max(openness, 0.0), 1.0) * _MOUTH_LEVELS)
        if level == 0 or self._max_drop < 1.0:
            return
        if not self._region.has(level):
            self._build(level)
        self._region.paint(frame, level)

    def _build(self, level: int) -> None:
        region = self._region
        fraction = level / _MOUTH_LEVELS
        drop = (fraction * self._max_drop * self._profile)[None, :]
        lift = (fraction * self._max_lift * self._profile)[None, :]
        rows = np.arange(region.top, region.bottom, dtype=np.float32)[:, None]
        lip, top, last = self._lip[None, :], float(region.top), float(region.bottom - 1)
        below = lip + (rows - lip - drop) * (last - lip) / np.maximum(last - lip - drop, 1e-3)
        above = top + (rows - top) * (lip - top) / np.maximum(lip - lift - top, 1e-3)
        source = np.where(rows >= lip + drop, below, np.where(rows <= lip - lift, above, lip))
        inside = np.minimum(rows - (lip - lift), (lip + drop) - rows)
        alpha = np.clip((inside + 0.5) / 1.5, 0.0, 1.0) * np.clip(drop + lift, 0.0, 1.0) * 0.96
        depth = np.clip(2.0 * inside / np.maximum(drop + lift, 1.0), 0.0, 1.0)[..., None]
        colour = _MOUTH_EDGE_RGB + (_MOUTH_DEPTH_RGB - _MOUTH_EDGE_RGB) * depth
        region.store(level, source - top, alpha, colour)


def _lip_curve(region: RGBImage, centre_row: int, reach: int, half_width: int) -> Floats:
    """Per column, the darkest row near the lip line, smoothed: the parting follows a smile's curve."""
    gray = cv2.GaussianBlur(cv2.cvtColor(region, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.5)
    first = max(0, centre_row - max(1, reach))
    last = min(gray.shape[0], centre_row + max(1, reach) + 1)
    if last - first < 2:
        return np.full(gray.shape[1], float(centre_row), np.float32)
    rows = (first + np.argmin(gray[first:last], axis=0)).astype(np.float32)
    width = max(1, round(0.3 * half_width))
    padded = np.pad(rows, width, mode="edge")
    kernel = np.ones(width * 2 + 1, np.float32) / (width * 2 + 1)
    return np.convolve(padded, kernel, mode="valid").astype(np.float32)


class EyeBlink:
    """Draws each upper lid down over its eye by stretching the skin above it, with a dark lash line."""

    def __init__(self, still: RGBImage, eyes: tuple[Box, ...]) -> None:
        height, width = still.shape[:2]
        self._eyes: list[tuple[_RegionWarp, Floats, float, float]] = []
        for x, y, w, h in eyes:
            top, bottom = max(0, y), min(height, y + h)
            left, right = max(0, x), min(width, x + w)
            if bottom - top < 6 or right - left < 6:
                continue
            across = (np.arange(left, right, dtype=np.float32) - (x + w / 2)) / (0.48 * w)
            profile = np.clip(1.0 - across**2, 0.0, 1.0) ** 0.5
            region = _RegionWarp(still, top, bottom, left, right)
            self._eyes.append((region, profile.astype(np.float32), y + 0.36 * h, y + 0.68 * h))

    def paint(self, frame: RGBImage, closed: float) -> None:
        level = round(min(max(closed, 0.0), 1.0) * _BLINK_LEVELS)
        if level == 0:
            return
        for region, profile, lid, lower_lid in self._eyes:
            if not region.has(level):
                self._build(region, profile, lid, lower_lid, level)
            region.paint(frame, level)

    @staticmethod
    def _build(region: _RegionWarp, profile: Floats, lid: float, lower_lid: float, level: int) -> None:
        fraction = level / _BLINK_LEVELS
        rows = np.arange(region.top, region.bottom, dtype=np.float32)[:, None]
        top = float(region.top)
        edge = (lid + fraction * (lower_lid - lid) * profile)[None, :]
        stretched = top + (rows - top) * (lid - top) / np.maximum(edge - top, 1e-3)
        source = np.where(rows <= edge, stretched, rows)
        lash = 0.6 * fraction * profile[None, :] * np.exp(-(((rows - edge) / 1.2) ** 2))
        region.store(level, source - top, lash, _LASH_RGB)


def blink_amount(t: float) -> float:
    """How shut the eyes are at time t: a quick close-and-open every few seconds."""
    start = 1.0
    index = 0
    while start + _BLINK_LENGTH_S < t:
        start += _BLINK_EVERY_S[index % len(_BLINK_EVERY_S)]
        index += 1
    phase = (t - start) / _BLINK_LENGTH_S
    if not 0.0 <= phase <= 1.0:
        return 0.0
    return float(min(1.0, 2.0 * (1.0 - abs(2.0 * phase - 1.0))))


class HeadSway:
    """A slow idle sway plus a slight nod while speaking, pivoting about the neck."""

    def __init__(self, layout: FaceLayout, size: tuple[int, int], openness: Floats, fps: int) -> None:
        x, y, w, h = layout.face_box
        self._pivot = (float(x + w / 2), float(min(size[1] - 1, y + 1.3 * h)))
        self._size = size
        self._fps = fps
        self._reach = 0.012 * h
        kernel = np.ones(max(1, fps // 2), np.float32) / max(1, fps // 2)
        self._speaking = np.convolve(openness, kernel, mode="same")

    def matrix(self, index: int) -> npt.NDArray[np.float64]:
        t = index / self._fps
        angle = 0.6 * math.sin(2 * math.pi * t / 4.7) + 0.25 * math.sin(2 * math.pi * t / 1.9 + 0.8)
        matrix = np.asarray(cv2.getRotationMatrix2D(self._pivot, angle, 1.0), dtype=np.float64)
        matrix[0, 2] += self._reach * 0.8 * math.sin(2 * math.pi * t / 6.3)
        matrix[1, 2] += self._reach * 1.5 * float(self._speaking[index])
        return matrix

    def paint(self, frame: RGBImage, index: int) -> RGBImage:
        moved = cv2.warpAffine(
            frame, self.matrix(index), self._size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
        )
        return np.asarray(moved, dtype=np.uint8)
