"""The msdb history queries: backupset ⨝ backupmediafamily ⨝ backupmediaset, and friends.

Every query is a plain SELECT with ``?`` parameters (pyodbc's paramstyle). Columns that an older
server lacks (by catalog discovery, or by ``min_version`` for the printed export query) are left
out. LSNs are selected as text so that they arrive exact, whatever the driver does with
numeric(25,0).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from restoreplan.core.errors import InputError
from restoreplan.sources.columns import OPTIONAL, REQUIRED

Dialect = Literal["tsql", "postgresql", "sqlite", "ansi"]
DIALECTS: tuple[str, ...] = ("tsql", "postgresql", "sqlite", "ansi")

TABLES: dict[str, str] = {"bs": "backupset", "bmf": "backupmediafamily", "bms": "backupmediaset"}

LSN_COLUMNS: frozenset[str] = frozenset(
    {
        "first_lsn",
        "last_lsn",
        "checkpoint_lsn",
        "database_backup_lsn",
        "differential_base_lsn",
        "fork_point_lsn",
    }
)

# numeric(20,0) byte counts: also selected as text (some drivers bind 64-bit values as 32-bit)
SIZE_COLUMNS: frozenset[str] = frozenset({"backup_size", "compressed_backup_size"})

# alias and version that added each canonical column (None = every supported version)
_COLUMN_SOURCE: dict[str, tuple[str, int | None]] = {
    **{name: ("bmf" if name == "physical_device_name" else "bs", None) for name in REQUIRED},
    **{name: (alias, version) for name, alias, version in OPTIONAL},
}

BACKUPFILE_COLUMNS: tuple[str, ...] = (
    "backup_set_uuid",
    "logical_name",
    "physical_name",
    "file_type",
)
LOGMARK_COLUMNS: tuple[str, ...] = ("database_name", "mark_name", "description", "lsn", "mark_time")

_ORDER = (
    ("bs", "database_name"),
    ("bs", "backup_set_id"),
    ("bmf", "family_sequence_number"),
    ("bmf", "mirror"),
)

Params = list[Any]


def dialect_for_dbms(dbms_name: str) -> Dialect:
    """Choose the SQL dialect from ODBC's SQL_DBMS_NAME (``conn.getinfo(pyodbc.SQL_DBMS_NAME)``)."""
    name = dbms_name.lower()
    if "sql server" in name or "sybase" in name or "adaptive server" in name:
        return "tsql"
    if "postgres" in name:
        return "postgresql"
    if "sqlite" in name:
        return "sqlite"
    return "ansi"


def table_name(table: str, schema: str | None, catalog: str | None = None) -> str:
    """``catalog.schema.table`` with the parts that apply (SQLite has neither)."""
    return ".".join(p for p in (catalog, schema, table) if p)


def _lsn_expr(expr: str, dialect: str) -> str:
    # numeric(25,0) -> text: exact on every driver (a float would lose digits past 15-17)
    if dialect == "sqlite":
        return f"CAST({expr} AS TEXT)"
    return f"CAST({expr} AS varchar(25))"


def _expr(column: str, alias: str, dialect: str) -> str:
    ref = f"{alias}.{column}"
    if column in LSN_COLUMNS or column in SIZE_COLUMNS:
        return f"{_lsn_expr(ref, dialect)} AS {column}"
    if column == "encryptor_thumbprint" and dialect == "tsql":
        return f"CONVERT(varchar(42), {ref}, 1) AS {column}"  # varbinary -> '0x...'
    return ref


def _has(available: Mapping[str, set[str]] | None, alias: str, column: str) -> bool:
    if available is None:
        return True
    return column.lower() in {c.lower() for c in available.get(TABLES.get(alias, alias), set())}


