"""Live msdb reading through real ODBC drivers (PostgreSQL and SQLite stand in for SQL Server)."""

from __future__ import annotations

import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from restoreplan.core.errors import InputError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, DatabaseFile, LogMark, RestoreEvent
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.msdb_odbc import (
    ENV_PWD,
    exact_lsn,
    mask_connection_string,
    open_msdb,
    read_inventory,
    read_msdb,
    with_env_credentials,
)

from .conftest import NOPERM_PASSWORD, PG_PASSWORD, READER_PASSWORD, PgServer
from .history import VLF, History, guid, lsn

OLD_DROPPED = frozenset(
    {
        "compressed_backup_size",
        "key_algorithm",
        "encryptor_thumbprint",
        "encryptor_type",
        "last_valid_restore_time",
        "family_guid",
        "is_compressed",
        "mirror_count",
    }
)


def build(rows: list[dict[str, Any]], origin: str = "test") -> list[BackupSet]:
    b = SetBuilder()
    b.add_mappings(rows, origin)
    return sorted(b.build(), key=lambda s: s.backup_set_uuid)


def expected_files(history: History) -> dict[str, list[DatabaseFile]]:
    by_id = {r["backup_set_id"]: r["backup_set_uuid"] for r in history.tables["backupset"]}
    out: dict[str, list[DatabaseFile]] = {}
    for f in history.tables["backupfile"]:
        if f["state"] != 8:
            out.setdefault(by_id[f["backup_set_id"]], []).append(
                DatabaseFile(f["logical_name"], f["physical_name"], f["file_type"])
            )
    return out


def expected_marks(history: History) -> list[LogMark]:
    return [
        LogMark(m["database_name"], m["mark_name"], LSN(m["lsn"]), m["mark_time"], m["description"])
        for m in history.tables["logmarkhistory"]
    ]


def test_postgresql_sqlite_and_direct_rows_build_identical_sets(
    pg_server: PgServer, sqlite_msdb: tuple[str, History]
) -> None:
    sqlite_cs, sqlite_history = sqlite_msdb
    pg = read_msdb(pg_server.connection())
    lite = read_msdb(sqlite_cs)
    direct = build(pg_server.history.canonical())
    assert pg.dialect == "postgresql" and lite.dialect == "sqlite"
    assert build(pg.rows, "pg") == direct
    assert build(lite.rows, "sqlite") == direct
    assert len(direct) == 8
    by_uuid = {s.backup_set_uuid: s for s in direct}
    striped = by_uuid[guid(3)]
    assert [f.family_sequence_number for f in striped.files] == [
        1,
        2,
    ] and striped.media_family_count == 2
    mirrored = by_uuid[guid(6)]
    assert [(f.family_sequence_number, f.mirror) for f in mirrored.files] == [(1, 0), (1, 1)]
    assert mirrored.devices() == ("D:\\Backup\\Sales\\Sales_full_m0.bak",)
    assert mirrored.encryptor_thumbprint == "0x0A1B2C3D4E5F60718293A4B5C6D7E8F901234567"
    assert by_uuid[guid(5)].is_copy_only
    assert by_uuid[guid(3)].differential_base_guid == guid(1)
    for res, hist in ((pg, pg_server.history), (lite, sqlite_history)):
        assert res.database_files == expected_files(hist)
        assert res.marks == expected_marks(hist)
        assert "PWD" not in res.server and PG_PASSWORD not in res.server
        rh = hist.tables["restorehistory"]
        assert res.restores == [RestoreEvent("Sales_copy", rh[1]["restore_date"], "D"),
                                RestoreEvent("Sales_copy2", rh[3]["restore_date"], "?")]


