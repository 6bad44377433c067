"""A batch's own files: its inputs, kept until each item has started (Gradio's upload cache may
be cleaned before the last item's turn, or a restart may come), and the zip of its results."""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHOWN_NAME_CHARS = 80


@dataclass(frozen=True)
class ZipEntry:
    """One succeeded item: its number, its video and its manifest."""

    number: int
    video: Path
    manifest: dict[str, Any]


def shown_name(path: str) -> str:
    """A file's name for showing: printable, short (names are the sender's, hostile)."""
    name = re.sub(r"[^\w .()+-]+", "_", Path(path).name).strip() or "clip"
    return name[:SHOWN_NAME_CHARS]


def keep(src: str, folder: Path, name: str) -> str:
    """`src` kept in `folder` as `name` (plus its plain extension): a hard link, or a copy."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(src).suffix.lower()
    dest = folder / (name + (suffix if len(suffix) <= 6 and suffix[1:].isalnum() else ""))
    try:
        os.link(src, dest)
    except FileExistsError:
        pass
    except OSError:
        shutil.copyfile(src, dest)
    return str(dest)


def keep_pairs(folder: Path, images: Sequence[str], audios: Sequence[str]) -> tuple[list[str], list[str]]:
    """The pairs' files kept in `folder`; a face shared by every clip is kept once."""
    kept: dict[str, str] = {}
    for image in images:
        if image not in kept:
            kept[image] = keep(image, folder, f"face-{len(kept) + 1:02d}")
    faces = [kept[image] for image in images]
    clips = [keep(audio, folder, f"clip-{number:02d}") for number, audio in enumerate(audios, start=1)]
    return faces, clips


def write_zip(path: Path, entries: Sequence[ZipEntry]) -> Path | None:
    """`item-NN.mp4` and `item-NN.json` for each entry whose video is still on disk, written whole
    before it replaces `path`; None when no video is left."""
    entries = [entry for entry in entries if entry.video.is_file()]
    if not entries:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        for entry in entries:
            archive.write(entry.video, f"item-{entry.number:02d}.mp4")
            archive.writestr(f"item-{entry.number:02d}.json", json.dumps(entry.manifest, indent=2))
    partial.replace(path)
    return path
