"""The msdb SELECTs: version-aware, read-only, valid T-SQL."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from restoreplan.core.errors import InputError
from restoreplan.sources.msdb_query import build_query, dialect_for_dbms, export_query_text


def test_export_query_is_read_only_tsql() -> None:
    sqlglot = pytest.importorskip("sqlglot")
    text = export_query_text(None)
    assert 'sqlcmd -S server -d msdb -E -s"," -W -i history.sql -o history.csv' in text
    assert "Save Results As" in text
    assert not re.search(r"\b(INSERT|UPDATE|DELETE|MERGE|DROP|ALTER|EXEC)\b", text, re.IGNORECASE)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    statements = [s for s in body.split(";") if s.strip() and "NOCOUNT" not in s]
    assert len(statements) == 4  # history, backupfile, logmarkhistory, restorehistory
    for stmt in statements:
        assert sqlglot.parse_one(stmt, read="tsql") is not None
    assert "CAST(bs.first_lsn AS varchar(25)) AS first_lsn" in text


def test_min_version_leaves_out_newer_columns() -> None:
    old = export_query_text(9)
    assert "compressed_backup_size" not in old and "last_valid_restore_time" not in old
    assert "family_guid" in old
    assert "last_valid_restore_time" in export_query_text(16)


def test_build_query_filters_and_missing_columns() -> None:
    available = {
        "backupset": {
            "database_name", "backup_set_uuid", "type", "first_lsn", "last_lsn", "checkpoint_lsn",
            "database_backup_lsn", "backup_start_date", "backup_finish_date", "media_set_id", "server_name",
        },
        "backupmediafamily": {"physical_device_name", "media_set_id"},
        "backupmediaset": {"media_set_id"},
    }  # fmt: skip
    sql, params = build_query(
        available,
        database="Sales",
        since=datetime(2024, 1, 1),
        server_name="SQL01",
        dialect="postgresql",
    )
    assert "family_guid" not in sql and "bs.server_name = ?" in sql
    assert params == ["Sales", datetime(2024, 1, 1), "SQL01"]
    assert sql.count("?") == 3
    available["backupset"].discard("first_lsn")
    with pytest.raises(InputError, match=r"backupset\.first_lsn"):
        build_query(available)


def test_dialect_for_dbms() -> None:
    assert dialect_for_dbms("Microsoft SQL Server") == "tsql"
    assert dialect_for_dbms("PostgreSQL") == "postgresql"
    assert dialect_for_dbms("SQLite") == "sqlite"
    assert dialect_for_dbms("Oracle") == "ansi"


def test_one_query_at_a_time_for_sqlcmd() -> None:
    """sqlcmd writes every result set of a script into one file: --query gives one of them."""
    for name in ("history", "backupfile", "marks", "restores"):
        text = export_query_text(None, only=name)
        body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
        assert len([s for s in body.split(";") if s.strip() and "NOCOUNT" not in s]) == 1
    assert "FROM msdb.dbo.restorehistory" in export_query_text(None, only="restores")
    with pytest.raises(ValueError):
        export_query_text(None, only="backupset")
