"""The owner's desk: admins (by Hugging Face sign-in or the admin key), their operations, routes and CLI.

`AdminAccess` decides who is an admin; `AdminDesk` holds the operations (spend, running jobs,
cancel, failures, a visitor's statement, grant and take); `admin_routes` serves them beside the
app for `python -m demo_app.admin`, which talks to the running app because the ledger admits one
process at a time.

The names are loaded on first use: `python -m demo_app.admin` imports this package, and the
command needs none of the services (importing them costs seconds on a busy machine).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from demo_app.admin._access import Admin, AdminAccess, NotAnAdmin, admin_name
    from demo_app.admin._desk import MAX_CREDITS_PER_CHANGE, AdminDesk, DeskRefused
    from demo_app.admin._http import PREFIX
    from demo_app.admin._routes import admin_routes

_HOMES = {
    "Admin": "_access",
    "AdminAccess": "_access",
    "NotAnAdmin": "_access",
    "admin_name": "_access",
    "MAX_CREDITS_PER_CHANGE": "_desk",
    "AdminDesk": "_desk",
    "DeskRefused": "_desk",
    "PREFIX": "_http",
    "admin_routes": "_routes",
}

__all__ = [
    "MAX_CREDITS_PER_CHANGE",
    "PREFIX",
    "Admin",
    "AdminAccess",
    "AdminDesk",
    "DeskRefused",
    "NotAnAdmin",
    "admin_name",
    "admin_routes",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
