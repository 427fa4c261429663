"""A JSON array is read a record at a time and gives what json.loads gives (issue 7: a
million-row msdb-json export held ~5 GiB when parsed whole)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import InputError
from restoreplan.sources import jsonstream
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.tabular import read_history_file

SAMPLE = Path(__file__).parents[2] / "restoreplan" / "data" / "sample_history.csv"
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(float),
)  # fmt: skip
records = st.dictionaries(st.text(max_size=8), st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=6)


def _objects(text: str, block: int | None = None) -> list[object]:
    return list(jsonstream.array_objects("", io.StringIO(text), "t.json", block))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(records, max_size=8), block=st.integers(1, 40), indent=st.sampled_from([None, 1]))
def test_same_as_json_loads_whatever_the_block_size(rows, block, indent):
    text = json.dumps(rows, indent=indent)
    assert _objects(text, block) == json.loads(text, parse_float=str)


def test_fractions_stay_text_so_lsns_never_pass_through_float():
    assert _objects('[{"first_lsn": 31000000029200001.0}]') == [{"first_lsn": "31000000029200001.0"}]


@pytest.mark.parametrize(
    "text, words",
    [
        ('[{"a": 1},\n{"a": 2}\n', "unterminated list at line 3"),
        ('[{"a": 1},\n{"a": 2', "at line 2"),
        ('[{"a": 1} {"a": 2}]', "expecting ',' delimiter"),
        ('[{"a": 1}]\n]', "extra data at line 2"),
        ('[{"a": 1}, 2]', "expected a JSON list of objects"),
        ('[{"a": 1},\n\n{"a": tru}]', "at line 3"),
    ],
)
def test_bad_json_names_its_line(text, words):
    for block in (3, 1 << 20):
        with pytest.raises(InputError, match="not valid JSON|expected a JSON list") as exc:
            _objects(text, block)
        assert words in exc.value.message


def _sets(path: str) -> list[object]:
    b = SetBuilder()
    read_history_file(path, b)
    return b.build()


def test_msdb_json_export_reads_as_its_csv(tmp_path, monkeypatch):
    csv_path = SAMPLE

    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    as_array = tmp_path / "array.json"
    as_array.write_text(json.dumps(rows, indent=2))
    as_object = tmp_path / "object.json"  # FOR JSON ... ROOT('backups'): parsed whole
    as_object.write_text(json.dumps({"backups": rows}))
    monkeypatch.setattr(jsonstream, "BLOCK", 97)  # many records straddle a block boundary
    expected = _sets(str(csv_path))
    assert _sets(str(as_array)) == expected
    assert _sets(str(as_object)) == expected


def test_an_empty_array_holds_no_rows(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text(" [ ]\n")
    with pytest.raises(InputError, match="holds no rows"):
        _sets(str(path))


def test_a_one_line_export_and_leading_blank_lines(tmp_path, monkeypatch):
    """The file's kind is sniffed from its first non-blank character, not its first line (a
    JSON export may be one line of a gigabyte); error lines count the blank lines before."""
    with open(SAMPLE, newline="") as fh:
        rows = list(csv.DictReader(fh))
    one_line = tmp_path / "one.json"
    one_line.write_text("\n \n" + json.dumps(rows))
    monkeypatch.setattr(jsonstream, "BLOCK", 1000)
    assert _sets(str(one_line)) == _sets(str(SAMPLE))
    bad = tmp_path / "bad.json"
    bad.write_text('\n\n  [\n{"a": }]')
    with pytest.raises(InputError, match="at line 4"):
        _sets(str(bad))
    blank = tmp_path / "blank.csv"
    blank.write_text(" \n\t\n")
    with pytest.raises(InputError, match="the file is empty"):
        _sets(str(blank))
    indented = tmp_path / "indented.csv"
    indented.write_text("\n\n  " + SAMPLE.read_text())
    assert _sets(str(indented)) == _sets(str(SAMPLE))


def test_a_bad_record_is_reported_without_reading_the_rest_of_the_file(monkeypatch):
    """Past LONGEST characters a record that does not decode is bad, not incomplete."""
    monkeypatch.setattr(jsonstream, "LONGEST", 50)
    rest = io.StringIO(",\n".join(['{"a": 1}'] * 1000) + "]")
    records = jsonstream.array_objects('[{"a": tru},\n', rest, "t.json", 10)
    with pytest.raises(InputError, match="at line 1"):
        next(records)
    assert rest.tell() < 100
