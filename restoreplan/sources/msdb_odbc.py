"""Live msdb over ODBC (pyodbc, optional extra ``odbc``): one server, or an inventory of many.

Read-only by construction: SELECT statements only, autocommit off and one read transaction
(``SET TRANSACTION READ ONLY`` where the DBMS has it, the ODBC read-only access mode where the
driver honours it). Columns are discovered through the ODBC catalog, so older servers simply
yield fewer optional columns. LSNs travel as text and become exact ints; a float LSN is refused.
Passwords never appear in a message: every error goes through ``mask_connection_string``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import DatabaseFile, LogMark, RestoreEvent
from restoreplan.sources import values as v
from restoreplan.sources.canonical import SetBuilder, check_header
from restoreplan.sources.msdb_query import (
    TABLES,
    build_backupfile_query,
    build_logmark_query,
    build_query,
    build_restorehistory_query,
    dialect_for_dbms,
)
from restoreplan.sources.odbc_cells import convert, exact_lsn
from restoreplan.sources.restores import restore_events
from restoreplan.sources.rowplan import RowPlan

ENV_UID = "RESTOREPLAN_MSDB_UID"
ENV_PWD = "RESTOREPLAN_MSDB_PWD"

_SECRET_KEYS = ("pwd", "password")
_SECRET_RE = re.compile(
    r"(?i)(?P<key>(?:^|;)\s*(?:pwd|password)\s*=\s*)"
    r"(?P<val>\{(?:[^}]|\}\})*\}?[^;]*"  # {braced; value}, and anything before the next ;
    r"|\"(?:[^\"]|\"\")*\"?[^;]*|'(?:[^']|'')*'?[^;]*"  # "quoted" / 'quoted' (SqlClient style)
    r"|[^;]*)"
)
_ODBC_PREFIX = re.compile(r"^(\[[^\]]*\])+\s*")
_SQL_ATTR_ACCESS_MODE = 101
_SQL_MODE_READ_ONLY = 1
_HINT_PERMS = "the login needs db_datareader on msdb (or SELECT on the backup history tables)"

Progress = Callable[[int, int, str, bool], None]
"""Inventory progress: (servers done, servers total, masked server, succeeded)."""


@dataclass(frozen=True, slots=True)
class MsdbResult:
    """What one msdb yields: canonical rows and the side tables."""

    rows: list[dict[str, Any]]
    database_files: dict[str, list[DatabaseFile]]
    marks: list[LogMark]
    server: str
    restores: list[RestoreEvent] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    dialect: str = "tsql"


@dataclass(frozen=True, slots=True)
class InventoryResult:
    """Results of every server that answered, in inventory order, and the ones that did not."""

    results: list[MsdbResult]
    failures: list[tuple[str, str]] = field(default_factory=list)


# -- connection strings -------------------------------------------------------------------------


def mask_connection_string(s: str) -> str:
    """Replace the value of every PWD=/Password= attribute with ``***``."""
    return _SECRET_RE.sub(lambda m: m.group("key") + "***", s)


def _attributes(s: str) -> dict[str, str]:
    """Parse ``key=value;key={va;lue}`` into a lower-cased dict (last one wins)."""
    out: dict[str, str] = {}
    i, n = 0, len(s)
    while i < n:
        eq = s.find("=", i)
        if eq < 0:
            break
        key = s[i:eq].strip().lower().lstrip(";").strip()
        j = eq + 1
        while j < n and s[j] == " ":
            j += 1
        if j < n and s[j] == "{":
            k = j + 1
            buf = []
            while k < n:
                if s[k] == "}":
                    if k + 1 < n and s[k + 1] == "}":
                        buf.append("}")
                        k += 2
                        continue
                    break
                buf.append(s[k])
                k += 1
            value = "".join(buf)
            semi = s.find(";", k)
            i = n if semi < 0 else semi + 1
        else:
            semi = s.find(";", j)
            value = s[j:] if semi < 0 else s[j:semi]
            i = n if semi < 0 else semi + 1
        if key:
            out[key] = value.strip()
    return out


def _brace(value: str) -> str:
    return "{" + value.replace("}", "}}") + "}"


def normalize_connection(line: str) -> str:
    """A bare name (no ``=``) is a DSN; anything else is a connection string as given."""
    s = line.strip()
    return s if "=" in s else f"DSN={s}"


def with_env_credentials(s: str, env: dict[str, str] | None = None) -> str:
    """Append UID/PWD from RESTOREPLAN_MSDB_UID/_PWD when the string has none (never logged)."""
    env = dict(os.environ) if env is None else env
    attrs = _attributes(s)
    if attrs.get("trusted_connection", "").lower() in ("yes", "true"):
        return s
    extra = []
    uid, pwd = env.get(ENV_UID), env.get(ENV_PWD)
    if uid and "uid" not in attrs and "user id" not in attrs and "user" not in attrs:
        extra.append(f"UID={_brace(uid)}")
    if pwd and not any(k in attrs for k in _SECRET_KEYS):
        extra.append(f"PWD={_brace(pwd)}")
    if not extra:
        return s
    return s.rstrip().rstrip(";") + ";" + ";".join(extra)


def describe_connection(s: str) -> str:
    """A short description without credentials: DSN, server and database."""
    attrs = _attributes(s)
    parts = []
    for key in ("dsn", "server", "servername", "host", "address", "port", "database"):
        if attrs.get(key):
            parts.append(f"{key.capitalize() if key != 'dsn' else 'DSN'}={attrs[key]}")
    if not parts:
        return mask_connection_string(s)
    return ";".join(parts)


def _scrub(message: str, connection: str) -> str:
    """One line, no password (masked form and the raw secret both removed)."""
    text = " ".join(str(message).split())
    text = _ODBC_PREFIX.sub("", text)
    text = mask_connection_string(text)
    attrs = _attributes(connection)
    for key in _SECRET_KEYS:
        secret = attrs.get(key)
        if secret:
            text = text.replace(secret, "***")
    env_pwd = os.environ.get(ENV_PWD)
    if env_pwd:
        text = text.replace(env_pwd, "***")
    return text


def _pyodbc() -> Any:
    try:
        import pyodbc
    except ImportError:
        raise InputError(
            "reading msdb needs the pyodbc package, which is not installed",
            hint="pip install 'restoreplan[odbc]' and an ODBC driver (Microsoft ODBC Driver 18 for SQL Server)",
        ) from None
    return pyodbc


# -- the reader ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Session:
    conn: Any
    dialect: str
    schema: str | None
    catalog: str | None
    server: str
    connection: str
    fetch_size: int
    available: dict[str, set[str]] = field(default_factory=dict)

    def fail(self, what: str, exc: Exception) -> InputError:
        return InputError(
            f"{self.server}: {what}: {_scrub(str(exc), self.connection)}", hint=_HINT_PERMS
        )


def _discover(session: _Session, pyodbc: Any, schema: str | None) -> None:
    """Find the tables' columns through the ODBC catalog; fall back to unqualified (SQLite)."""
    cur = session.conn.cursor()
    try:
        for table in (*TABLES.values(), "backupfile", "logmarkhistory", "restorehistory"):
            rows = cur.columns(table=table, schema=schema).fetchall() if schema else []
            if not rows:
                rows = cur.columns(table=table).fetchall()
            if rows:
                found = {getattr(r, "table_schem", None) or None for r in rows}
                if found == {None}:
                    session.schema = None  # no schemas here (SQLite): unqualified names
                elif schema not in found and len(found) == 1:
                    session.schema = found.pop()
                session.available[table] = {str(r.column_name).lower() for r in rows}
    except pyodbc.Error as exc:
        raise session.fail("cannot read the catalog", exc) from None
    finally:
        cur.close()
    missing = [t for t in TABLES.values() if t not in session.available]
    if missing:
        raise InputError(
            f"{session.server}: no msdb table(s) {', '.join(missing)} visible",
            hint="connect to msdb (Database=msdb); " + _HINT_PERMS,
        )


