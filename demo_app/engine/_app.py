"""`Engine`: the built-in server that speaks Replicate's HTTP API, as one ASGI app.

Each request passes the same layers, in order: count it (`requests`), let the scenario answer
instead (429, 5xx, 401, ...), check the bearer token, apply due expiries, run the handler,
let the scenario replace the answer (a dropped connection). Handlers live in `_api_*` modules;
state and background work in `Runtime`.

`httpx.ASGITransport` does not run the ASGI lifespan, so in-process users call
`await engine.start()` themselves; under uvicorn the lifespan does it.
"""

from __future__ import annotations

import contextlib
import hmac
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import ClassVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from demo_app.engine import _api_files, _api_models, _api_predictions, _routes, _stats
from demo_app.engine._clock import Clock, ScaledClock
from demo_app.engine._drop import EngineTransport
from demo_app.engine._problems import Problem, unauthenticated
from demo_app.engine._render_pool import Renderer, RenderPool, real_renderer
from demo_app.engine._routes import Route
from demo_app.engine._runtime import Runtime
from demo_app.engine._scenarios import Scenario, make_scenario

Handler = Callable[[Runtime, Request], Awaitable[Response]]

_ROUTES: list[tuple[Route, Handler, bool]] = [
    (_routes.CREATE_BY_MODEL, _api_predictions.create_by_model, True),
    (_routes.CREATE_BY_VERSION, _api_predictions.create_by_version, True),
    (_routes.LIST_PREDICTIONS, _api_predictions.list_predictions, True),
    (_routes.GET_PREDICTION, _api_predictions.get_prediction, True),
    (_routes.CANCEL_PREDICTION, _api_predictions.cancel_prediction, True),
    (_routes.GET_MODEL, _api_models.get_model, True),
    (_routes.GET_MODEL_VERSION, _api_models.get_model_version, True),
    (_routes.WEBHOOK_SECRET, _api_predictions.webhook_secret, True),
    (_routes.CREATE_FILE, _api_files.create_file, True),
    (_routes.LIST_FILES, _api_files.list_files, True),
    (_routes.GET_FILE, _api_files.get_file, True),
    (_routes.DELETE_FILE, _api_files.delete_file, True),
    (_routes.DOWNLOAD_FILE, _api_files.download_file, True),
    (_routes.GET_OUTPUT, _api_files.get_output, False),
    (_routes.WEB_PAGE, _api_files.web_page, False),
    (_routes.ENGINE_STATS, _stats.get_stats, True),
]
"""(route, handler, needs the token). Output URLs are unguessable and public, like replicate.delivery."""


class Engine:
    """A Replicate-compatible server that renders talking-face videos, with scripted scenarios."""

    base_url: ClassVar[str] = "http://engine.internal"
    """The base URL to use with `transport()`; in-process URLs are built on it."""

    def __init__(
        self,
        *,
        token: str,
        data_dir: Path,
        scenario: str | Scenario = "normal",
        time_scale: float = 1.0,
        output_ttl_s: float = 3600.0,
        render_workers: int = 1,
        renderer: Renderer = real_renderer,
        clock: Clock | None = None,
        render_pool: RenderPool | None = None,
        page_size: int = 100,
        max_upload_bytes: int = 100 * 1024 * 1024,
        ready_clip: Path | None = None,
    ) -> None:
        """`clock` overrides `time_scale`; a shared `render_pool` is borrowed, not closed;
        `ready_clip` is the MP4 that predictions of a `ready` script succeed with."""
        self._token = token.encode()
        self.scenario = make_scenario(scenario) if isinstance(scenario, str) else scenario
        if self.scenario.script.outcome == "ready" and (ready_clip is None or not ready_clip.is_file()):
            raise ValueError(f"The {self.scenario.name} scenario needs an MP4 to serve: pass ready_clip.")
        self.clock: Clock = clock or ScaledClock(time_scale)
        self.requests: Counter[Route] = Counter()
        self._runtime = Runtime(
            data_dir=data_dir,
            clock=self.clock,
            scenario=self.scenario,
            output_ttl_s=output_ttl_s,
            pool=render_pool or RenderPool(render_workers),
            owns_pool=render_pool is None,
            renderer=renderer,
            page_size=page_size,
            max_upload_bytes=max_upload_bytes,
            ready_clip=ready_clip,
        )
        self._app = Starlette(
            routes=[
                StarletteRoute(route[1], self._endpoint(route, handler, needs_token), methods=[route[0]])
                for route, handler, needs_token in _ROUTES
            ],
            lifespan=self._lifespan,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def start(self) -> None:
        """Start background work (idempotent); predictions cannot be created before."""
        await self._runtime.start()

    async def aclose(self) -> None:
        """Stop every prediction's task and, if the engine owns it, the render pool."""
        await self._runtime.aclose()

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process transport to this engine; use it with `base_url`."""
        return EngineTransport(self)

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    def __repr__(self) -> str:
        return f"<Engine scenario={self.scenario.name} clock={self.clock!r}>"

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.aclose()

    def _endpoint(
        self, route: Route, handler: Handler, needs_token: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            self.requests[route] += 1
            self._runtime.request_log.record(route)
            scripted = self.scenario.on_request(route)
            if scripted is not None:
                return scripted
            try:
                if needs_token:
                    self._authenticate(request)
                self._runtime.sweep()
                response = await handler(self._runtime, request)
            except Problem as problem:
                response = problem.response()
            if route[1].startswith("/v1/"):
                remaining = 599 if route in _routes.CREATES else 2999
                response.headers["ratelimit-remaining"] = str(remaining)
                response.headers["ratelimit-reset"] = "1"
            return self.scenario.on_response(route, response)

        return endpoint

    def _authenticate(self, request: Request) -> None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if not given or scheme.lower() not in ("bearer", "token"):
            raise unauthenticated(token_given=False)
        if not hmac.compare_digest(given.strip().encode(), self._token):
            raise unauthenticated(token_given=True)