def select_columns(
    available: Mapping[str, set[str]] | None, min_version: int | None = None
) -> list[tuple[str, str]]:
    """(canonical column, alias) pairs to select; raise when a required column is missing."""
    out: list[tuple[str, str]] = []
    missing: list[str] = []
    for name, (alias, version) in _COLUMN_SOURCE.items():
        if min_version is not None and version is not None and version > min_version:
            continue
        if _has(available, alias, name):
            out.append((name, alias))
        elif name in REQUIRED:
            missing.append(f"{TABLES[alias]}.{name}")
    if missing:
        raise InputError(
            f"msdb lacks required column(s) {', '.join(missing)}",
            hint="is this really msdb (connect with Database=msdb), and may the login read it?",
        )
    return out


def _param_time(since: datetime, dialect: str) -> Any:
    # SQLite stores dates as text; compare like with like
    return since.isoformat(sep=" ") if dialect == "sqlite" else since


def _filters(
    *,
    database: str | None,
    since: datetime | None,
    server_name: str | None,
    dialect: str,
    time_column: str = "bs.backup_finish_date",
    database_column: str = "bs.database_name",
    lineage_of: str | None = None,
    names_in: str | None = None,
) -> tuple[str, Params]:
    """``lineage_of``: the backupset table, when it has family_guid. ``--database`` then also
    keeps the rows of the lineages that ever carried the name (a renamed database's older
    backups, as the builder keeps them for history files); with ``names_in`` the rows whose
    database_name is any name those lineages carried (marks)."""
    where: list[str] = []
    params: Params = []
    if database is not None and lineage_of is not None:
        families = (
            f"SELECT n.family_guid FROM {lineage_of} n "
            "WHERE n.database_name = ? AND n.family_guid IS NOT NULL"
        )
        if names_in is None:
            where.append(f"({database_column} = ? OR bs.family_guid IN ({families}))")
        else:
            where.append(
                f"({database_column} = ? OR {database_column} IN (SELECT b.database_name "
                f"FROM {names_in} b WHERE b.family_guid IN ({families})))"
            )
        params += [database, database]
    elif database is not None:
        where.append(f"{database_column} = ?")
        params.append(database)
    if since is not None:
        where.append(f"{time_column} >= ?")
        params.append(_param_time(since, dialect))
    if server_name is not None:
        where.append("bs.server_name = ?")
        params.append(server_name)
    return ("WHERE " + "\n  AND ".join(where) + "\n") if where else "", params


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")


def build_query(
    available: Mapping[str, set[str]] | None,
    *,
    schema: str | None = "dbo",
    database: str | None = None,
    since: datetime | None = None,
    server_name: str | None = None,
    dialect: str = "tsql",
    catalog: str | None = None,
    min_version: int | None = None,
) -> tuple[str, Params]:
    """The history SELECT: one row per media file, canonical column names, ``?`` parameters.

    ``available`` maps table name -> existing column names (None = all, for ``export-query``).
    ``since`` filters on backup_finish_date (server-local), ``server_name`` on bs.server_name.
    """
    _check_dialect(dialect)
    cols = select_columns(available, min_version)
    select = ",\n  ".join(_expr(name, alias, dialect) for name, alias in cols)
    bs, bmf, bms = (table_name(TABLES[a], schema, catalog) for a in ("bs", "bmf", "bms"))
    where, params = _filters(
        database=database, since=since, server_name=server_name, dialect=dialect,
        lineage_of=bs if _has(available, "bs", "family_guid") else None,
    )
    order = ", ".join(f"{a}.{c}" for a, c in _ORDER if _has(available, a, c))
    sql = (
        f"SELECT\n  {select}\n"
        f"FROM {bs} bs\n"
        f"JOIN {bmf} bmf ON bmf.media_set_id = bs.media_set_id\n"
        f"JOIN {bms} bms ON bms.media_set_id = bs.media_set_id\n"
        f"{where}"
        f"ORDER BY {order}"
    )
    return sql, params