def _stream(
    session: _Session, pyodbc: Any, sql: str, params: list[Any], what: str
) -> Iterator[tuple[list[str], Any]]:
    """Yield (column names, row) with fetchmany(fetch_size)."""
    for names, batch in _batches(session, pyodbc, sql, params, what):
        for row in batch:
            yield names, row


def _batches(
    session: _Session, pyodbc: Any, sql: str, params: list[Any], what: str
) -> Iterator[tuple[list[str], list[Any]]]:
    """Yield (column names, rows) a fetchmany(fetch_size) at a time."""
    cur = session.conn.cursor()
    try:
        try:
            cur.execute(sql, params)
        except pyodbc.Error as exc:
            raise session.fail(f"cannot read {what}", exc) from None
        names = [d[0].lower() for d in cur.description]
        while True:
            try:
                batch = cur.fetchmany(session.fetch_size)
            except pyodbc.Error as exc:
                raise session.fail(f"cannot read {what}", exc) from None
            if not batch:
                break
            yield names, batch
    finally:
        cur.close()


def _connect(connection: str, timeout: int, pyodbc: Any, server: str) -> Any:
    try:
        conn = pyodbc.connect(connection, autocommit=False, timeout=timeout)
    except pyodbc.Error as exc:
        raise InputError(
            f"{server}: cannot connect: {_scrub(str(exc), connection)}",
            hint="check the server, the driver name and the login (RESTOREPLAN_MSDB_UID/_PWD)",
        ) from None
    try:
        conn.setattr(_SQL_ATTR_ACCESS_MODE, _SQL_MODE_READ_ONLY)
    except (pyodbc.Error, AttributeError):
        pass  # the driver does not take the hint; we only SELECT anyway
    return conn


