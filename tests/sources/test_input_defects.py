"""Input-handling defects: bad input never gives a traceback and never silently drops or changes
data; it is one InputError (exit 2) that names the file, the row and the column."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from restoreplan.core.errors import InputError
from restoreplan.core.model import BackupSet
from restoreplan.sources import dbatools, headeronly, jsonstream
from restoreplan.sources import values as v
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.load import sample_history_path
from restoreplan.sources.tabular import load_json, read_history_file

DATES = ("backup_start_date", "backup_finish_date")


def sample() -> tuple[list[str], list[dict[str, str]]]:
    with open(sample_history_path(), newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]] | list[list[str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path)


def read(*paths: str, fmt: str | None = None) -> list[BackupSet]:
    builder = SetBuilder()
    for path in paths:
        read_history_file(path, builder, fmt)
    return sorted(builder.build(), key=lambda s: s.backup_set_uuid)


def key(sets: list[BackupSet]) -> list[tuple[Any, ...]]:
    return [
        (s.backup_set_uuid, s.backup_start_date, s.backup_finish_date, s.files, s.position,
         s.traits.time_zone)
        for s in sets
    ]  # fmt: skip


@pytest.fixture(scope="module")
def clean() -> list[tuple[Any, ...]]:
    return key(read(sample_history_path()))


def redated(rows: list[dict[str, str]], fmt: str) -> list[dict[str, str]]:
    out = []
    for row in rows:
        row = dict(row)
        for c in DATES:
            row[c] = datetime.fromisoformat(row[c]).strftime(fmt)
        out.append(row)
    return out


# -- 1. day-first dates --------------------------------------------------------------------------


def test_ambiguous_slash_dates_are_refused_not_guessed(tmp_path: Path) -> None:
    header, rows = sample()
    path = write_csv(tmp_path / "eu.csv", header, redated(rows, "%d/%m/%Y %H:%M:%S"))
    with pytest.raises(InputError) as exc:
        read(path)
    assert "row 2, column backup_start_date: ambiguous date" in exc.value.message
    assert "121" in exc.value.message


def test_dotted_dates_are_day_first_in_every_row(tmp_path: Path, clean: list[Any]) -> None:
    header, rows = sample()
    path = write_csv(tmp_path / "de.csv", header, redated(rows, "%d.%m.%Y %H:%M:%S.%f"))
    assert key(read(path)) == clean


def test_a_file_mixing_day_first_and_month_first_is_refused(tmp_path: Path) -> None:
    header, rows = sample()
    rows = rows[:3]
    rows[0]["backup_start_date"] = "13/11/2026 22:00:00"
    rows[2]["backup_start_date"] = "11/14/2026 22:15:00"
    with pytest.raises(InputError, match="mix day-first '13/11/2026 22:00:00' and month-first"):
        read(write_csv(tmp_path / "mixed.csv", header, rows))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13/11/2026 22:00", datetime(2026, 11, 13, 22)),
        ("11/13/2026 10:00:00 PM", datetime(2026, 11, 13, 22)),
        ("08.11.2026 22:00:00", datetime(2026, 11, 8, 22)),
        ("2026/11/08 22:00:00", datetime(2026, 11, 8, 22)),
        ("Nov  8 2026 10:00PM", datetime(2026, 11, 8, 22)),
        ("05/05/2026", datetime(2026, 5, 5)),
        ("2026-11-08 22:00:00.1234567", datetime(2026, 11, 8, 22, 0, 0, 123456)),
    ],
)
def test_dates_whose_order_is_clear(text: str, expected: datetime) -> None:
    assert v.parse_datetime(text) == expected


def _dbatools_csv(dates: tuple[str, str]) -> str:
    head = '"ComputerName","SqlInstance","Database","Start","End","Path","Type","BackupSetId",'
    head += '"Position","FirstLsn","LastLsn","CheckpointLsn","DatabaseBackupLsn"'
    row = (
        f'"S","S","Sales","{dates[0]}","{dates[1]}","D:\\b\\f.bak","Full",'
        '"3eaabe17-1d8a-4eac-a693-ae2d9a1e40b4","1","100","200","150","0"'
    )
    return "#TYPE Dataplat.Dbatools.Database.BackupHistory\n" + head + "\n" + row + "\n"


def test_dbatools_csv_dates_are_decided_once_per_file(tmp_path: Path) -> None:
    de = tmp_path / "de.csv"
    de.write_text(_dbatools_csv(("08.11.2026 22:00:00", "08.11.2026 22:40:00")), encoding="utf-8")
    us = tmp_path / "us.csv"
    us.write_text(_dbatools_csv(("11/8/2026 10:00:00 PM", "11/8/2026 10:40:00 PM")), encoding="utf-8")
    gb = tmp_path / "gb.csv"
    gb.write_text(_dbatools_csv(("08/11/2026 22:00:00", "13/11/2026 22:40:00")), encoding="utf-8")
    [a], [b], [c] = read(str(de)), read(str(us)), read(str(gb))
    assert a.backup_start_date == b.backup_start_date == datetime(2026, 11, 8, 22)
    assert c.backup_start_date == datetime(2026, 11, 8, 22)  # 13/11 decided day-first
    amb = tmp_path / "amb.csv"
    amb.write_text(_dbatools_csv(("08/11/2026 22:00:00", "08/11/2026 22:40:00")), encoding="utf-8")
    with pytest.raises(InputError, match="row 2, column start: .*ambiguous"):
        read(str(amb))


# -- 2. partial dates ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-11", "2026", "22:00", "Nov", "November 2026", "2026-W45"])
def test_partial_dates_are_refused(text: str) -> None:
    with pytest.raises(v.ValueProblem):
        v.parse_datetime(text)


def test_a_partial_date_in_a_file_names_row_and_column(tmp_path: Path) -> None:
    header, rows = sample()
    rows[5]["backup_finish_date"] = "2026-11"
    with pytest.raises(InputError, match=r"row 7, column backup_finish_date: not a date"):
        read(write_csv(tmp_path / "p.csv", header, rows))


# -- 3. stripes without family_sequence_number ---------------------------------------------------


def test_stripes_without_their_numbers_are_refused(tmp_path: Path) -> None:
    header, rows = sample()
    gone = ("family_sequence_number", "mirror", "media_family_count", "mirror_count")
    header = [h for h in header if h not in gone]
    with pytest.raises(InputError) as exc:
        read(write_csv(tmp_path / "s.csv", header, rows))
    assert "no family_sequence_number column" in exc.value.message
    assert "row 674" in exc.value.message and "row 675" in exc.value.message


def test_stripes_numbered_from_media_family_count(tmp_path: Path, clean: list[Any]) -> None:
    header, rows = sample()
    header = [h for h in header if h not in ("family_sequence_number", "mirror")]
    assert key(read(write_csv(tmp_path / "s.csv", header, rows))) == clean


def test_mirrors_without_their_mirror_numbers_are_numbered_in_order(tmp_path: Path) -> None:
    header, rows = sample()
    striped = [r for r in rows if r["media_family_count"] == "4"]
    for r in striped:  # the same set written to four mirrors of one family instead
        r.update(family_sequence_number="1", media_family_count="1", mirror_count="4")
    header = [h for h in header if h != "mirror"]
    sets = read(write_csv(tmp_path / "m.csv", header, rows))
    [mirrored] = [s for s in sets if s.backup_set_uuid == striped[0]["backup_set_uuid"]]
    assert [(f.family_sequence_number, f.mirror) for f in mirrored.files] == [
        (1, 0), (1, 1), (1, 2), (1, 3)
    ]


# -- 4. column names in any case -----------------------------------------------------------------


def test_column_names_are_case_insensitive(tmp_path: Path, clean: list[Any]) -> None:
    header, rows = sample()
    upper = [h.upper() for h in header]
    out = [[r[h] for h in header] for r in rows]
    assert key(read(write_csv(tmp_path / "u.csv", upper, out))) == clean
    records = [{h.upper() if i % 2 else h: r[h] for i, h in enumerate(header)} for r in rows]
    (tmp_path / "u.json").write_text(json.dumps(records), encoding="utf-8")
    assert key(read(str(tmp_path / "u.json"))) == clean


# -- 5. the same file number of a set at two paths -----------------------------------------------


def test_one_file_of_a_set_at_two_paths_is_a_conflict(tmp_path: Path) -> None:
    header, rows = sample()
    moved = [dict(r, physical_device_name=r["physical_device_name"].replace("backup01", "backup02"))
             for r in rows]  # fmt: skip
    a = write_csv(tmp_path / "a.csv", header, rows)
    b = write_csv(tmp_path / "b.csv", header, moved)
    with pytest.raises(InputError) as exc:
        read(a, b)
    assert "conflicting rows" in exc.value.message
    assert f"{a}, row 2" in exc.value.message and f"{b}, row 2" in exc.value.message


# -- 6. HEADERONLY and dbatools duplicates -------------------------------------------------------


def test_headeronly_conflicting_duplicate_is_an_error() -> None:
    cols = ["BackupSetGUID", "BackupType", "DatabaseName", "FirstLSN", "LastLSN", "CheckpointLSN",
            "DatabaseBackupLSN", "BackupStartDate", "BackupFinishDate", "BackupPath"]  # fmt: skip
    row = ["3eaabe17-1d8a-4eac-a693-ae2d9a1e40b4", "1", "Sales", "100", "200", "150", "0",
           "2026-11-08 22:00:00", "2026-11-08 22:40:00", "D:\\b\\f.bak"]  # fmt: skip
    same = headeronly.to_canonical(cols, [row, list(row)], "h.csv", row_numbers=[2, 3])
    assert len(same) == 1  # an identical repeat is kept once
    other = list(row)
    other[4] = "201"
    with pytest.raises(InputError, match=r"last_lsn is 200 at h.csv, row 2 but 201 at h.csv, row 3"):
        headeronly.to_canonical(cols, [row, other], "h.csv", row_numbers=[2, 3])


def test_dbatools_conflicting_duplicate_is_an_error() -> None:
    rec = {"Database": "Sales", "Start": "2026-11-08T22:00:00", "End": "2026-11-08T22:10:00",
           "Path": ["D:\\b\\f.bak"], "Type": "Full", "BackupSetId": "3eaabe17-1d8a-4eac-a693-ae2d9a1e40b4",
           "FirstLsn": 100, "LastLsn": 200, "CheckpointLsn": 150}  # fmt: skip
    with pytest.raises(InputError, match="conflicting rows .* at d.json, row 1 but .* at d.json, row 2"):
        dbatools.to_canonical([rec, dict(rec, LastLsn=201)], "d.json")


# -- 7. duplicate columns, lists and objects, out-of-range numbers -------------------------------


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    header, rows = sample()
    out = [[*(r[h] for h in header), r["is_copy_only"]] for r in rows]
    with pytest.raises(InputError, match="named more than once: is_copy_only"):
        read(write_csv(tmp_path / "d.csv", [*header, "IS_COPY_ONLY"], out))


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("physical_device_name", ["a.trn", "b.trn"], "a list where a single value belongs"),
        ("database_name", {"name": "Sales"}, "an object where a single value belongs"),
        ("position", 0, "position 0 is out of range"),
        ("position", -1, "position -1 is out of range"),
        ("time_zone", 200, "time zone 200 is out of range"),
        ("family_sequence_number", 0, "family sequence number 0 is out of range"),
        ("mirror", -1, "mirror -1 is out of range"),
    ],
)
def test_bad_json_values_are_refused(tmp_path: Path, column: str, value: Any, words: str) -> None:
    header, rows = sample()
    rows[3][column] = value
    (tmp_path / "j.json").write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(InputError, match=f"row 4, column {column}: {words}"):
        read(str(tmp_path / "j.json"))


def test_time_zone_127_is_unknown() -> None:
    assert v.parse_time_zone("127") == 127 and v.parse_time_zone("-48") == -48


# -- 8. times with an offset ---------------------------------------------------------------------


def test_times_with_an_offset_become_server_local(tmp_path: Path, clean: list[Any]) -> None:
    header, rows = sample()
    shifted = []
    for r in rows:  # the same instants written in UTC: local - time_zone * 15 minutes
        r = dict(r)
        tz = int(r["time_zone"])
        for c in DATES:
            local = datetime.fromisoformat(r[c])
            r[c] = (local - (tz * 15) * (datetime(1, 1, 1, 0, 1) - datetime(1, 1, 1))).isoformat() + "Z"
        shifted.append(r)
    assert key(read(write_csv(tmp_path / "z.csv", header, shifted))) == clean


def test_an_offset_without_a_time_zone_is_refused(tmp_path: Path) -> None:
    header, rows = sample()
    rows[2]["backup_finish_date"] = "2026-11-08 22:45:20 +05:00"
    rows[2]["time_zone"] = ""
    with pytest.raises(InputError, match="row 4, column backup_finish_date: .*time-zone offset"):
        read(write_csv(tmp_path / "z.csv", header, rows))
    rows[2]["backup_finish_date"] = "2026-11-08 22:45:20"
    rows[2]["database_creation_date"] = "2026-01-01T00:00:00Z"
    with pytest.raises(InputError, match="row 4, column database_creation_date: .*offset"):
        read(write_csv(tmp_path / "z.csv", header, rows))


# -- 9, 10. CSV and JSON beyond the parsers' limits ----------------------------------------------


def test_an_unterminated_quote_names_its_row(tmp_path: Path) -> None:
    header, rows = sample()
    rows[10]["server_name"] = '"SQLPROD01'
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *([r[h] for h in header] for r in rows)])
    # unquote the writer's escaping: a stray quote that opens a field and never closes
    path = tmp_path / "q.csv"
    path.write_text(text.getvalue().replace('"""SQLPROD01"', '"SQLPROD01') * 40, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read(str(path))
    assert "row 12: not valid CSV" in exc.value.message and "quot" in (exc.value.hint or "")


