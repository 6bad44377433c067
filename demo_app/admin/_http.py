"""Where the admin routes live and how a change names its admin: shared by the routes and the CLI."""

PREFIX = "/admin/api"
NAME_HEADER = "x-admin-name"