def _begin_read_only(session: _Session, pyodbc: Any) -> None:
    if session.dialect not in ("postgresql",):
        return
    cur = session.conn.cursor()
    try:
        cur.execute("SET TRANSACTION READ ONLY")
    except pyodbc.Error:
        pass
    finally:
        cur.close()


@contextmanager
def open_msdb(
    connection: str, *, timeout: int = 15, schema: str | None = "dbo", fetch_size: int = 10000
) -> Iterator[_Session]:
    """Connect read-only (autocommit off, one read transaction), discover msdb's columns; roll back at the end."""
    pyodbc = _pyodbc()
    connection = with_env_credentials(normalize_connection(connection))
    server = describe_connection(connection)
    conn = _connect(connection, timeout, pyodbc, server)
    try:
        try:
            dbms = str(conn.getinfo(pyodbc.SQL_DBMS_NAME))
        except pyodbc.Error:
            dbms = ""
        session = _Session(
            conn, dialect_for_dbms(dbms), schema, None, server, connection, max(1, fetch_size)
        )
        _begin_read_only(session, pyodbc)
        if session.dialect == "tsql":
            _use_msdb(session, pyodbc)
        _discover(session, pyodbc, schema)
        yield session
    finally:
        try:
            conn.rollback()  # nothing was written; end the read transaction
        except pyodbc.Error:
            pass
        conn.close()


def read_msdb(
    connection: str,
    *,
    database: str | None = None,
    since: datetime | None = None,
    server_name: str | None = None,
    fetch_size: int = 10000,
    timeout: int = 15,
    schema: str | None = "dbo",
    into: SetBuilder | None = None,
) -> MsdbResult:
    """Read backup history from one msdb. Any failure is an InputError with the password masked.

    ``connection`` is an ODBC connection string or a DSN name. ``timeout`` is the login timeout
    in seconds. ``database``/``since``/``server_name`` filter on backupset.database_name,
    backup_finish_date (server-local) and server_name. With ``into``, the history rows go
    into that builder a fetched batch at a time (as "msdb on SERVER") and ``rows`` stays
    empty, so a history of millions of rows is never held twice.
    """
    with open_msdb(connection, timeout=timeout, schema=schema, fetch_size=fetch_size) as session:
        return _read_all(
            session, _pyodbc(), database=database, since=since, server_name=server_name, into=into
        )


def _use_msdb(session: _Session, pyodbc: Any) -> None:
    """SQL Server's catalog functions only see the current database: make it msdb."""
    cur = session.conn.cursor()
    try:
        current = cur.execute("SELECT DB_NAME()").fetchone()[0]
        if str(current).lower() != "msdb":
            cur.execute("USE msdb")
    except pyodbc.Error as exc:
        raise session.fail("cannot open msdb", exc) from None
    finally:
        cur.close()


