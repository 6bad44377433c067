"""Scripted behaviours of the engine, one small object each (like httpx's `DigestApp`).

A scenario acts at three points:
- on the wire: `on_request` may answer instead of the engine (429, 5xx, 401, a drop) and
  `on_response` may replace the engine's answer (drop it after the create happened);
- in the prediction's life: its `script` says how long it queues, whether it renders,
  fails, stalls or is canceled upstream, and what shape its output takes;
- in the models served: `served` may change a model's input fields (a new version whose schema
  drifted), which both its schema and its create validation then follow.
Wire counters are per (method, route template), so "the first 2 GETs" means the first 2
GETs of a prediction, whatever else the client sent. All durations are clock seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

from starlette.responses import Response

from demo_app.engine._drop import DropAfterHeaders
from demo_app.engine._hosted_models import HostedModel, InputField
from demo_app.engine._problems import Problem, rate_limited, unauthenticated
from demo_app.engine._routes import CREATES, GET_PREDICTION, Route

ScriptedOutcome = Literal["render", "ready", "fail", "upstream_cancel", "stall"]
"""`ready`: print progress for `run_s`, then succeed with the engine's ready clip (no render)."""
OutputShape = Literal["string", "list", "missing"]
UNREADABLE_SCHEMA = "unreadable"

DEFAULT_FAILURE = (
    "The model ran out of GPU memory while generating the video. Try again, or use a shorter audio clip."
)


@dataclass(frozen=True)
class Script:
    """How a prediction lives under a scenario."""

    queue_s: float = 0.5
    """Time spent `starting` before `processing`."""
    starts: bool = True
    """False: the prediction never leaves `starting`; its deadline aborts it."""
    abort_after_s: float = 60.0
    """With `starts=False` and no Cancel-After, the prediction is aborted after this long."""
    outcome: ScriptedOutcome = "render"
    error: str = DEFAULT_FAILURE
    """The `error` of a prediction whose outcome is `fail`."""
    fake_steps: int = 40
    """Progress lines a `fail` / `upstream_cancel` prints before it ends, out of 100."""
    progress_pace_s: float = 0.0
    """Least time between two progress lines (slows the visible progress, not the render)."""
    run_s: float = 20.0
    """How long a `ready` outcome processes before it succeeds."""
    output_shape: OutputShape = "string"
    output_expired: bool = False
    """The output URL is already expired when the prediction succeeds."""
    reject_input: bool = False
    """Every create answers 422 on the model's image field."""
    pad_output: bool = False
    """Chunked models return whole chunks: the video runs past the audio (silent at the end)."""


@dataclass(frozen=True)
class WebhookScript:
    """How the engine delivers a prediction's webhooks under a scenario."""

    lose: frozenset[str] = frozenset()
    """Events whose deliveries are never sent (the receiver must find those changes by reading)."""
    copies: int = 1
    """Each delivery is sent this many times with the same `webhook-id`."""
    delay_s: float = 0.0
    """Every delivery leaves this long after its event (it arrives late, maybe after a read)."""
    reorder_s: float = 0.0
    """Every other delivery before the final one is held back this long, so later ones overtake it."""
    bad_signature: bool = False
    """Deliveries are signed with a wrong key."""


class Scenario:
    """The normal behaviour; subclasses change one thing."""

    name: ClassVar[str] = "normal"
    script: Script = Script()
    webhooks: WebhookScript = WebhookScript()

    def script_for(self, model: HostedModel) -> Script:
        """How the prediction of `model` being created now lives (`next_script`, unless a scenario
        treats models differently)."""
        return self.next_script()

    def next_script(self) -> Script:
        """The script of the prediction being created now: `script`, unless a scenario counts creates."""
        return self.script

    def on_request(self, route: Route) -> Response | None:
        """Answer instead of the engine, or None to let the engine answer."""
        return None

    def on_response(self, route: Route, response: Response) -> Response:
        """Replace the engine's answer (it has already acted)."""
        return response

    def served(self, model: HostedModel) -> HostedModel:
        """The model as Replicate serves it now (its schema and what its creates accept)."""
        return model

    def served_schema(self, model: HostedModel, schema: dict[str, Any]) -> Any:
        """The `openapi_schema` the model and version reads carry (anything JSON)."""
        return schema

    def __repr__(self) -> str:
        return f"<scenario {self.name}>"


class Normal(Scenario):
    name = "normal"


class ColdStart(Scenario):
    """`starting` for a long while (a worker booting), then normal."""

    name = "cold_start"

    def __init__(self, seconds: float = 30.0) -> None:
        self.script = Script(queue_s=seconds)


class SlowProgress(Scenario):
    """The render's progress lines arrive `pace_s` apart."""

    name = "slow_progress"

    def __init__(self, pace_s: float = 2.0) -> None:
        self.script = Script(progress_pace_s=pace_s)


class ReadyClip(Scenario):
    """Serves a ready clip instead of rendering: `starting` 3 s, processing 20 s with a tqdm line
    every 0.5 s, then success. Load tests then measure their client, not the renderer."""

    name = "ready_clip"
    script = Script(queue_s=3.0, outcome="ready", run_s=20.0, progress_pace_s=0.5)


