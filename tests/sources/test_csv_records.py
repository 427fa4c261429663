"""The CSV record reader splits plain lines itself: it must read exactly what csv.reader reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import InputError
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.tabular import _records, read_history_file

Outcome = tuple[str, object]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _outcome(read: Callable[[], list[list[str]]]) -> Outcome:
    try:
        return "rows", read()
    except csv.Error as exc:
        return "error", str(exc)


def _both(lines: list[str], delimiter: str) -> tuple[Outcome, Outcome]:
    return (
        _outcome(lambda: list(_records(iter(lines), delimiter))),
        _outcome(lambda: list(csv.reader(lines, delimiter=delimiter))),
    )


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='ab ,;|\t"\r\n\x00', max_size=120), st.sampled_from([",", ";", "\t", "|"]))
def test_records_are_csv_readers_records(text: str, delimiter: str) -> None:
    # the lines as a file opened with newline="" gives them (how the history is read)
    lines = list(io.StringIO(text, newline=""))
    ours, theirs = _both(lines, delimiter)
    assert ours == theirs


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet='ab ,"', max_size=12), max_size=8))
def test_records_of_rejoined_lines(cells: list[str]) -> None:
    # csv_rows' path: lines without their breaks, each given back a "\n"
    lines = [c + "\n" for c in cells]
    ours, theirs = _both(lines, ",")
    assert ours == theirs


@pytest.mark.parametrize(
    "lines",
    [
        ["\n", "\r\n", "\r", "a\n", "a,b\r\n", "a,b"],  # blank lines are the record []
        ['x,"two\n', 'lines",y\n', "p,q\n"],  # a quoted field spanning lines, then a plain line
        ['x,"never closed\n', "a,b\n"],  # csv.reader (not strict) keeps what it has at the end
        ["a,b\n", '"c"\n', "d,e\n", '"f\n'],
    ],
)
def test_records_edge_lines(lines: list[str]) -> None:
    ours, theirs = _both(lines, ",")
    assert ours == theirs


def test_a_field_over_csvs_limit_is_still_refused() -> None:
    long = "a" * (csv.field_size_limit() + 1)
    ours, theirs = _both(["x,y\n", f"{long},b\n"], ",")
    assert ours == theirs
    assert ours[0] == "error"


def test_a_file_with_a_long_plain_field_gives_one_line(tmp_path: Path) -> None:
    header, row = (FIXTURES / "sales_47eaa099.csv").read_text(encoding="utf-8").splitlines()[:2]
    cells = row.split(",")
    cells[header.split(",").index("physical_device_name")] = "a" * 200_000
    path = tmp_path / "h.csv"
    path.write_text(f"{header}\n{','.join(cells)}\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2: not valid CSV"):
        read_history_file(str(path), SetBuilder())


def test_a_header_field_over_csvs_limit_gives_one_line(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("a" * 200_000 + ",type\nx,D\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 1: not valid CSV"):
        read_history_file(str(path), SetBuilder())
