"""Dates outside what msdb holds are refused at the edge with one message, never an overflow
later (a UTC shift of 9999-12-31; robustness review)."""

from __future__ import annotations

from datetime import datetime

import pytest

from restoreplan.core.errors import InputError
from restoreplan.sources import headeronly, rds_instance
from restoreplan.sources import values as v


@pytest.mark.parametrize("raw", ["9999-12-31 23:59:59", "9999-12-30T00:00:00", "1752-12-31", "0001-01-01",
                                 datetime(9999, 12, 31)])
def test_parse_datetime_refuses_dates_outside_msdbs_range(raw: object) -> None:
    with pytest.raises(v.ValueProblem, match="1753-01-01 .. 9999-12-29"):
        v.parse_datetime(raw)


def test_the_edges_are_read() -> None:
    assert v.parse_datetime("1753-01-01") == datetime(1753, 1, 1)
    assert v.parse_datetime("9999-12-29 23:59:59.999") == datetime(9999, 12, 29, 23, 59, 59, 999000)


@pytest.mark.parametrize("raw", ["/Date(99999999999999999999)/", "/Date(253402300799000)/", "/Date(-99999999999999)/"])
def test_dbatools_ms_dates_outside_the_range_are_refused(raw: str) -> None:
    with pytest.raises(headeronly.CellProblem, match="outside the dates"):
        headeronly.parse_when(raw)


def test_aws_timestamps_outside_the_range_are_refused() -> None:
    with pytest.raises(InputError, match="outside the dates"):
        rds_instance._utc("9999-12-31T23:59:59-14:00")