def _read_all(
    session: _Session,
    pyodbc: Any,
    *,
    database: str | None,
    since: datetime | None,
    server_name: str | None,
    into: SetBuilder | None = None,
) -> MsdbResult:
    common: dict[str, Any] = {
        "schema": session.schema,
        "dialect": session.dialect,
        "database": database,
    }
    sql, params = build_query(session.available, since=since, server_name=server_name, **common)
    rows: list[dict[str, Any]] = []
    columns: list[str] = []
    plan: RowPlan | None = None
    row_no = 1
    for names, batch in _batches(session, pyodbc, sql, params, "backupset"):
        columns = names
        cells = convert(names, batch, session.server, row_no)
        if into is None:
            rows.extend(dict(zip(names, row, strict=True)) for row in cells)
        else:
            origin = f"msdb on {session.server}"
            if plan is None:
                check_header(names, origin)
                plan = into.plan(names, typed=True)
            into.add_chunk(plan, cells, origin, range(row_no, row_no + len(cells)))
        row_no += len(cells)

    files: dict[str, list[DatabaseFile]] = {}
    unnamed: set[str] = set()  # sets with a file of no logical or physical name
    if "backupfile" in session.available:
        sql, params = build_backupfile_query(
            session.available, since=since, server_name=server_name, **common
        )
        for row_no, (_, row) in enumerate(
            _stream(session, pyodbc, sql, params, "backupfile"), start=1
        ):
            where = f"{session.server} msdb.backupfile, row {row_no}"
            try:
                set_uuid = v.parse_guid(row[0])
            except v.ValueProblem as exc:
                raise InputError(f"{where}, column backup_set_uuid: {exc}") from None
            if set_uuid is None:
                continue  # a backupfile row no backup set of ours owns: nothing to attach it to
            if row[1] is None or row[2] is None:  # nullable in msdb: a file MOVE cannot name
                unnamed.add(set_uuid)
                continue
            file_type = (str(row[3]).strip() or "D") if row[3] is not None else "D"
            files.setdefault(set_uuid, []).append(DatabaseFile(str(row[1]), str(row[2]), file_type))
        for set_uuid in unnamed:  # a partial MOVE list would leave that file where it was
            files.pop(set_uuid, None)

    marks: list[LogMark] = []
    if "logmarkhistory" in session.available:
        sql, params = build_logmark_query(session.available, since=since, **common)
        for row_no, (_, row) in enumerate(
            _stream(session, pyodbc, sql, params, "logmarkhistory"), start=1
        ):
            where = f"{session.server} msdb.logmarkhistory, row {row_no}"
            lsn = exact_lsn(row[3], f"{where}, column lsn")
            try:
                mark_time = v.parse_datetime(row[4])
            except v.ValueProblem as exc:
                raise InputError(f"{where}, column mark_time: {exc}") from None
            nulls = [c for c, x in (("database_name", row[0]), ("mark_name", row[1]), ("lsn", lsn),
                                    ("mark_time", mark_time)) if x is None]
            if nulls:  # NOT NULL in msdb: a damaged copy, not a mark to skip
                raise InputError(f"{where}: {', '.join(nulls)} missing (every mark needs all four)")
            assert lsn is not None and mark_time is not None
            marks.append(LogMark(str(row[0]), str(row[1]), LSN(lsn), mark_time, row[2]))

    restores: list[RestoreEvent] = []
    if "restorehistory" in session.available:
        sql, params = build_restorehistory_query(session.available, **common)
        # one row per database: read them all before parsing, so that a refused row leaves no
        # cursor open behind the error
        records = [dict(zip(names, row, strict=True)) for names, row in
                   _stream(session, pyodbc, sql, params, "restorehistory")]
        restores = restore_events(records, f"{session.server} msdb.restorehistory", first_row=1)

    return MsdbResult(
        rows=rows,
        database_files=files,
        marks=marks,
        restores=restores,
        server=session.server,
        columns=tuple(columns),
        dialect=session.dialect,
    )


# -- many servers ----------------------------------------------------------------------------------


def read_inventory_lines(path: str | Path) -> list[str]:
    """Connection strings or DSNs, one a line; blank lines and ``#`` comments skipped."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{p}: cannot read the inventory: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text ({exc.reason})") from None
    lines = []
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            lines.append(normalize_connection(s))
    if not lines:
        raise InputError(
            f"{p}: the inventory lists no server", hint="one connection string or DSN a line"
        )
    return lines


def read_inventory(
    path: str | Path,
    *,
    jobs: int,
    database: str | None = None,
    since: datetime | None = None,
    server_name: str | None = None,
    fetch_size: int = 10000,
    timeout: int = 15,
    progress: Progress | None = None,
) -> InventoryResult:
    """Read every server of an inventory with at most ``jobs`` at once.

    A server that fails (timeout, login, permission, bad data) becomes a (masked server,
    message) entry in ``failures``; the others go on.
    """
    _pyodbc()  # a missing pyodbc is one error for the whole run, not one per server
    lines = read_inventory_lines(path)
    total = len(lines)
    results: dict[int, MsdbResult] = {}
    failures: dict[int, tuple[str, str]] = {}

    def one(cs: str) -> MsdbResult:
        return read_msdb(
            cs,
            database=database,
            since=since,
            server_name=server_name,
            fetch_size=fetch_size,
            timeout=timeout,
        )

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="msdb") as pool:
        futures = {pool.submit(one, cs): i for i, cs in enumerate(lines)}
        for fut in as_completed(futures):
            i = futures[fut]
            server = describe_connection(with_env_credentials(lines[i]))
            try:
                results[i] = fut.result()
                ok = True
            except InputError as exc:
                failures[i] = (server, exc.one_line())
                ok = False
            except Exception as exc:  # a driver crash must not lose the other servers
                failures[i] = (server, _scrub(f"{type(exc).__name__}: {exc}", lines[i]))
                ok = False
            done += 1
            if progress is not None:
                progress(done, total, server, ok)
    return InventoryResult(
        results=[results[i] for i in sorted(results)],
        failures=[failures[i] for i in sorted(failures)],
    )