def test_lsns_arrive_exact_as_ints(pg_server: PgServer, sqlite_msdb: tuple[str, History]) -> None:
    want = {
        (r["backup_set_uuid"], r["first_lsn"], r["last_lsn"])
        for r in pg_server.history.tables["backupset"]
    }
    assert any(len(str(w[1])) == 25 for w in want)
    for res in (read_msdb(pg_server.connection()), read_msdb(sqlite_msdb[0])):
        got = {(r["backup_set_uuid"], r["first_lsn"], r["last_lsn"]) for r in res.rows}
        assert got == want
        for r in res.rows:
            for col in ("first_lsn", "last_lsn", "checkpoint_lsn", "database_backup_lsn"):
                assert type(r[col]) is int
        assert res.marks[0].lsn == LSN(lsn(VLF, 350, 2))
    sets = build(read_msdb(pg_server.connection()).rows)
    assert sets[0].first_lsn == LSN(4294967000000000010000001)


def test_older_server_without_newer_columns(pg_server: PgServer) -> None:
    res = read_msdb(pg_server.connection(), schema="old")
    assert not OLD_DROPPED & set(res.columns)
    assert "first_lsn" in res.columns and "time_zone" in res.columns
    assert build(res.rows) == build(pg_server.history.canonical(drop=OLD_DROPPED))


def test_filters(pg_server: PgServer, sqlite_msdb: tuple[str, History]) -> None:
    for cs, hist in ((pg_server.connection(), pg_server.history), sqlite_msdb):
        finish = {r["backup_set_uuid"]: r["backup_finish_date"] for r in hist.tables["backupset"]}
        edge = read_msdb(cs, since=finish[guid(5)])  # --since is inclusive: a set finishing then is read
        assert guid(5) in {r["backup_set_uuid"] for r in edge.rows}
        assert edge.marks == []  # and marks made before it are left out
        hr = read_msdb(cs, database="HR")
        assert {r["database_name"] for r in hr.rows} == {"HR"}
        assert hr.marks == [] and set(hr.database_files) == {guid(8)}
        since = read_msdb(cs, since=datetime(2024, 3, 2, 0, 0))
        assert {r["backup_set_uuid"] for r in since.rows} == {guid(5), guid(6), guid(7), guid(8)}
        sql02 = read_msdb(cs, server_name="SQL02")
        assert {r["server_name"] for r in sql02.rows} == {"SQL02"}
        assert read_msdb(cs, database="nope").rows == []


def test_streams_in_small_batches(pg_server: PgServer) -> None:
    assert (
        read_msdb(pg_server.connection(), fetch_size=2).rows
        == read_msdb(pg_server.connection()).rows
    )


def test_rows_go_straight_into_a_builder(pg_server: PgServer) -> None:
    """What `--msdb` does: each fetched batch is parsed as it arrives, nothing kept twice."""
    direct = build(read_msdb(pg_server.connection()).rows)
    builder = SetBuilder()
    res = read_msdb(pg_server.connection(), fetch_size=3, into=builder)
    assert res.rows == [] and builder.rows_read == len(pg_server.history.canonical())
    def by_uuid(sets: list[BackupSet]) -> list[BackupSet]:
        return sorted(sets, key=lambda s: s.backup_set_uuid)

    assert by_uuid(builder.build()) == by_uuid(direct)


def test_least_privilege_login_reads(pg_server: PgServer) -> None:
    res = read_msdb(pg_server.connection(user="reader", password=READER_PASSWORD))
    assert len(build(res.rows)) == 8


def test_login_failure_is_input_error_with_password_masked(pg_server: PgServer) -> None:
    bad = "wr;ong}}pw"
    cs = pg_server.connection(password=bad)
    with pytest.raises(InputError) as info:
        read_msdb(cs, timeout=5)
    msg = info.value.one_line()
    assert "cannot connect" in msg and "\n" not in msg
    for secret in ("wr;ong", "ong}", bad):
        assert secret not in msg
    assert "127.0.0.1" in msg