class Failure(Scenario):
    """Processing starts, prints some progress, then fails with `error`."""

    name = "failure"

    def __init__(self, error: str = DEFAULT_FAILURE) -> None:
        self.script = Script(outcome="fail", error=error)


class ModelFails(Scenario):
    """Predictions of `model_id` fail as `Failure` does; every other model runs normally."""

    name = "model_fails"

    def __init__(self, model_id: str = "bytedance/omni-human", error: str = DEFAULT_FAILURE) -> None:
        self.model_id = model_id
        self.failing = Script(outcome="fail", error=error)

    def script_for(self, model: HostedModel) -> Script:
        return self.failing if model.id == self.model_id else self.script
class FailNth(Scenario):
    """The `n`th prediction created fails (as `failure` does); every other one renders."""

    name = "fail_nth"

    def __init__(self, n: int = 2, error: str = DEFAULT_FAILURE) -> None:
        self.n = n
        self._failing = Script(outcome="fail", error=error)
        self._created = 0

    def next_script(self) -> Script:
        self._created += 1
        return self._failing if self._created == self.n else self.script


class UpstreamCancel(Scenario):
    """Processing starts, then someone cancels it on Replicate's side (status `canceled`)."""

    name = "upstream_cancel"
    script = Script(outcome="upstream_cancel")


class Aborted(Scenario):
    """No worker ever picks the prediction up; the deadline (or `queue_timeout_s`) aborts it."""

    name = "aborted"

    def __init__(self, queue_timeout_s: float = 60.0) -> None:
        self.script = Script(starts=False, abort_after_s=queue_timeout_s)


class Stall(Scenario):
    """Processing forever, with no progress: only a deadline or a cancel ends it."""

    name = "stall"
    script = Script(outcome="stall")


class ListOutput(Scenario):
    """The output is a list holding the video URL."""

    name = "list_output"
    script = Script(output_shape="list")


class MissingOutput(Scenario):
    """Succeeds with `output: null`."""

    name = "missing_output"
    script = Script(output_shape="missing")


class PaddedOutput(Scenario):
    """Chunked models (Wan's frames per chunk) pad the video to whole chunks, as they do upstream."""

    name = "padded_output"
    script = Script(pad_output=True)


class ExpiredOutput(Scenario):
    """Succeeds, but the output URL has already expired (410) when the client fetches it."""

    name = "expired_output"
    script = Script(output_expired=True)


class InputRefused(Scenario):
    """Every create is refused with a 422 on the model's image field."""

    name = "invalid_input"
    script = Script(reject_input=True)


class TokenRevoked(Scenario):
    """Every API call answers 401, as with a revoked token."""

    name = "unauthorized"

    def on_request(self, route: Route) -> Response | None:
        return unauthenticated(token_given=True).response() if route[1].startswith("/v1/") else None


FieldsChange = Callable[[HostedModel], HostedModel]


def renamed(old: str, new: str) -> FieldsChange:
    """The field `old` is called `new` from now on (a media field's role moves with it)."""

    def change(model: HostedModel) -> HostedModel:
        fields = tuple(replace(f, name=new) if f.name == old else f for f in model.fields)
        image = new if model.image_field == old else model.image_field
        audio = new if model.audio_field == old else model.audio_field
        return replace(model, fields=fields, image_field=image, audio_field=audio)

    return change


def required(name: str) -> FieldsChange:
    """A new required string field `name` (or an existing field becomes required)."""

    def change(model: HostedModel) -> HostedModel:
        if any(f.name == name for f in model.fields):
            return replace(
                model, fields=tuple(replace(f, required=True) if f.name == name else f for f in model.fields)
            )
        return replace(model, fields=(*model.fields, InputField(name, "string", required=True)))

    return change


def narrowed(name: str, *, minimum: float | None = None, maximum: float | None = None) -> FieldsChange:
    """The numeric field `name` takes a narrower range (None keeps that end)."""

    def change(model: HostedModel) -> HostedModel:
        def narrow(f: InputField) -> InputField:
            low = f.minimum if minimum is None else minimum
            high = f.maximum if maximum is None else maximum
            return replace(f, minimum=low, maximum=high)

        return replace(model, fields=tuple(narrow(f) if f.name == name else f for f in model.fields))

    return change


IMAGE_RENAMED = renamed("image", "first_frame")
"""What `schema_drift` does by default: Wan's image field gets another name."""


class SchemaDrift(Scenario):
    """Replicate now serves `model_id` with changed input fields, or with an unreadable schema.

    `change` (None: no change) applies to the schema and to the creates; `unreadable` makes the
    model and version reads carry `openapi_schema: "unreadable"` (not an object). Both may be
    set later on a running engine: the next schema read sees them.
    """

    name = "schema_drift"

    def __init__(
        self,
        model_id: str = "wan-video/wan-2.2-s2v",
        change: FieldsChange | None = IMAGE_RENAMED,
        *,
        unreadable: bool = False,
    ) -> None:
        self.model_id = model_id
        self.change = change
        self.unreadable = unreadable

    def served(self, model: HostedModel) -> HostedModel:
        if model.id != self.model_id or self.change is None:
            return model
        return self.change(model)

    def served_schema(self, model: HostedModel, schema: dict[str, Any]) -> Any:
        return UNREADABLE_SCHEMA if self.unreadable and model.id == self.model_id else schema


