"""Measures of generated histories match the parameters they were generated with."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from restoreplan.core.strategy.advise import advise, crossing_days
from restoreplan.core.strategy.infer import infer_schedule
from restoreplan.core.strategy.measure import measure_lineage
from restoreplan.samplegen import DatabaseSim
from tests.strategy.helpers import SUNDAY_22, busy_lineage, history_of


@pytest.mark.parametrize("rate", [0.04, 0.10])
def test_change_rate_matches_the_generated_rate(rate: float) -> None:
    m = measure_lineage(busy_lineage(28, change_rate=rate))
    assert m.change_rate == pytest.approx(rate, rel=0.02)  # fulls grow by <= 0.4% after the base
    assert m.diff_count == len(m.diff_points) == 24  # 4 weeks, 6 differentials each
    assert {round(p.days) for p in m.diff_points} == {1, 2, 3, 4, 5, 6}


def test_log_rate_matches_the_generated_rate() -> None:
    m = measure_lineage(busy_lineage(28, log_rate=300 * 2**20))
    # the 22:00 slot takes a full or differential instead of a log: 95 of 96 quarters hold log bytes
    assert m.log_bytes_per_hour == pytest.approx(300 * 2**20, rel=0.03)
    assert all(v is not None for v in m.log_by_hour) and all(v is not None for v in m.log_by_weekday)
    busiest_quiet = [v for h, v in enumerate(m.log_by_hour) if h != 22]
    assert min(busiest_quiet) == pytest.approx(300 * 2**20, rel=0.15)  # type: ignore[type-var]


def test_compression_size_and_speed() -> None:
    m = measure_lineage(busy_lineage(14))
    assert m.compression.full == pytest.approx(0.35, abs=1e-6)
    assert m.compression.log == pytest.approx(0.35, abs=1e-6)
    assert m.database_bytes == m.full_sizes[-1].bytes
    assert 0 <= m.growth_bytes_per_day < m.database_bytes * 0.004
    # fulls take 25 minutes in the generator
    assert m.backup_rate == pytest.approx(sum(p.bytes for p in m.full_sizes) / (len(m.full_sizes) * 1500))


def test_inferred_schedule_of_busy_week() -> None:
    inferred = infer_schedule(busy_lineage(28, log_minutes=30))
    assert inferred.schedule is not None
    assert inferred.schedule.text() == "full=sun 22:00; diff=daily 22:00; log=30m"


def test_infer_daily_fulls_without_logs() -> None:
    sim = DatabaseSim("Nightly", "SQL01", random.Random(3), size=2**30)
    sim.set_simple()
    for day in range(10):
        sim.full(datetime(2026, 11, 2, 2, 0) + timedelta(days=day))
    (lin,) = history_of(sim).lineages.values()
    inferred = infer_schedule(lin)
    assert inferred.schedule is not None
    assert inferred.schedule.text() == "full=daily 02:00; diff=none; log=none"
    m = measure_lineage(lin)
    assert m.log_bytes_per_hour is None and m.change_rate is None


def test_advice_projects_the_threshold_crossing() -> None:
    lin = busy_lineage(10, change_rate=0.1)  # fulls Sun 8th and Sun 15th, diffs Mon 16th, Tue 17th
    m = measure_lineage(lin)
    current = infer_schedule(lin).schedule
    a = advise(lin, m, current, 0.5)
    assert not a.crossed
    assert a.latest_fraction == pytest.approx(1 - 0.9**2, rel=0.01)
    # 1 - 0.9^N = 0.5  ->  N = ln 0.5 / ln 0.9 = 6.58 days after the base full
    assert a.crossing_days == pytest.approx(6.579, rel=0.02)
    assert a.base_time == SUNDAY_22 + timedelta(days=7)
    assert a.next_scheduled_full == SUNDAY_22 + timedelta(days=14)
    # the next scheduled full (7 days after the base) comes after the crossing (6.58 days)
    assert a.crossing_time is not None and a.crossing_time < a.next_scheduled_full
    assert a.message.startswith("take the next full by 2026-11-22 ")
    later = advise(lin, m, current, 0.6)  # N = ln 0.4 / ln 0.9 = 8.7 days: the Sunday full is first
    assert "comes first" in later.message
    flagged = advise(lin, m, current, 0.15)
    assert flagged.crossed and "take a full now" in flagged.message
    assert flagged.diffs_past_threshold > 0


def test_crossing_days_edges() -> None:
    assert crossing_days(None, 0.5) is None
    assert crossing_days(0.0, 0.5) is None
    assert crossing_days(0.5, 0.5) == pytest.approx(1.0)
