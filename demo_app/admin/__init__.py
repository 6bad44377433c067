"""The owner's desk: admins (by Hugging Face sign-in or the admin key), their operations, routes and CLI.

`AdminAccess` decides who is an admin; `AdminDesk` holds the operations (spend, running jobs,
cancel, failures, a visitor's statement, grant and take); `admin_routes` serves them beside the
app for `python -m demo_app.admin`, which talks to the running app because the ledger admits one
process at a time.
"""

from demo_app.admin._access import Admin, AdminAccess, NotAnAdmin, admin_name
from demo_app.admin._desk import MAX_CREDITS_PER_CHANGE, AdminDesk, DeskRefused
from demo_app.admin._routes import PREFIX, admin_routes

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
