"""The package's public surface is exactly what `__all__` names, as the contract lists it."""

from __future__ import annotations

import demo_app.replicate as replicate

CONTRACT = {
    "Status", "TERMINAL_STATUSES", "Prediction", "PredictionUrls", "pick_video", "Progress", "parse_progress",
    "FileObject", "ReplicateClient", "RetryPolicy", "ReplicateError", "TransportError", "ConnectFailed",
    "TimedOut", "ConnectionDropped", "APIError", "Unauthorized", "NotFound", "InvalidInput", "RateLimited",
    "ServerError", "PayloadTooLarge", "CreateOutcomeUnknown", "OutputTooLarge", "OutputUnavailable",
}  # fmt: skip


def test_all_names_exist_and_cover_the_contract() -> None:
    assert len(replicate.__all__) == len(set(replicate.__all__))
    for name in replicate.__all__:
        assert hasattr(replicate, name), name
    assert set(replicate.__all__) >= CONTRACT


def test_public_objects_live_in_private_modules_or_errors() -> None:
    for name in replicate.__all__:
        module = getattr(getattr(replicate, name), "__module__", "demo_app.replicate._")
        assert module.startswith(("demo_app.replicate._", "demo_app.replicate.errors")), (name, module)
