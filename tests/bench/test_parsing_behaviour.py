"""The optimised CSV/mapping readers keep their behaviour: errors name file, row and column,
duplicates merge, conflicts are reported, LSNs never pass through float (issue 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from restoreplan.core.errors import InputError
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.columns import ALL
from restoreplan.sources.tabular import read_history_file

ROW = {
    "database_name": "Sales", "backup_set_uuid": "3eaabe17-1d8a-4eac-a693-ae2d9a1e40b4", "type": "D",
    "first_lsn": "31000000029200001", "last_lsn": "31000000041400001", "checkpoint_lsn": "31000000029400001",
    "database_backup_lsn": "0", "backup_start_date": "2026-11-08 22:00:00.000",
    "backup_finish_date": "2026-11-08 22:40:00.000", "physical_device_name": r"\\b\sql\Sales_FULL.bak",
    "family_guid": "47eaa099-2cb6-416d-86dc-283cf0480ff9", "time_zone": "-20", "is_copy_only": "0",
    "family_sequence_number": "1", "mirror": "0", "media_family_count": "1",
}  # fmt: skip


def write(
    tmp_path: Path, rows: list[dict[str, str]], name: str = "h.csv", header: tuple[str, ...] = ALL
) -> str:
    path = tmp_path / name
    lines = [",".join(header)] + [",".join(r.get(c, "") for c in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def load(path: str) -> list:
    b = SetBuilder()
    read_history_file(path, b)
    return b.build()


def test_duplicates_and_stripes_merge(tmp_path: Path) -> None:
    stripe2 = dict(ROW, physical_device_name=r"\\b\sql\Sales_FULL_2.bak", family_sequence_number="2",
                   media_family_count="2")  # fmt: skip
    first = dict(ROW, media_family_count="2")
    (bs,) = load(write(tmp_path, [first, stripe2, first]))
    assert [f.family_sequence_number for f in bs.files] == [1, 2]
    assert bs.time_zone == -20 and bs.position == 1 and bs.is_copy_only is False


def test_later_row_fills_in_a_null(tmp_path: Path) -> None:
    (bs,) = load(write(tmp_path, [dict(ROW, server_name=""), dict(ROW, server_name="SQL01")]))
    assert bs.server_name == "SQL01"


def test_conflict_names_both_places(tmp_path: Path) -> None:
    path = write(tmp_path, [ROW, dict(ROW, last_lsn="31000000041400002")])
    with pytest.raises(InputError, match=r"last_lsn is 31000000041400001 at .*h.csv, row 2 but "
                                         r"31000000041400002 at .*h.csv, row 3"):  # fmt: skip
        load(path)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("first_lsn", "12.5e3", "column first_lsn: not an LSN"),
        ("backup_set_uuid", "not-a-guid", "column backup_set_uuid: not a GUID"),
        ("backup_start_date", "yesterday-ish", "column backup_start_date: not a date and time"),
        ("is_copy_only", "maybe", "column is_copy_only: not a bit"),
        ("backup_size", "12kb", "column backup_size: not a whole number"),
        ("type", "X", "column type: unknown backup type"),
        ("database_name", "", "column database_name: value is missing"),
    ],
)
def test_errors_name_file_row_and_column(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    path = write(tmp_path, [ROW, ROW, dict(ROW, **{column: value})])
    with pytest.raises(InputError, match=f"h.csv, row 4, {message}"):
        load(path)


def test_first_bad_column_in_file_order(tmp_path: Path) -> None:
    # family_guid (a repeating column) comes after first_lsn (a per-set column) in the header
    path = write(tmp_path, [dict(ROW, first_lsn="x", family_guid="y")])
    with pytest.raises(InputError, match="row 2, column first_lsn"):
        load(path)


def test_lsn_float_refused_in_mappings() -> None:
    b = SetBuilder()
    with pytest.raises(
        InputError, match="row 1, column first_lsn: LSN 3.1e\\+16 arrived as a floating-point"
    ):
        b.add_mappings([dict(ROW, first_lsn=3.1e16)], "json")


def test_mapping_values_of_equal_value_but_other_type_are_not_confused() -> None:
    b = SetBuilder()
    b.add_mappings([dict(ROW, mirror=0, time_zone=-20)], "m")
    other = dict(
        ROW, backup_set_uuid="4eaabe17-1d8a-4eac-a693-ae2d9a1e40b4", mirror=0, time_zone=True
    )
    with pytest.raises(InputError, match="row 1, column time_zone: not a number"):
        b.add_mappings([other], "m")


def test_quoted_line_breaks_blank_lines_and_sqlcmd_furniture(tmp_path: Path) -> None:
    path = tmp_path / "sqlcmd.csv"
    head = ",".join(ALL)
    dashes = ",".join("-" * len(c) for c in ALL)
    row = ",".join(f'"{ROW.get(c, "")}"' if c != "machine_name" else '"two\nlines"' for c in ALL)
    path.write_text(
        f"\n\n{head}\r\n{dashes}\r\n\r\n{row}\r\n\r\n(1 row affected)\r\n", encoding="utf-8"
    )
    (bs,) = load(str(path))
    assert bs.machine_name == "two\nlines"


def test_decode_error_reports_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    data = write(tmp_path, [ROW] * 3, name="ok.csv")
    raw = Path(data).read_bytes()
    path.write_bytes(raw + b"Sales,\xff\xfe\n")
    with pytest.raises(
        InputError, match=rf"not valid UTF-8 \(invalid start byte at byte {len(raw) + 6}\)"
    ):
        load(str(path))


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    text = Path(write(tmp_path, [ROW])).read_text(encoding="utf-8")
    path.write_bytes(text.encode("utf-16"))
    (bs,) = load(str(path))
    assert bs.database_name == "Sales"


def test_build_twice_and_add_after_build() -> None:
    b = SetBuilder()
    b.add_mappings([ROW], "m")
    assert b.build() == b.build()
    with pytest.raises(RuntimeError):
        b.add_mappings([ROW], "m")


def test_loading_reports_rows_read_and_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    import gc

    from restoreplan.sources.load import LoadRequest, load

    rows = [dict(ROW, backup_set_uuid=f"{i:08x}-1d8a-4eac-a693-ae2d9a1e40b4") for i in range(5000)]
    path = write(tmp_path, rows)
    heard: list[str] = []
    assert gc.isenabled()
    loaded = load(LoadRequest(history=[path]), heard.append)
    assert gc.isenabled()
    assert heard[-1] == f"{path}: 5,000 rows read" and len(heard) == 2  # one a chunk of 4,096
    assert len(loaded.history.all_sets()) == 5000


def test_row_numbers_and_sqlcmd_furniture_across_chunks(tmp_path: Path) -> None:
    """Errors past the first chunk of 4,096 rows still name their row; a footer ends the file."""
    rows = [dict(ROW, backup_set_uuid=f"{i:08x}-1d8a-4eac-a693-ae2d9a1e40b4") for i in range(6000)]
    good = write(tmp_path, rows, name="good.csv")
    text = Path(good).read_text(encoding="utf-8")
    dashes = ",".join("-" * len(c) for c in ALL)
    head, body = text.split("\n", 1)
    sqlcmd = tmp_path / "sqlcmd.csv"
    sqlcmd.write_text(f"{head}\n{dashes}\n{body}\n(6000 rows affected)\n", encoding="utf-8")
    assert len(load(str(sqlcmd))) == 6000
    rows[4999] = dict(rows[4999], backup_start_date="not a date")
    with pytest.raises(InputError, match=r"bad.csv, row 5001, column backup_start_date: not a date"):
        load(write(tmp_path, rows, name="bad.csv"))


def test_a_header_of_blank_cells_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(",,,\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(InputError, match="h.csv: the header row names no column"):
        load(str(path))