def test_password_from_environment(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    cs = pg_server.connection(user="reader", password=None)
    monkeypatch.setenv(ENV_PWD, READER_PASSWORD)
    assert len(read_msdb(cs).rows) == len(pg_server.history.canonical())
    monkeypatch.setenv(ENV_PWD, "env-secret-wrong")
    with pytest.raises(InputError) as info:
        read_msdb(cs, timeout=5)
    assert "env-secret-wrong" not in info.value.one_line()


def test_permission_denied_is_input_error(pg_server: PgServer) -> None:
    with pytest.raises(InputError) as info:
        read_msdb(pg_server.connection(user="noperm", password=NOPERM_PASSWORD))
    assert "db_datareader" in info.value.one_line()
    assert NOPERM_PASSWORD not in info.value.one_line()


def test_session_is_read_only(pg_server: PgServer) -> None:
    import pyodbc

    with open_msdb(pg_server.connection()) as session:
        cur = session.conn.cursor()
        with pytest.raises(pyodbc.Error, match="read-only"):
            cur.execute("DELETE FROM dbo.backupset")
    # and the data is all still there
    assert len(read_msdb(pg_server.connection()).rows) == len(pg_server.history.canonical())


def test_inventory(pg_server: PgServer, sqlite_msdb: tuple[str, History], tmp_path: Path) -> None:
    inv = tmp_path / "servers.txt"
    inv.write_text(
        "\n".join(
            [
                "# production",
                pg_server.connection(),
                "",
                pg_server.connection(password="bad-inventory-pw"),
                "   # a comment",
                sqlite_msdb[0],
                pg_server.connection(user="noperm", password=NOPERM_PASSWORD),
                "NoSuchDsnForRestoreplan",
            ]
        )
    )
    seen: list[tuple[int, int, str, bool]] = []
    res = read_inventory(
        inv, jobs=2, database="Sales", timeout=5, progress=lambda *a: seen.append(a)
    )
    assert [r.dialect for r in res.results] == ["postgresql", "sqlite"]
    assert all({row["database_name"] for row in r.rows} == {"Sales"} for r in res.results)
    assert len(res.failures) == 3
    assert res.failures[2][0] == "DSN=NoSuchDsnForRestoreplan"
    text = repr(res.failures)
    assert (
        "bad-inventory-pw" not in text and NOPERM_PASSWORD not in text and PG_PASSWORD not in text
    )
    assert sorted(s[0] for s in seen) == [1, 2, 3, 4, 5] and all(s[1] == 5 for s in seen)
    assert sum(1 for s in seen if s[3]) == 2


def test_inventory_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(InputError, match="no server"):
        read_inventory(empty, jobs=2)
    with pytest.raises(InputError, match="cannot read"):
        read_inventory(tmp_path / "missing.txt", jobs=2)


# -- no server needed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cs", "secret"),
    [
        ("Driver={ODBC Driver 18 for SQL Server};Server=sql1;UID=sa;PWD=Pa55word", "Pa55word"),
        ("Server=sql1;Password={a;b}}c};Database=msdb", "a;b}}c"),
        ("DSN=prod; pwd = hunter2 ;UID=x", "hunter2"),
        ("PWD=first;password=second", "second"),
    ],
)
def test_mask_connection_string(cs: str, secret: str) -> None:
    masked = mask_connection_string(cs)
    assert secret not in masked and "***" in masked
    assert "first" not in mask_connection_string("PWD=first;password=second")


def test_env_credentials_appended_only_when_absent() -> None:
    env = {"RESTOREPLAN_MSDB_UID": "svc", "RESTOREPLAN_MSDB_PWD": "p;w}"}
    assert with_env_credentials("DSN=x", env) == "DSN=x;UID={svc};PWD={p;w}}}"
    assert with_env_credentials("DSN=x;UID=a;PWD=b", env) == "DSN=x;UID=a;PWD=b"
    assert (
        with_env_credentials("Server=s;Trusted_Connection=yes", env)
        == "Server=s;Trusted_Connection=yes"
    )


def test_exact_lsn_refuses_floats() -> None:
    assert exact_lsn("4294967000000000010000001", "x") == 4294967000000000010000001
    assert exact_lsn(Decimal("4294967000000000010000001"), "x") == 4294967000000000010000001
    assert exact_lsn(None, "x") is None
    with pytest.raises(InputError, match="floating-point"):
        exact_lsn(4.294967e24, "srv msdb, row 3, column first_lsn")
    with pytest.raises(InputError, match="row 3, column first_lsn"):
        exact_lsn("12x", "srv msdb, row 3, column first_lsn")


