"""Third input review: values that were silently changed or dropped, and messages that misled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import InputError
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.load import _database_files, _marks
from restoreplan.sources.msdb_query import build_backupfile_query, build_logmark_query, build_query
from restoreplan.sources.tabular import read_history_file, read_records

HEADER = (
    "database_name,backup_set_uuid,type,first_lsn,last_lsn,checkpoint_lsn,database_backup_lsn,"
    "backup_start_date,backup_finish_date,physical_device_name,family_sequence_number,mirror,"
    "backup_size"
)


def _guid(n: int) -> str:
    return f"{n:08x}-1d8a-4eac-a693-ae2d9a1e40b4"


def _row(n: int, *, family: str = "1", size: str = "1024", device: str | None = None) -> str:
    lsn = 31000000029200001 + n * 100000
    return (
        f"Sales,{_guid(n)},L,{lsn},{lsn + 100000},{lsn},31000000029200001,"
        f"2026-11-08 22:{n % 60:02d}:00.000,2026-11-08 22:{n % 60:02d}:30.000,"
        f"{device or f'/b/log{n}.trn'},{family},0,{size}"
    )


def _read(tmp_path: Path, text: str, name: str = "h.csv") -> object:
    path = tmp_path / name
    path.write_text(text, newline="")
    b = SetBuilder()
    try:
        read_history_file(str(path), b)
        return b.build()
    except InputError as exc:
        return ("error", exc.message.replace(str(path), "h"))


# -- int() reads "1_0" as 10 and "١" as 1: a cell no export writes became a number --------------
@pytest.mark.parametrize("cell", ["1_0", "١", "1_024"])
@pytest.mark.parametrize("column", ["family_sequence_number", "backup_size"])
def test_ints_with_underscores_or_foreign_digits_are_refused(tmp_path: Path, cell: str, column: str) -> None:
    row = _row(1, family=cell) if column == "family_sequence_number" else _row(1, size=cell)
    got = _read(tmp_path, HEADER + "\n" + row + "\n")
    assert isinstance(got, tuple), got
    assert f"row 2, column {column}: not a whole number" in got[1]


def test_chunk_of_underscored_ints_is_refused_like_one_row(tmp_path: Path) -> None:
    """A whole column of them (the chunk path's int() over the column) is refused too."""
    rows = [_row(n, size=f"1_{n:03d}") for n in range(50)]
    got = _read(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    assert got == ("error", "h, row 2, column backup_size: not a whole number: '1_000'")


# -- trailing delimiters: several unnamed columns were "named more than once: " ----------------
def test_trailing_empty_columns_are_not_duplicate_names(tmp_path: Path) -> None:
    plain = _read(tmp_path, HEADER + "\n" + _row(1) + "\n", "a.csv")
    padded = _read(tmp_path, HEADER + ",,\n" + _row(1) + ",,\n", "b.csv")
    assert isinstance(plain, list) and padded == plain


# -- backupfile and logmarkhistory exports ----------------------------------------------------
def test_backup_file_paths_keep_a_quoted_crlf(tmp_path: Path) -> None:
    path = tmp_path / "files.csv"
    path.write_bytes(
        b"backup_set_uuid,logical_name,physical_name,file_type\r\n"
        + _guid(1).encode()
        + b',Sales,"D:\\odd\r\nname.mdf",D\r\n'
    )
    files = _database_files(read_records(str(path)), str(path))
    assert files[_guid(1)][0].physical_name == "D:\\odd\r\nname.mdf"


def test_marks_and_backup_files_compare_column_names_case_insensitively(tmp_path: Path) -> None:
    marks = tmp_path / "marks.csv"
    marks.write_text("Database_Name,Mark_Name,LSN,Mark_Time\nSales,M1,1000,2026-11-08 22:00:00\n")
    (mark,) = _marks(read_records(str(marks)), str(marks))
    assert (mark.database_name, mark.mark_name, mark.lsn.value) == ("Sales", "M1", 1000)
    files = tmp_path / "files.csv"
    files.write_text(f"Backup_Set_UUID,Logical_Name,Physical_Name,File_Type\n{_guid(1)},d,D:\\d.mdf,L\n")
    assert _database_files(read_records(str(files)), str(files))[_guid(1)][0].file_type == "L"


def test_a_column_named_twice_in_backup_files_is_refused(tmp_path: Path) -> None:
    files = tmp_path / "files.csv"
    files.write_text(f"backup_set_uuid,logical_name,physical_name,Logical_Name\n{_guid(1)},d,x,e\n")
    with pytest.raises(InputError, match="named more than once: logical_name"):
        read_records(str(files))


# -- live msdb --database: a renamed database's older backups were filtered out on the server ----
def _msdb() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE backupset (backup_set_id INTEGER, backup_set_uuid TEXT, media_set_id INTEGER,
          database_name TEXT, type TEXT, first_lsn TEXT, last_lsn TEXT, checkpoint_lsn TEXT,
          database_backup_lsn TEXT, backup_start_date TEXT, backup_finish_date TEXT,
          family_guid TEXT, server_name TEXT);
        CREATE TABLE backupmediafamily (media_set_id INTEGER, physical_device_name TEXT,
          family_sequence_number INTEGER, mirror INTEGER);
        CREATE TABLE backupmediaset (media_set_id INTEGER, media_family_count INTEGER);
        CREATE TABLE backupfile (backup_set_id INTEGER, logical_name TEXT, physical_name TEXT,
          file_type TEXT);
        CREATE TABLE logmarkhistory (database_name TEXT, mark_name TEXT, description TEXT,
          lsn TEXT, mark_time TEXT);
        """
    )
    sets = [  # (id, name, family_guid): SalesOld renamed to Sales; Other is another database
        (1, "SalesOld", "f1"), (2, "Sales", "f1"), (3, "Other", "f2"), (4, "Sales_copy", "f1"),
    ]  # fmt: skip
    for n, name, family in sets:
        db.execute(
            "INSERT INTO backupset VALUES (?, ?, ?, ?, 'D', '1', '2', '1', '0', "
            "'2026-11-08 22:00:00', '2026-11-08 22:30:00', ?, 'SQL01')",
            (n, _guid(n), n, name, family),
        )
        db.execute("INSERT INTO backupmediafamily VALUES (?, ?, 1, 0)", (n, f"/b/{n}.bak"))
        db.execute("INSERT INTO backupmediaset VALUES (?, 1)", (n,))
        db.execute("INSERT INTO backupfile VALUES (?, 'd', ?, 'D')", (n, f"/d/{n}.mdf"))
        db.execute("INSERT INTO logmarkhistory VALUES (?, ?, NULL, '1', '2026-11-08 22:10:00')",
                   (name, f"m{n}"))  # fmt: skip
    return db


_AVAILABLE = {
    t: {"backup_set_id", "backup_set_uuid", "media_set_id", "database_name", "type", "first_lsn",
        "last_lsn", "checkpoint_lsn", "database_backup_lsn", "backup_start_date",
        "backup_finish_date", "family_guid", "server_name", "physical_device_name",
        "family_sequence_number", "mirror", "media_family_count"}
    for t in ("backupset", "backupmediafamily", "backupmediaset")
}  # fmt: skip


def test_msdb_database_filter_keeps_the_lineage_of_a_renamed_database() -> None:
    db = _msdb()
    sql, params = build_query(_AVAILABLE, schema=None, dialect="sqlite", database="Sales")
    names = sorted(r[0] for r in db.execute(sql, params))
    assert names == ["Sales", "SalesOld", "Sales_copy"]  # the lineage build() keeps; not Other
    sql, params = build_backupfile_query(_AVAILABLE, schema=None, dialect="sqlite", database="Sales")
    assert sorted(r[2] for r in db.execute(sql, params)) == ["/d/1.mdf", "/d/2.mdf", "/d/4.mdf"]
    sql, params = build_logmark_query(_AVAILABLE, schema=None, dialect="sqlite", database="Sales")
    assert sorted(r[1] for r in db.execute(sql, params)) == ["m1", "m2", "m4"]


def test_msdb_database_filter_without_family_guid_is_by_name() -> None:
    available = {t: cols - {"family_guid"} for t, cols in _AVAILABLE.items()}
    sql, params = build_query(available, schema=None, dialect="sqlite", database="Sales")
    assert params == ["Sales"] and "family_guid" not in sql


# -- the chunk path and the row path read any file alike, a bad cell or not --------------------
cell = st.sampled_from(["1", " 2 ", "", "NULL", "1_0", "x", "3.0", "-1", "0"])


@settings(max_examples=60, deadline=None)
@given(st.lists(cell, min_size=1, max_size=40), st.integers(0, 39))
def test_file_chunks_agree_with_single_rows(tmp_path_factory: pytest.TempPathFactory,
                                            families: list[str], bad_at: int) -> None:
    tmp = tmp_path_factory.mktemp("chunks")
    rows = [_row(n, family=f) for n, f in enumerate(families)]
    whole = _read(tmp, HEADER + "\n" + "\n".join(rows) + "\n", "whole.csv")
    # the same rows, one file per row: each read a row at a time as its own chunk
    one_by_one: object = []
    for n, row in enumerate(rows):
        got = _read(tmp, HEADER + "\n" + "\n" * n + row + "\n", f"r{n}.csv")  # same row number
        if isinstance(got, tuple):
            one_by_one = got
            break
        assert isinstance(one_by_one, list) and isinstance(got, list)
        one_by_one += got
    if isinstance(whole, tuple) or isinstance(one_by_one, tuple):
        assert whole == one_by_one
    else:
        assert whole == one_by_one


# -- dbatools Size text: "1,5 GB" (de-DE) was read as 15 GB, the comma taken for a thousands mark --
DBATOOLS_CSV = (
    '"Server","Database","Start","End","Path","Type","TotalSize","FirstLSN","LastLsn","CheckpointLsn"\n'
    '"SQL01","Sales","2024-03-01 22:00:00","2024-03-01 22:03:07","D:\\b\\f.bak","Full","{size}",'
    '"4294967000000000030000001","4294967000000000034000001","4294967000000000031000009"\n'
)


def test_a_size_with_a_decimal_comma_is_refused(tmp_path: Path) -> None:
    got = _read(tmp_path, DBATOOLS_CSV.format(size="1,5 GB"))
    assert isinstance(got, tuple) and "h, row 2, column totalsize: not a size: '1,5 GB'" in got[1]


@pytest.mark.parametrize(("size", "expected"), [("1,024", 1024), ("1.5 GB", 3 * 2**29), ("2048", 2048)])
def test_sizes_that_read_one_way_are_read(tmp_path: Path, size: str, expected: int) -> None:
    got = _read(tmp_path, DBATOOLS_CSV.format(size=size))
    assert isinstance(got, list) and got[0].backup_size == expected


# -- a quoted password (SqlClient style) was masked only up to its first semicolon ---------------
@pytest.mark.parametrize(
    "connection",
    ['Server=a;Password="p;q";Database=msdb', "Server=a;PWD='p;q';Database=msdb",
     "Server=a;PWD={p;q}q};Database=msdb"],
)  # fmt: skip
def test_quoted_passwords_are_masked_whole(connection: str) -> None:
    from restoreplan.sources.msdb_odbc import mask_connection_string

    masked = mask_connection_string(connection)
    assert "q" not in masked.replace("msdb", "") and masked.endswith("=***;Database=msdb")