def build_backupfile_query(
    available: Mapping[str, set[str]] | None,
    *,
    schema: str | None = "dbo",
    database: str | None = None,
    since: datetime | None = None,
    server_name: str | None = None,
    dialect: str = "tsql",
    catalog: str | None = None,
) -> tuple[str, Params]:
    """backupfile rows (what MOVE needs) joined to their backup_set_uuid; dropped files left out."""
    _check_dialect(dialect)
    bs, bf = (table_name(t, schema, catalog) for t in ("backupset", "backupfile"))
    where, params = _filters(
        database=database, since=since, server_name=server_name, dialect=dialect,
        lineage_of=bs if _has(available, "bs", "family_guid") else None,
    )
    if _has(available, "backupfile", "state"):  # 8 = DROPPED (restore-rules A.4)
        where = (where + "  AND " if where else "WHERE ") + "(bf.state IS NULL OR bf.state <> 8)\n"
    order = (
        "bs.backup_set_id"
        if _has(available, "backupset", "backup_set_id")
        else "bs.backup_set_uuid"
    )
    if _has(available, "backupfile", "file_number"):
        order += ", bf.file_number"
    sql = (
        "SELECT\n  bs.backup_set_uuid,\n  bf.logical_name,\n  bf.physical_name,\n  bf.file_type\n"
        f"FROM {bf} bf\n"
        f"JOIN {bs} bs ON bs.backup_set_id = bf.backup_set_id\n"
        f"{where}"
        f"ORDER BY {order}"
    )
    return sql, params


def build_logmark_query(
    available: Mapping[str, set[str]] | None,
    *,
    schema: str | None = "dbo",
    database: str | None = None,
    since: datetime | None = None,
    dialect: str = "tsql",
    catalog: str | None = None,
) -> tuple[str, Params]:
    """logmarkhistory rows (STOPATMARK targets), LSN as text."""
    _check_dialect(dialect)
    lm = table_name("logmarkhistory", schema, catalog)
    bs = table_name("backupset", schema, catalog)
    description = (
        "lm.description"
        if _has(available, "logmarkhistory", "description")
        else "NULL AS description"
    )
    where, params = _filters(
        database=database,
        since=since,
        server_name=None,
        dialect=dialect,
        time_column="lm.mark_time",
        database_column="lm.database_name",
        lineage_of=bs if _has(available, "bs", "family_guid") else None,
        names_in=bs,
    )
    sql = (
        "SELECT\n  lm.database_name,\n  lm.mark_name,\n"
        f"  {description},\n  {_lsn_expr('lm.lsn', dialect)} AS lsn,\n  lm.mark_time\n"
        f"FROM {lm} lm\n"
        f"{where}"
        "ORDER BY lm.database_name, lm.mark_time"
    )
    return sql, params


def build_restorehistory_query(
    available: Mapping[str, set[str]] | None,
    *,
    schema: str | None = "dbo",
    dialect: str = "tsql",
    catalog: str | None = None,
    **_: Any,
) -> tuple[str, Params]:
    """The latest restore into each database (restorehistory; VERIFYONLY left out): one after a
    database's last backup refuses a plan through the tail (core/restores.py). One row per
    database, however long the history (a log-shipping secondary restores every few minutes)."""
    _check_dialect(dialect)
    rh = table_name("restorehistory", schema, catalog)
    optional = ", ".join(
        f"rh.{c}" if _has(available, "restorehistory", c) else f"NULL AS {c}" for c in ("recovery", "stop_at")
    )
    server = "@@SERVERNAME" if dialect == "tsql" else "NULL"  # backupset.server_name's form
    sql = (
        "SELECT\n  rh.destination_database_name,\n  rh.restore_date,\n  rh.restore_type,\n"
        f"  {optional},\n  {server} AS server_name\n"
        f"FROM {rh} rh\n"
        "WHERE rh.restore_history_id IN (\n"
        f"  SELECT MAX(r2.restore_history_id) FROM {rh} r2\n"
        "  WHERE r2.restore_type IS NULL OR r2.restore_type <> 'V'\n"
        "  GROUP BY r2.destination_database_name)\n"
        "ORDER BY rh.restore_date"
    )
    return sql, []