def test_json_numbers_too_long_and_nesting_too_deep(tmp_path: Path) -> None:
    big = '[{"first_lsn": ' + "9" * 5000 + "}]"
    deep = '[{"first_lsn": ' + "[" * 100_000 + "]" * 100_000 + "}]"
    for text in (big, deep):
        with pytest.raises(InputError, match="not valid JSON for a history"):
            list(jsonstream.array_objects(text, io.StringIO(""), "x.json"))
        with pytest.raises(InputError, match="not valid JSON for a history"):
            load_json("{\"value\": " + text + "}", "x.json")
        (tmp_path / "x.json").write_text(text, encoding="utf-8")
        with pytest.raises(InputError):
            read(str(tmp_path / "x.json"))


# -- 11. msdb names through the dbatools readers -------------------------------------------------


def test_a_key_given_twice_in_one_json_object_is_refused(tmp_path: Path) -> None:
    header, rows = sample()
    text = json.dumps(rows[:3]).replace('"is_copy_only": "0"', '"is_copy_only": "0", "is_copy_only": "1"', 1)
    for wrapped in (text, '{"value": ' + text + "}"):
        (tmp_path / "k.json").write_text(wrapped, encoding="utf-8")
        with pytest.raises(InputError, match="key 'is_copy_only' appears twice"):
            read(str(tmp_path / "k.json"))
    with pytest.raises(InputError, match="appears twice"):
        dbatools.read_json_text(text.encode(), "k.json")