def test_missing_pyodbc_is_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyodbc", None)
    with pytest.raises(InputError) as info:
        read_msdb("DSN=x")
    assert "restoreplan[odbc]" in info.value.one_line()


def test_batches_convert_a_column_at_a_time_exactly_as_cell_by_cell() -> None:
    """convert's fast columns (values as drivers send them) equal cell() on every cell."""
    import uuid as uuidlib

    from restoreplan.sources.odbc_cells import cell, convert

    g = "3EAABE17-1D8A-4EAC-A693-AE2D9A1E40B4"
    names = ["backup_set_uuid", "differential_base_guid", "type", "first_lsn", "fork_point_lsn",
             "backup_size", "compressed_backup_size", "backup_start_date", "database_name",
             "family_guid", "is_copy_only"]  # fmt: skip
    batches = [  # drivers' usual types (the C path), then odd ones (cell by cell)
        [(g, None, "D ", "31000000029200001", None, "1024", 512, datetime(2026, 1, 1), "Sales", g.lower(), True),
         (g.lower(), g, "L", "31000000029200002", "1", "2048", None, datetime(2026, 1, 2), "Sales", None, False)],
        [(uuidlib.UUID(g), None, "I", 31000000029200001, Decimal(5), " 7 ", Decimal("8"), None, "x", "{" + g + "}", 0),
         (g, g, "L", "0000001a:000000f0:0001", None, "9.0", b"\x01", None, "y", None, None)],
    ]  # fmt: skip
    for batch in batches:
        expected = [
            tuple(cell(name, raw, "where") for name, raw in zip(names, row, strict=True))
            for row in batch
        ]
        assert convert(names, batch, "S", 1) == expected

    bad = [(g, None, "L", "31000000029200001", None, "1024", 1, None, "x", None, 0),
           (g, "not a guid", "L", "31000000029200001", None, "1024", 1, None, "x", None, 0)]  # fmt: skip
    with pytest.raises(InputError, match=r"^S msdb, row 8, column differential_base_guid: not a GUID"):
        convert(names, bad, "S", 7)


def _sqlite_copy(sqlite_msdb: tuple[str, History], tmp_path: Path, *statements: str) -> str:
    """The session's SQLite msdb, copied and changed by ``statements``; its connection string."""
    import shutil
    import sqlite3

    cs, _ = sqlite_msdb
    source = cs.split("Database=", 1)[1]
    path = tmp_path / "msdb.sqlite"
    shutil.copy(source, path)
    con = sqlite3.connect(path)
    for stmt in statements:
        con.execute(stmt)
    con.commit()
    con.close()
    return cs.split("Database=", 1)[0] + f"Database={path}"


def test_a_file_without_logical_name_drops_its_sets_whole_file_list(
    sqlite_msdb: tuple[str, History], tmp_path: Path
) -> None:
    """backupfile.logical_name is nullable: such a file cannot be moved, so the set's MOVE list
    would be incomplete; the set is read as one whose file list is unknown (the script says so),
    never with the other files alone."""
    cs = _sqlite_copy(sqlite_msdb, tmp_path, "UPDATE backupfile SET logical_name = NULL "
                      "WHERE backup_set_id = 1 AND file_number = 2")
    res = read_msdb(cs)
    by_id = {r["backup_set_id"]: r["backup_set_uuid"] for r in sqlite_msdb[1].tables["backupset"]}
    assert by_id[1] not in res.database_files
    assert len(res.database_files[by_id[2]]) == 2


@pytest.mark.parametrize("column", ["lsn", "mark_time", "mark_name"])
def test_a_mark_with_a_null_column_is_refused(
    sqlite_msdb: tuple[str, History], tmp_path: Path, column: str
) -> None:
    """logmarkhistory's columns are NOT NULL in msdb: a null is a damaged copy, named, not skipped."""
    cs = _sqlite_copy(sqlite_msdb, tmp_path, f"UPDATE logmarkhistory SET {column} = NULL")
    with pytest.raises(InputError, match=rf"logmarkhistory, row 1.*{column}"):
        read_msdb(cs)
