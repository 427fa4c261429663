"""The column-at-a-time parser returns exactly what the cell-at-a-time one does (issue 7).

Rows are written with the spellings real exports use (upper-case and braced GUIDs, padded
cells, NULL, hex LSNs, datetime2's seven fractional digits, numbers ending in .0) and read
both ways: as chunks, and a row at a time through the parser the chunks fall back to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import InputError
from restoreplan.sources.canonical import CHUNK, SetBuilder
from restoreplan.sources.columns import ALL

BASE = {
    "database_name": "Sales", "type": "L", "database_backup_lsn": "31000000029200001",
    "backup_start_date": "2026-11-08 22:00:00.000", "backup_finish_date": "2026-11-08 22:40:00.000",
    "family_guid": "47eaa099-2cb6-416d-86dc-283cf0480ff9", "time_zone": "-20", "is_copy_only": "0",
    "family_sequence_number": "1", "mirror": "0", "media_family_count": "1", "backup_size": "1024",
}  # fmt: skip


def _guid(n: int) -> str:
    return f"{n:08x}-1d8a-4eac-a693-ae2d9a1e40b4"


guid_spelling = st.sampled_from(["{}", "{{{}}}", " {} ", "UPPER"])
lsn_spelling = st.sampled_from(["{}", " {} ", "{}.0", "hex"])
date_spelling = st.sampled_from(["{}", " {} ", "{}0000", "T"])
int_spelling = st.sampled_from(["{}", " {} ", "{}.0", "", "NULL"])
text_spelling = st.sampled_from(["{}", " {} ", "", "NULL", "none"])
flag = st.sampled_from(["0", "1", "True", "false", "", "NULL"])


def _spell(template: str, value: str) -> str:
    if template == "UPPER":
        return value.upper()
    if template == "hex":
        n = int(value)
        vlf, rest = divmod(n, 10**15)
        block, slot = divmod(rest, 10**5)
        return f"{vlf:08x}:{block:08x}:{slot:04x}"
    if template == "T":
        return value.replace(" ", "T")
    return template.format(value)


@st.composite
def rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """Rows whose columns each keep one spelling (so whole columns take the C path), with a
    different spelling in some cells (so some columns leave it)."""
    spelling = {
        "backup_set_uuid": guid_spelling, "first_lsn": lsn_spelling, "last_lsn": lsn_spelling,
        "checkpoint_lsn": lsn_spelling, "backup_start_date": date_spelling,
        "backup_finish_date": date_spelling, "backup_set_id": int_spelling,
        "compressed_backup_size": int_spelling, "server_name": text_spelling,
        "physical_device_name": text_spelling, "database_name": st.sampled_from(["{}", " {} "]),
    }  # fmt: skip
    usual = {column: draw(s) for column, s in spelling.items()}

    def spell(column: str, value: str) -> str:
        how = draw(spelling[column]) if draw(st.integers(0, 9)) == 0 else usual[column]
        return _spell(how, value)

    out = []
    lsn = 31000000029200001
    for i in range(draw(st.integers(1, 12))):
        first, lsn = lsn, lsn + draw(st.integers(0, 500)) * 100000
        row = dict(BASE)
        row["backup_set_uuid"] = spell("backup_set_uuid", _guid(draw(st.integers(0, 6))))
        row["first_lsn"] = spell("first_lsn", str(first))
        row["last_lsn"] = spell("last_lsn", str(lsn))
        row["checkpoint_lsn"] = spell("checkpoint_lsn", str(first))
        row["backup_start_date"] = spell("backup_start_date", f"2026-11-08 22:{i:02d}:00.000")
        row["backup_finish_date"] = spell("backup_finish_date", f"2026-11-08 22:{i:02d}:30.000")
        row["backup_set_id"] = spell("backup_set_id", str(i + 1))
        row["compressed_backup_size"] = spell("compressed_backup_size", str(100 + i))
        row["server_name"] = spell("server_name", "SQL01")
        row["physical_device_name"] = spell("physical_device_name", f"/b/log{i}.trn")
        row["database_name"] = spell("database_name", "Sales")
        row["is_damaged"] = draw(flag)
        out.append(row)
    return out


def _one_row_at_a_time(
    b: SetBuilder, columns: list[str] | tuple[str, ...], rows: list[list[object]], origin: str, *, typed: bool
) -> None:
    """The reference: the builder's row-at-a-time parser, which the chunk parser falls back to."""
    plan = b.plan(columns, typed=typed)
    for row_no, row in enumerate(rows, start=1):
        b._add_row(plan, row, origin, row_no)


def _read(build: str, data: list[dict[str, str]]) -> object:
    b = SetBuilder()
    try:
        if build == "chunk":
            b.add_rows(ALL, [[r.get(c, "") for c in ALL] for r in data], "h")
        else:
            _one_row_at_a_time(b, ALL, [[r.get(c, "") for c in ALL] for r in data], "h", typed=False)
        return b.build()
    except InputError as exc:
        return ("error", exc.message)