def test_raw_export_csv_forced_as_dbatools_csv(tmp_path: Path, clean: list[Any]) -> None:
    header, rows = sample()
    text = io.StringIO()
    w = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerows([header, *([r[h] for h in header] for r in rows)])
    path = tmp_path / "raw.csv"
    path.write_text("#TYPE System.Data.DataRow\n" + text.getvalue(), encoding="utf-8")
    assert key(read(str(path), fmt="dbatools-csv")) == clean
    (tmp_path / "s.json").write_text(json.dumps(rows), encoding="utf-8")
    assert key(read(str(tmp_path / "s.json"), fmt="dbatools-json")) == clean


# -- 12. HEADERONLY row numbers ------------------------------------------------------------------


def test_headeronly_rows_are_numbered_like_msdb_rows(tmp_path: Path) -> None:
    cols = ["BackupSetGUID", "BackupType", "DatabaseName", "FirstLSN", "LastLSN", "CheckpointLSN",
            "DatabaseBackupLSN", "BackupStartDate", "BackupFinishDate", "BackupPath"]  # fmt: skip
    good = ["3eaabe17-1d8a-4eac-a693-ae2d9a1e40b4", "1", "Sales", "100", "200", "150", "0",
            "2026-11-08 22:00:00", "2026-11-08 22:40:00", "D:\\b\\f.bak"]  # fmt: skip
    bad = list(good)
    bad[0], bad[3] = "3eaabe17-1d8a-4eac-a693-ae2d9a1e40b5", "12a"
    path = write_csv(tmp_path / "h.csv", cols, [good, [""] * len(cols), bad])
    with pytest.raises(InputError, match=r"h.csv, row 4, column FirstLSN"):
        read(path)


# -- 14. UTF-16 without a byte-order mark --------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_says_so(tmp_path: Path, encoding: str) -> None:
    header, rows = sample()
    path = tmp_path / "u.csv"
    write_csv(path, header, rows[:5])
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    with pytest.raises(InputError, match="UTF-16 without a byte-order mark"):
        read(str(path))


@pytest.mark.parametrize(
    ("mark_time", "words"),
    [("", "mark_time missing"), ("2026-11-19T09:20:00Z", "time-zone offset"), ("19/11", "")],
)
def test_a_mark_without_a_server_local_time_is_refused(tmp_path: Path, mark_time: str, words: str) -> None:
    """A mark is tied to the log backup that holds it by its time: no time, or a time with an
    offset msdb never prints, is one InputError naming the row, not datetime.min or a traceback."""
    from restoreplan.sources.load import _marks
    from restoreplan.sources.tabular import read_records

    path = write_csv(tmp_path / "marks.csv", ["database_name", "mark_name", "lsn", "mark_time"],
                     [["Sales", "m1", "41000000012300001", mark_time]])
    with pytest.raises(InputError) as err:
        _marks(read_records(path), path)
    assert "row 2" in err.value.message and words in err.value.message
