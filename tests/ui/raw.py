"""Calling the launched app the way an attacker does: raw HTTP to Gradio's routes, any event by
its fn_index (private page events included), any JSON in any argument."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.ui.conftest import RunningApp

TIMEOUT_S = 60.0


@dataclass
class Answer:
    """What an event call came back with: the outputs, or the error the caller reads."""

    status_code: int
    output: list[Any] | None = None
    error: str | None = None


class RawSession:
    """One browser session (one session hash) of a launched app, driven over raw HTTP."""

    def __init__(self, app: RunningApp) -> None:
        self.app = app
        self.session_hash = secrets.token_hex(8)
        self.http = httpx.Client(base_url=app.url, timeout=TIMEOUT_S)
        self.fn_index = {fn.api_name: fn._id for fn in app.demo.fns.values()}

    def close(self) -> None:
        self.http.close()

    def join(self, event: str, data: list[Any]) -> Answer:
        """Post one event (by api_name, e.g. "page_quote" or "start") and wait for its end."""
        body = {"data": data, "fn_index": self.fn_index[event], "session_hash": self.session_hash}
        return self.post_join(json.dumps(body).encode())

    def post_join(self, body: bytes) -> Answer:
        """Post a raw queue/join body; follow the event to its end when the queue takes it."""
        response = self.http.post(
            "/gradio_api/queue/join", content=body, headers={"content-type": "application/json"}
        )
        if response.status_code != 200:
            return Answer(response.status_code, error=refusal_text(response))
        event_id = response.json()["event_id"]
        with self.http.stream(
            "GET", "/gradio_api/queue/data", params={"session_hash": self.session_hash}
        ) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event_id or message.get("msg") != "process_completed":
                    continue
                output = message.get("output") or {}
                if message.get("success"):
                    return Answer(200, output=output.get("data"))
                return Answer(200, error=str(output.get("error")))
        raise AssertionError(f"event {event_id} never completed")


def refusal_text(response: httpx.Response) -> str:
    """The sentence of a refusal the guard (or Gradio) answered before the queue took the event."""
    try:
        content = response.json()
    except ValueError:
        return response.text
    detail = content.get("detail") if isinstance(content, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("message"))
    return str(content.get("error") or detail)
