"""Live msdb reading through real ODBC drivers (PostgreSQL and SQLite stand in for SQL Server)."""

from __future__ import annotations

from typing import Any

from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.msdb_odbc import read_msdb

from .conftest import PgServer


def build(rows: list[dict[str, Any]], origin: str = "test") -> list[Any]:
    b = SetBuilder()
    b.add_mappings(rows, origin)
    return sorted(b.build(), key=lambda s: s.backup_set_uuid)


def test_pg_smoke(pg_server: PgServer) -> None:
    res = read_msdb(pg_server.connection())
    print(res.dialect, res.columns)
    print(res.rows[0])
    assert build(res.rows) == build(pg_server.history.canonical())


def test_sqlite_smoke(sqlite_msdb: tuple[str, Any]) -> None:
    cs, history = sqlite_msdb
    res = read_msdb(cs)
    print(res.dialect, res.rows[0], res.marks, res.database_files)
    assert build(res.rows) == build(history.canonical())
