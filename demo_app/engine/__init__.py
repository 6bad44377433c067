"""The built-in engine: a Replicate-compatible HTTP server that renders talking faces.

Used in-process (`Engine.transport()`) as the offline default and by the tests, or standalone
with `python -m demo_app.engine --port N`. `_app` holds the request path, `_scenarios` the
scripted behaviours, `_hosted_models` the models as Replicate hosts them (their input schemas,
not our catalog), `_clock` the fast clock, `_render_pool` how renders run.
"""

from demo_app.engine._app import Engine
from demo_app.engine._clock import Clock, ScaledClock
from demo_app.engine._hosted_models import HOSTED_MODELS, HostedModel, InvalidField, validate_input
from demo_app.engine._predictions import RecordStatus
from demo_app.engine._problems import Problem
from demo_app.engine._render import render_talking_face
from demo_app.engine._render_pool import Renderer, RenderJob, RenderPool, RenderResult, real_renderer
from demo_app.engine._routes import (
    CANCEL_PREDICTION,
    CREATE_BY_MODEL,
    CREATE_BY_VERSION,
    CREATE_FILE,
    CREATES,
    GET_OUTPUT,
    GET_PREDICTION,
    LIST_PREDICTIONS,
    MODEL_READS,
    WEBHOOK_SECRET,
    Route,
)
from demo_app.engine._scenarios import (
    SCENARIOS,
    DropOnCreate,
    Scenario,
    Script,
    WebhookScript,
    make_scenario,
)
from demo_app.engine._server import LoopbackServer

__all__ = [
    "CANCEL_PREDICTION",
    "CREATES",
    "CREATE_BY_MODEL",
    "CREATE_BY_VERSION",
    "CREATE_FILE",
    "GET_OUTPUT",
    "GET_PREDICTION",
    "HOSTED_MODELS",
    "LIST_PREDICTIONS",
    "MODEL_READS",
    "SCENARIOS",
    "WEBHOOK_SECRET",
    "Clock",
    "DropOnCreate",
    "Engine",
    "HostedModel",
    "InvalidField",
    "LoopbackServer",
    "Problem",
    "RecordStatus",
    "RenderJob",
    "RenderPool",
    "RenderResult",
    "Renderer",
    "Route",
    "ScaledClock",
    "Scenario",
    "Script",
    "WebhookScript",
    "make_scenario",
    "real_renderer",
    "render_talking_face",
    "validate_input",
]
