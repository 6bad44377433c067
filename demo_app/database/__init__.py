"""PostgreSQL, the second storage engine: one pool per process, a schema migrated at start.

Chosen by `LIPSYNC_DATABASE_URL` (`postgresql://…`); unset, the ledger and the job store stay
on TinyDB files in the data directory. `Database.open(url)` checks the URL, opens an async
connection pool (psycopg 3) and applies the versioned migrations of `_schema` under an
advisory lock, so two replicas starting together migrate once. The URL's password never
reaches a log line or an error text: places are named by `describe_url`.
"""

from demo_app.database._database import Database, DatabaseUnavailable
from demo_app.database._migrate import SchemaTooNew, migrate
from demo_app.database._schema import MIGRATIONS, Migration
from demo_app.database._secrets import shared_secret
from demo_app.database._url import check_database_url, describe_url

__all__ = [
    "MIGRATIONS",
    "Database",
    "DatabaseUnavailable",
    "Migration",
    "SchemaTooNew",
    "check_database_url",
    "describe_url",
    "migrate",
    "shared_secret",
]