_EXPORT_HEADER_ONE = """\
-- restoreplan: backup history export{version_note}
-- Run against msdb with a login that has db_datareader on msdb. It only reads.
-- sqlcmd -S server -d msdb -E -s"," -W -i this.sql -o file.csv  (-E = Windows login; use -U login
-- and the SQLCMDPASSWORD variable for a SQL login). LSNs are selected as text so that Excel or a
-- driver cannot round them.
"""

_EXPORT_HEADER = """\
-- restoreplan: backup history export{version_note}
-- Run against msdb with a login that has db_datareader on msdb (or SELECT on backupset,
-- backupmediafamily, backupmediaset, backupfile, logmarkhistory and restorehistory). It only reads.
--
-- Save the result of each query as its own CSV file WITH its header row. sqlcmd writes every
-- result set of a script into one output file, so give it one query at a time:
--   restoreplan export-query --query history > history.sql
--   sqlcmd -S server -d msdb -E -s"," -W -i history.sql -o history.csv
--     (-E = Windows login; use -U login and the SQLCMDPASSWORD variable for a SQL login;
--      --query backupfile / marks / restores give the optional files the same way.)
--   SSMS: Tools > Options > Query Results > SQL Server > Results to Grid >
--     tick "Include column headers when copying or saving the results", run the query,
--     right-click the grid > "Save Results As..." > CSV.
-- Then: restoreplan plan --history history.csv ...
-- LSNs are selected as text so that Excel or a driver cannot round them.
"""


def _literal_filters(sql: str, params: Params) -> str:
    """Inline parameters as T-SQL literals for a script a DBA pastes (never used for execution)."""
    parts = sql.split("?")
    out = [parts[0]]
    for value, rest in zip(params, parts[1:], strict=True):
        if isinstance(value, datetime):
            lit = f"'{value.isoformat(timespec='seconds')}'"
        else:
            lit = "N'" + str(value).replace("'", "''") + "'"
        out.append(lit + rest)
    return "".join(out)


QUERIES: dict[str, str] = {
    "history": "history (save as history.csv: --history)",
    "backupfile": "database files for WITH MOVE (optional; save as backupfile.csv: --backup-files)",
    "marks": "marks for STOPATMARK (optional; save as logmarks.csv: --marks)",
    "restores": "the latest restore into each database (optional; save as restores.csv: --restores): one "
                "after a\n--    database's last backup makes a plan through the tail-log refuse",
}


def export_query_text(
    min_version: int | None = None,
    *,
    database: str | None = None,
    since: datetime | None = None,
    server_name: str | None = None,
    only: str | None = None,
) -> str:
    """The T-SQL a DBA pastes into SSMS or sqlcmd: history, then backupfile, logmarkhistory and
    restorehistory (``only``: one of QUERIES, a script whose one result set is one file).

    ``min_version`` is the oldest SQL Server major version the script must run on (9 = 2005,
    16 = 2022); columns added later are left out. None = every known column (newest servers).
    """
    if only is not None and only not in QUERIES:
        raise ValueError(f"unknown query {only!r}; expected one of {', '.join(QUERIES)}")
    note = (
        ""
        if min_version is None
        else f" (runs on SQL Server major version {min_version} and later)"
    )
    kwargs: dict[str, Any] = {
        "schema": "dbo",
        "catalog": "msdb",
        "dialect": "tsql",
        "database": database,
        "since": since,
    }
    build = {
        "history": lambda: build_query(None, server_name=server_name, min_version=min_version, **kwargs),
        "backupfile": lambda: build_backupfile_query(None, server_name=server_name, **kwargs),
        "marks": lambda: build_logmark_query(None, **kwargs),
        "restores": lambda: build_restorehistory_query(None, **kwargs),
    }
    names = list(QUERIES) if only is None else [only]
    parts = [f"-- {n}. {QUERIES[name]}\n" + _literal_filters(*build[name]()) + ";\n"
             for n, name in enumerate(names, start=1)]
    header = _EXPORT_HEADER if only is None else _EXPORT_HEADER_ONE
    return header.format(version_note=note) + "SET NOCOUNT ON;\n\n" + "\n".join(parts)