@given(rows())
def test_chunk_and_row_parsers_agree(data: list[dict[str, str]]) -> None:
    assert _read("chunk", data) == _read("rows", data)


@pytest.mark.parametrize(
    ("column", "value"),
    [("first_lsn", "1_000"), ("first_lsn", "١٢"), ("backup_set_id", "x"),
     ("backup_set_uuid", "3eaabe17-1d8a-4eac-a693-ae2d9a1e40b4\n3eaabe17-1d8a-4eac-a693-ae2d9a1e40b5"),
     ("physical_device_name", "NULL"), ("type", "X")],
)  # fmt: skip
def test_chunk_refusals_match_the_row_parser(column: str, value: str) -> None:
    data = [dict(BASE, backup_set_uuid=_guid(1), first_lsn="1", last_lsn="2", checkpoint_lsn="1",
                 physical_device_name="/b/x.trn")]  # fmt: skip
    data.append({**data[0], "backup_set_uuid": _guid(2), column: value})
    chunk = _read("chunk", data)
    assert chunk == _read("rows", data)
    assert isinstance(chunk, tuple), "each of these values is refused"


@st.composite
def typed_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    """Rows as ODBC drivers return them: ints, datetimes, bools and None beside texts."""
    out: list[dict[str, object]] = []
    lsn = 31000000029200001
    cell = st.sampled_from(["value", "text", "none"])
    usual = {c: draw(cell) for c in ("lsn", "date", "flag", "base", "created")}

    def pick(kind: str) -> str:
        return draw(cell) if draw(st.integers(0, 9)) == 0 else usual[kind]

    for i in range(draw(st.integers(1, 10))):
        first, lsn = lsn, lsn + draw(st.integers(0, 500)) * 100000
        row: dict[str, object] = dict(BASE)
        row["backup_set_uuid"] = _guid(draw(st.integers(0, 6)))
        for column, value in (("first_lsn", first), ("last_lsn", lsn), ("checkpoint_lsn", first)):
            how = pick("lsn")
            row[column] = value if how == "value" else str(value) if how == "text" else None
        start = datetime(2026, 11, 8, 22, i)
        how = pick("date")
        row["backup_start_date"] = start if how != "text" else str(start)
        row["backup_finish_date"] = start + timedelta(seconds=30)
        how = pick("flag")
        row["is_copy_only"] = True if how == "value" else "0" if how == "text" else None
        how = pick("base")
        row["differential_base_lsn"] = first if how == "value" else str(first) if how == "text" else None
        how = pick("created")
        row["database_creation_date"] = (datetime(2020, 1, 2) if how == "value" else
                                         "2020-01-02 00:00:00" if how == "text" else None)  # fmt: skip
        row["time_zone"] = draw(st.sampled_from([-20, "-20", True, None]))
        row["physical_device_name"] = f"/b/log{i}.trn"
        out.append(row)
    return out


@given(typed_rows())
def test_typed_chunks_agree_with_typed_rows(data: list[dict[str, object]]) -> None:
    columns = list(ALL)

    def read(build: str) -> object:
        b = SetBuilder()
        try:
            if build == "chunk":
                plan = b.plan(columns, typed=True)
                cells = [[r.get(c) for c in columns] for r in data]
                b.add_chunk(plan, cells, "m", range(1, len(cells) + 1))
            else:
                _one_row_at_a_time(b, columns, [[r.get(c) for c in columns] for r in data], "m", typed=True)
            return b.build()
        except InputError as exc:
            return ("error", exc.message)

    assert read("chunk") == read("rows")


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2 * CHUNK + 99), st.integers(0, 2 * CHUNK + 99)), max_size=6))
def test_stripes_across_chunks_keep_their_order(repeats: list[tuple[int, int]]) -> None:
    """Rows of one set (a stripe: its second media family) within a chunk or in a later one
    merge into the set; the other rows of their chunk go in at once, in the order read."""
    data = []
    for i in range(2 * CHUNK + 100):
        data.append(dict(BASE, backup_set_uuid=_guid(i), first_lsn=str(31000000029200001 + i * 100000),
                         last_lsn=str(31000000029200001 + (i + 1) * 100000),
                         checkpoint_lsn=str(31000000029200001 + i * 100000),
                         physical_device_name=f"/b/log{i}.trn", media_family_count="2"))  # fmt: skip
    for of, at in repeats:  # the set of row ``of`` again, as its second family, at ``at``
        data.insert(at, dict(data[of], family_sequence_number="2", physical_device_name=f"/b/log{of}_2.trn"))
    assert _read("chunk", data) == _read("rows", data)
