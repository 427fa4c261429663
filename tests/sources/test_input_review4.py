"""Inputs refused where a guess or a silent merge would change a plan (robustness review, 4th)."""

from __future__ import annotations

import json

import pytest

from restoreplan.core.errors import InputError, RestorePlanError
from restoreplan.sources import dbatools
from restoreplan.sources import values as v
from restoreplan.sources.load import _database_files, _marks

U = "aaaaaaaa-0000-4000-8000-000000000001"


@pytest.mark.parametrize(("parse", "bad", "good"), [
    (v.parse_position, "9" * 38, 2**31 - 1),  # WITH FILE = 999...: msdb's position is an int
    (v.parse_family, "65", 64),  # 64 stripes at most
    (v.parse_mirror, "4", 3),  # 4 mirrors at most
])
def test_media_numbers_stay_within_msdbs_types(parse, bad, good) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(v.ValueProblem, match="out of range"):
        parse(bad)
    assert parse(str(good)) == good


def test_backup_files_list_each_logical_file_once_with_a_known_type() -> None:
    row = {"backup_set_uuid": U, "logical_name": "Sales", "physical_name": r"D:\Sales.mdf", "file_type": "D"}
    assert len(_database_files([row, dict(row)], "bf.csv")[U]) == 1  # the same row twice: one file
    with pytest.raises(InputError, match="row 3: backup set .* lists logical file 'Sales' twice"):
        _database_files([row, {**row, "physical_name": r"E:\Sales.mdf"}], "bf.csv")
    with pytest.raises(InputError, match="row 2: unknown file_type 'X'"):
        _database_files([{**row, "file_type": "X"}], "bf.csv")
    assert _database_files([{**row, "file_type": "s"}], "bf.csv")[U][0].file_type == "S"


def test_a_mark_given_twice_with_two_times_is_a_conflict() -> None:
    mark = {"database_name": "Sales", "mark_name": "m", "lsn": "1000", "mark_time": "2026-01-05 10:00:00"}
    assert len(_marks([mark, dict(mark)], "marks.csv")) == 1
    with pytest.raises(InputError, match="row 3: mark 'm' of Sales at LSN 1000 has mark_time"):
        _marks([mark, {**mark, "mark_time": "2026-01-05 11:00:00"}], "marks.csv")


def test_a_powershell_wrapper_whose_count_disagrees_is_refused() -> None:
    """{"value": [4 rows], "Count": 5}: a row is missing, and nothing said so."""
    rows = [{"Database": "Sales"}] * 4
    with pytest.raises(RestorePlanError, match="Count 5 but holds 4 objects"):
        dbatools.read_json_text(json.dumps({"value": rows, "Count": 5}).encode(), "h.json")


def test_an_error_line_stays_one_line_whatever_a_name_holds() -> None:
    """A newline in an S3 key made the "one line" error span two (robustness review)."""
    err = InputError("key 's3://b/x\n--*/GO' is refused\u2028here", hint="a\tb")
    assert err.one_line() == "key 's3://b/x\\n--*/GO' is refused\\u2028here (hint: a\\tb)"
    assert "\n" not in err.one_line()
