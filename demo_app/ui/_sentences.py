"""Every handler answers in sentences: a refusal the caller can act on, never Gradio's generic error.

With `show_error=False` Gradio shows only "The upstream Gradio app has raised an exception" for
any exception that is not a `gr.Error`, and the page shows nothing useful either. `speaks` wraps
a handler so that an argument of the wrong shape (`BadArgument`) becomes its own sentence and
anything unexpected becomes a plain apology, while the traceback goes to the server log only.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from demo_app.arguments import BadArgument

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "Something went wrong on our side; please try again in a minute."

F = TypeVar("F", bound=Callable[..., Any])


class Refused(Exception):
    """A call the API turns down; `str()` is the sentence for the caller, `title` its heading."""

    def __init__(self, message: str, *, title: str) -> None:
        super().__init__(message)
        self.title = title


def refusal(message: str, title: str) -> gr.Error:
    """A modal (page) or an `AppError` (API) with our sentence; no traceback for an expected refusal."""
    return gr.Error(message, title=title, print_exception=False)


def speaks(fn: F) -> F:
    """`fn` (a coroutine or async generator function) with every failure turned into a sentence."""
    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def stream(*args: Any, **kwargs: Any) -> Any:
            try:
                async with contextlib.aclosing(fn(*args, **kwargs)) as items:
                    async for item in items:
                        yield item
            except Exception as exc:
                raise _sentence(fn, exc) from None

        return stream  # type: ignore[return-value]

    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        except Exception as exc:
            raise _sentence(fn, exc) from None

    return call  # type: ignore[return-value]


def _sentence(fn: Callable[..., Any], exc: Exception) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, (BadArgument, Refused)):
        return refusal(str(exc), exc.title)
    log.error("%s failed", getattr(fn, "__qualname__", fn), exc_info=exc)
    return refusal(SOMETHING_WENT_WRONG, "Error")
