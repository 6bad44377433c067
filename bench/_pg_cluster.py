"""A throw-away PostgreSQL cluster from the server's own programs, for the benchmarks and the tests.

`Cluster().start()` makes one with `initdb` in a temp directory and starts it with `pg_ctl`,
listening only on a unix socket in that directory (no port to collide with), fsync off unless
asked; as the `postgres` OS user when run as root (PostgreSQL refuses root). It holds a migrated
template database that `new_database()` copies; `stop()` stops it and removes the directory.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from demo_app.database import Database

TEMPLATE = "lipsync_template"
USER = "lipsync"
MISSING = (
    "PostgreSQL's server programs (initdb, pg_ctl) are not installed: run `bash tests/run.sh`, "
    "which installs Debian's postgresql package, or set LIPSYNC_PG_BIN to their folder."
)


def server_bin() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`: LIPSYNC_PG_BIN, Debian's newest, or the PATH's."""
    if os.environ.get("LIPSYNC_PG_BIN"):
        return Path(os.environ["LIPSYNC_PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class Cluster:
    """One running PostgreSQL server in a temp directory; databases are made from its template."""

    def __init__(self, *, fsync: bool = False) -> None:
        bin_dir = server_bin()
        if bin_dir is None or not (bin_dir / "pg_ctl").exists():
            raise RuntimeError(MISSING)
        self._bin = bin_dir
        self._fsync = fsync
        self.dir = Path(tempfile.mkdtemp(prefix="lipsync-pg-"))
        self._as_server = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._names = itertools.count(1)
        self._started = False

    def start(self) -> Cluster:
        """initdb, start, and make the migrated template database."""
        data = self.dir / "data"
        if self._as_server:
            shutil.chown(self.dir, "postgres", "postgres")
        init = ["-U", USER, "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale"]
        self._server("initdb", "-D", str(data), *init)
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.dir}' -c max_connections=200"
        if not self._fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log = str(self.dir / "server.log")
        self._server("pg_ctl", "-D", str(data), "-l", log, "-w", "-o", options, "start")
        self._started = True
        try:
            self.admin(f"CREATE DATABASE {TEMPLATE}")
            asyncio.run(_migrate(self.url(TEMPLATE)))  # outside any event loop: call start() first
        except BaseException:
            self.stop()
            raise
        return self

    def url(self, dbname: str) -> str:
        """The URL of database `dbname` over the cluster's socket (as LIPSYNC_DATABASE_URL takes it)."""
        return f"postgresql://{USER}@/{dbname}?host={self.dir}"

    def new_database(self) -> str:
        """A fresh, migrated database; its URL."""
        name = f"test_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop the database of `url` (closing its connections first)."""
        name = urlsplit(url).path.lstrip("/")
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def admin(self, statement: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(statement.encode())

    def stop(self) -> None:
        """Stop the server at once and remove its directory."""
        if self._started:
            self._server("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _server(self, program: str, *args: str) -> None:
        command = [*self._as_server, str(self._bin / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.dir, check=False)
        if done.returncode != 0:
            said = done.stderr.strip() or done.stdout.strip()
            raise RuntimeError(f"{program} failed ({done.returncode}): {said}")


async def _migrate(url: str) -> None:
    database = await Database.open(url)
    await database.aclose()
