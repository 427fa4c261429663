"""Review 3: the simulated period holds a whole full cycle; huge or non-finite inputs are usage errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from restoreplan.cli.main import main
from restoreplan.core.errors import UsageError
from restoreplan.core.strategy.schedule import parse_duration, parse_schedule
from restoreplan.core.strategy.simulate import Workload, period_of, simulate

W = Workload(database_bytes=1e9, change_rate=0.05, log_bytes_per_hour=1e6)


def test_worst_steps_cover_a_whole_full_cycle_longer_than_the_period() -> None:
    s = parse_schedule("full=92d; log=1h")
    assert period_of(s) >= timedelta(days=92)
    o = simulate(s, W, timedelta(days=7))
    assert o.worst_steps == 92 * 24 + 1  # the point just before the next full needs every log since the last


def test_period_of_weekly_schedule_is_unchanged() -> None:
    assert period_of(parse_schedule("full=sun 18:00; diff=daily 18:00; log=15m")) == timedelta(days=7)


@pytest.mark.parametrize("text", ["1000000w", "99999999999d", "36501d"])
def test_huge_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="too long"):
        parse_duration(text, "retention window")


def test_huge_retention_in_simulate_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="too long"):
        simulate(parse_schedule("full=daily"), W, timedelta(days=400000))


def test_non_finite_workload_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        simulate(parse_schedule("full=daily; log=1h"), Workload(float("inf"), 0.5, 1.0), timedelta(days=1))


@pytest.mark.parametrize("args", [["--step-seconds", "1e308"], ["--retention", "1000000w"],
                                  ["--retention", "99999999999d"]])
def test_cli_huge_values_exit_2_with_one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategy", "-d", "Sales", "--no-classics", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