class _FirstN(Scenario):
    """Acts on the first `n` requests to each of `routes`."""

    def __init__(self, n: int, routes: Iterable[Route]) -> None:
        self.n = n
        self.routes = frozenset(routes)
        self.seen: Counter[Route] = Counter()

    def _hit(self, route: Route) -> bool:
        if route not in self.routes:
            return False
        self.seen[route] += 1
        return self.seen[route] <= self.n


class RateLimitFirst(_FirstN):
    """The first `n` creates and `n` GETs of a prediction answer 429 with `Retry-After`."""

    name = "rate_limit_burst"

    def __init__(
        self, n: int = 2, retry_after_s: int = 1, routes: Iterable[Route] = CREATES | {GET_PREDICTION}
    ) -> None:
        super().__init__(n, routes)
        self.retry_after_s = retry_after_s

    def on_request(self, route: Route) -> Response | None:
        return rate_limited(self.retry_after_s).response() if self._hit(route) else None


class ServerErrorFirst(_FirstN):
    """The first `n` GETs of a prediction answer 500, 502, 503 in turn."""

    name = "server_error_burst"
    _STATUSES = ((500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable"))

    def __init__(self, n: int = 2, routes: Iterable[Route] = (GET_PREDICTION,)) -> None:
        super().__init__(n, routes)

    def on_request(self, route: Route) -> Response | None:
        if not self._hit(route):
            return None
        status, title = self._STATUSES[(self.seen[route] - 1) % len(self._STATUSES)]
        return Problem(status, title, "The server had a temporary problem; try again shortly.").response()


class DropOnCreate(_FirstN):
    """The first `n` creates happen, but the connection drops before the answer arrives."""

    name = "drop_on_create"

    def __init__(self, n: int = 1) -> None:
        super().__init__(n, CREATES)

    def on_response(self, route: Route, response: Response) -> Response:
        return DropAfterHeaders(response) if response.status_code < 300 and self._hit(route) else response


class DropOnGet(_FirstN):
    """The first `n` GETs of a prediction are cut before their body."""

    name = "drop_on_get"

    def __init__(self, n: int = 2) -> None:
        super().__init__(n, (GET_PREDICTION,))

    def on_response(self, route: Route, response: Response) -> Response:
        return DropAfterHeaders(response) if self._hit(route) else response


class WebhooksDuplicated(Scenario):
    """Every webhook is delivered twice, with the same `webhook-id`."""

    name = "webhooks_duplicated"
    webhooks = WebhookScript(copies=2)


class WebhooksOutOfOrder(Scenario):
    """Every other webhook is held back, so a later state arrives before an earlier one."""

    name = "webhooks_out_of_order"

    def __init__(self, held_s: float = 2.0) -> None:
        self.script = Script(progress_pace_s=0.5)
        self.webhooks = WebhookScript(reorder_s=held_s)


class WebhooksLost(Scenario):
    """The webhooks of `events` (by default all) never arrive."""

    name = "webhooks_lost"

    def __init__(self, events: Iterable[str] = ("start", "output", "logs", "completed")) -> None:
        self.webhooks = WebhookScript(lose=frozenset(events))


class WebhooksBadlySigned(Scenario):
    """Every webhook is signed with a key that is not the account's."""

    name = "webhooks_badly_signed"
    webhooks = WebhookScript(bad_signature=True)


class WebhooksLate(Scenario):
    """Every webhook arrives `late_s` after its event."""

    name = "webhooks_late"

    def __init__(self, late_s: float = 3.0) -> None:
        self.webhooks = WebhookScript(delay_s=late_s)


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    cls.name: cls
    for cls in (
        Normal,
        ColdStart,
        SlowProgress,
        ReadyClip,
        Failure,
        ModelFails,
        FailNth,
        UpstreamCancel,
        Aborted,
        RateLimitFirst,
        ServerErrorFirst,
        DropOnCreate,
        DropOnGet,
        ListOutput,
        MissingOutput,
        PaddedOutput,
        ExpiredOutput,
        TokenRevoked,
        InputRefused,
        Stall,
        SchemaDrift,
        WebhooksDuplicated,
        WebhooksOutOfOrder,
        WebhooksLost,
        WebhooksBadlySigned,
        WebhooksLate,
    )
}


def make_scenario(name: str) -> Scenario:
    """The scenario called `name`, with its default settings."""
    factory = SCENARIOS.get(name)
    if factory is None:
        raise ValueError(f"Unknown engine scenario {name!r}; choose one of: {', '.join(SCENARIOS)}.")
    return factory()
