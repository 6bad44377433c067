"""Open a container with FFmpeg so that it can read the one file we hand it, and nothing else.

Three locks, each enough on its own for the tricks we know of, together for the ones we don't:
the demuxer is forced (chosen from the file's bytes, so HLS, concat or any other demuxer that
follows references is never even tried), nested opens go through `_refuse_nested` (which
refuses: no sub-file, URL or `data:` reference is ever read), and the protocol white-list is
empty for anything FFmpeg might open by itself.
"""

from __future__ import annotations

from typing import IO, Any

import av
import av.container


class NestedOpenRefused(PermissionError):
    """The file asked FFmpeg to open another resource (a URL, a sub-file, a `data:` URI)."""


def open_input(handle: IO[bytes], demuxer: str) -> av.container.InputContainer:
    """The container in `handle`, read by `demuxer` only; raises what `av.open` raises."""
    container = av.open(
        handle,
        mode="r",
        format=demuxer,
        options={"protocol_whitelist": "none"},
        io_open=_refuse_nested,
    )
    assert isinstance(container, av.container.InputContainer)
    return container


def single_threaded(stream: Any) -> None:
    """One decoding thread: a worker process uses one core, and its memory stays predictable."""
    stream.codec_context.thread_count = 1


def _refuse_nested(url: str, flags: int, options: dict[str, Any]) -> IO[bytes]:
    raise NestedOpenRefused("nested open refused")
