"""The built-in engine: a Replicate-compatible HTTP server that renders talking faces.

Used in-process (`Engine.transport()`) as the offline default and by the tests, or standalone
with `python -m demo_app.engine --port N`. See `app` for the request path, `scenarios` for the
scripted behaviours, `clock` for the fast clock, `render_pool` for how renders run.
"""

from demo_app.engine.app import Engine
from demo_app.engine.clock import Clock, ScaledClock
from demo_app.engine.drop import ConnectionDropped
from demo_app.engine.models import MODELS, ModelDef
from demo_app.engine.predictions import Status
from demo_app.engine.render_pool import Renderer, RenderPool, RenderResult
from demo_app.engine.scenarios import SCENARIOS, Scenario, Script, make_scenario

__all__ = [
    "MODELS",
    "SCENARIOS",
    "Clock",
    "ConnectionDropped",
    "Engine",
    "ModelDef",
    "RenderPool",
    "RenderResult",
    "Renderer",
    "ScaledClock",
    "Scenario",
    "Script",
    "Status",
    "make_scenario",
]
