"""The --schedule syntax: what it accepts, what it refuses (exit 2), and occurrence times."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from restoreplan.cli.main import main
from restoreplan.core.errors import UsageError
from restoreplan.core.strategy.schedule import (
    ALL_DAYS,
    Cadence,
    parse_duration,
    parse_schedule,
)


@pytest.mark.parametrize(("spec", "text"), [
    ("full=sun 18:00; diff=daily 18:00; log=3h", "full=sun 18:00; diff=daily 18:00; log=3h"),
    ("full=daily 02:00", "full=daily 02:00; diff=none; log=none"),
    ("full=daily 02:00; diff=none; log=15m", "full=daily 02:00; diff=none; log=15m"),
    ("full=sun,wed 22:00; log=30m", "full=wed,sun 22:00; diff=none; log=30m"),
    ("FULL=Sunday 1:05 ; LOG = every 1h", "full=sun 01:05; diff=none; log=1h"),
    ("full=mon-fri 23:00; diff=sat,sun 23:00", "full=weekdays 23:00; diff=weekends 23:00; log=none"),
    ("full=fri-mon", "full=mon,fri,sat,sun 00:00; diff=none; log=none"),
    ("full=7d; log=90m", "full=7d; diff=none; log=90m"),
    ("full=daily 06:00,18:00; log=5m", "full=daily 06:00,18:00; diff=none; log=5m"),
    ("full=weekdays 21:00; differential=daily 09:00; logs=1h", "full=weekdays 21:00; diff=daily 09:00; log=1h"),
])
def test_good_syntax(spec: str, text: str) -> None:
    s = parse_schedule(spec)
    assert s.text() == text
    assert parse_schedule(s.text()).same_cadences(s)  # the canonical text reads back the same


def test_label() -> None:
    s = parse_schedule("nightly: full=daily 02:00; log=15m")
    assert s.name == "nightly"
    assert s.full == Cadence.on(ALL_DAYS, time(2, 0))
    assert parse_schedule("full=daily 02:00", "given 1").name == "given 1"


@pytest.mark.parametrize(("spec", "why"), [
    ("", "needs fulls"),
    ("diff=daily 18:00; log=3h", "needs fulls"),
    ("full=none; log=15m", "needs fulls"),
    ("full=sun 25:00", "time of day"),
    ("full=sun 18:60", "time of day"),
    ("full=funday 18:00", "unknown weekday"),
    ("full=sun 18:00; log=0m", "between 1m and 92d"),
    ("full=sun 18:00; log=100d", "between 1m and 92d"),
    ("full=sun 18:00; log=3x", "unknown weekday"),
    ("full=sun 18:00; full=mon 18:00", "given twice"),
    ("full=sun 18:00; tail=1h", "unknown backup kind"),
    ("full sun 18:00", "not KIND=CADENCE"),
    ("full=", "no cadence"),
    ("full=sun 18:00 extra", "cannot read"),
    ("full=mon-", "range"),
])
def test_bad_syntax(spec: str, why: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_schedule(spec)
    assert why in exc.value.message
    assert "full=sun 18:00; diff=daily 18:00; log=3h" in exc.value.hint


def test_bad_schedule_exits_2_with_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategy", "--schedule", "full=sun 18:00; log=3q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("restoreplan: usage: bad schedule")


@pytest.mark.parametrize("args", [["--retention", "7x"], ["--retention", "0d"], ["--diff-threshold", "150%"],
                                  ["--diff-threshold", "abc"], ["--restore-rate", "fast"],
                                  ["--step-seconds", "-1"], ["--database", "NoSuchDb"]])
def test_bad_options_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategy", *args]) == 2
    assert "restoreplan: usage:" in capsys.readouterr().err


def test_durations() -> None:
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("36h") == timedelta(hours=36)
    assert parse_duration("2w") == timedelta(days=14)
    assert parse_duration("1.5d") == timedelta(hours=36)


def test_occurrences() -> None:
    c = parse_schedule("full=sun,wed 22:00").full
    got = list(c.occurrences(datetime(2026, 11, 2), datetime(2026, 11, 16)))  # Mon 2nd .. Mon 16th
    assert got == [datetime(2026, 11, d, 22) for d in (4, 8, 11, 15)]
    assert c.longest_gap == timedelta(days=4)
    iv = parse_schedule("full=sun; log=3h").log
    assert iv is not None
    assert list(iv.occurrences(datetime(2026, 11, 2, 1), datetime(2026, 11, 2, 10))) == [
        datetime(2026, 11, 2, h) for h in (3, 6, 9)]
    two = parse_schedule("full=daily 06:00,18:00").full
    assert two.longest_gap == timedelta(hours=12)
