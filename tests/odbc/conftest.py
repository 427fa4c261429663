"""A real PostgreSQL 15 (Debian binaries) and a real SQLite file, both read through real ODBC drivers.

The PostgreSQL server is initdb'd into a temp dir, listens on 127.0.0.1 on a free port with its
unix socket in the temp dir, runs as the unprivileged ``nobody`` user when the tests run as root,
and is stopped at the end of the session. Everything is skipped, with the reason, when the
binaries, the drivers or pyodbc are missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .history import History, create_statements, make_history

PG_BIN = Path(os.environ.get("RESTOREPLAN_PG_BIN", "/usr/lib/postgresql/15/bin"))
ODBC_DIR = Path("/usr/lib/x86_64-linux-gnu/odbc")
PG_DRIVER = ODBC_DIR / "psqlodbcw.so"
SQLITE_DRIVER = ODBC_DIR / "libsqlite3odbc.so"
PG_PASSWORD = "s3cret;pa}ss"  # a ';' and a '}' to exercise quoting and masking
READER_PASSWORD = "reader-pw-42"
NOPERM_PASSWORD = "noperm-pw-43"


@dataclass(frozen=True)
class PgServer:
    port: int
    history: History

    def connection(
        self, user: str = "postgres", password: str | None = PG_PASSWORD, database: str = "msdb"
    ) -> str:
        cs = f"Driver={PG_DRIVER};Server=127.0.0.1;Port={self.port};Database={database};UID={user}"
        if password is not None:
            cs += ";PWD={" + password.replace("}", "}}") + "}"
        return cs


def _pyodbc_or_skip() -> Any:
    try:
        import pyodbc
    except ImportError:
        pytest.skip("pyodbc is not installed (pip install pyodbc; apt-get install unixodbc)")
    return pyodbc


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as nobody through runuser."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and runuser is missing: cannot start PostgreSQL unprivileged")
    return [runuser, "-u", "nobody", "--"]


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
        )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """PostgreSQL with msdb-shaped tables in database msdb, schema dbo (and an older shape in ``old``)."""
    pyodbc = _pyodbc_or_skip()
    for binary in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / binary).exists():
            pytest.skip(
                f"PostgreSQL 15 binaries not found at {PG_BIN} (apt-get install postgresql)"
            )
    if not PG_DRIVER.exists():
        pytest.skip(
            f"PostgreSQL ODBC driver not found at {PG_DRIVER} (apt-get install odbc-postgresql)"
        )
    prefix = _as_user()
    tmp = Path(tempfile.mkdtemp(prefix="restoreplan-pg-"))
    data, sock, log = tmp / "data", tmp / "sock", tmp / "server.log"
    sock.mkdir()
    pwfile = tmp / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if prefix:
        for p in (tmp, sock, pwfile):
            shutil.chown(p, user="nobody")
    port = _free_port()
    started = False
    try:
        _run(
            [*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
             "--no-sync", "--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={pwfile}",
             "--locale=C"],
            "initdb",
        )  # fmt: skip
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=30"
        )
        _run(
            [
                *prefix,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "30",
                "-o",
                opts,
                "start",
            ],
            "pg_ctl start",
        )
        started = True
        history = make_history()
        server = PgServer(port, history)
        conn = _connect_retry(pyodbc, server.connection(database="postgres"))
        conn.execute("CREATE DATABASE msdb")
        conn.close()
        conn = _connect_retry(pyodbc, server.connection())
        for stmt in (
            "CREATE SCHEMA dbo",
            "CREATE SCHEMA old",
            *create_statements(history, "postgresql", "dbo"),
            # an older server: msdb before 2008/2012/2022 lacks these columns
            *create_statements(
                history,
                "postgresql",
                "old",
                {
                    "backupset": {
                        "compressed_backup_size",
                        "key_algorithm",
                        "encryptor_thumbprint",
                        "encryptor_type",
                        "last_valid_restore_time",
                        "family_guid",
                    },
                    "backupmediaset": {"is_compressed", "mirror_count"},
                },
            ),  # fmt: skip
            f"CREATE ROLE reader LOGIN PASSWORD '{READER_PASSWORD}'",
            "GRANT USAGE ON SCHEMA dbo TO reader",
            "GRANT SELECT ON ALL TABLES IN SCHEMA dbo TO reader",
            f"CREATE ROLE noperm LOGIN PASSWORD '{NOPERM_PASSWORD}'",
            "GRANT USAGE ON SCHEMA dbo TO noperm",
            "GRANT SELECT ON dbo.backupmediaset TO noperm",
        ):
            conn.execute(stmt)
        conn.close()
        yield server
    finally:
        if started:
            subprocess.run(
                [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)


def _connect_retry(pyodbc: Any, cs: str) -> Any:
    last: Exception | None = None
    for _ in range(50):
        try:
            return pyodbc.connect(cs, autocommit=True, timeout=5)
        except pyodbc.Error as exc:
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"cannot connect to the test PostgreSQL: {last}")


@pytest.fixture(scope="session")
def sqlite_msdb(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, History]:
    """A SQLite file with unqualified msdb tables and LSNs stored as TEXT; its ODBC connection string."""
    _pyodbc_or_skip()
    if not SQLITE_DRIVER.exists():
        pytest.skip(
            f"SQLite ODBC driver not found at {SQLITE_DRIVER} (apt-get install libsqliteodbc)"
        )
    history = make_history()
    path = tmp_path_factory.mktemp("sqlite") / "msdb.sqlite"
    con = sqlite3.connect(path)
    for stmt in create_statements(history, "sqlite", None):
        con.execute(stmt)
    con.commit()
    con.close()
    return f"Driver={SQLITE_DRIVER};Database={path}", history
