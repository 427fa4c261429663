"""Simulator invariants, over random schedules and workloads (hypothesis)."""

from __future__ import annotations

from datetime import time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from restoreplan.core.strategy.schedule import Cadence, Schedule
from restoreplan.core.strategy.simulate import Workload, simulate

LOG_INTERVALS = [timedelta(minutes=m) for m in (30, 60, 120, 180, 240, 360, 720)]  # divide a week

days = st.frozensets(st.integers(0, 6), min_size=1)
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 30]))
logs = st.one_of(st.none(), st.sampled_from(LOG_INTERVALS).map(Cadence.every))
diffs = st.one_of(st.none(), st.builds(lambda d, t: Cadence.on(d, t), days, times))
workloads = st.builds(
    Workload,
    database_bytes=st.integers(1_000, 10**9).map(float),
    change_rate=st.floats(0.0, 0.5),
    log_bytes_per_hour=st.floats(0.0, 10**8),
    full_ratio=st.floats(0.1, 1.0),
    diff_ratio=st.floats(0.1, 1.0),
    log_ratio=st.floats(0.1, 1.0),
    restore_rate=st.floats(1e3, 1e9),
)
retentions = st.integers(1, 21 * 24).map(lambda h: timedelta(hours=h))


@settings(max_examples=60, deadline=None)
@given(days, days, times, diffs, logs, workloads, retentions)
def test_more_fulls_never_increase_restore_steps(a, extra, at, diff, log, w, r) -> None:
    few = Schedule("few", Cadence.on(a, at), diff, log)
    many = Schedule("many", Cadence.on(a | extra, at), diff, log)
    o_few, o_many = simulate(few, w, r), simulate(many, w, r)
    assert o_many.worst_steps <= o_few.worst_steps
    assert o_many.average_steps <= o_few.average_steps + 1e-9


@settings(max_examples=60, deadline=None)
@given(days, times, diffs, logs, workloads, retentions, retentions)
def test_storage_is_monotone_in_retention(full_days, at, diff, log, w, r1, r2) -> None:
    s = Schedule("s", Cadence.on(full_days, at), diff, log)
    short, long_ = sorted((r1, r2))
    a, b = simulate(s, w, short), simulate(s, w, long_)
    assert a.peak_storage <= b.peak_storage + 1
    assert a.average_storage <= b.average_storage + 1
    # restore steps and bytes do not depend on how long backups are kept
    assert (a.worst_steps, a.worst_restore_bytes) == (b.worst_steps, b.worst_restore_bytes)
    assert abs(a.average_steps - b.average_steps) < 1e-6


@settings(max_examples=60, deadline=None)
@given(days, times, diffs, logs, workloads, retentions)
def test_basic_bounds(full_days, at, diff, log, w, r) -> None:
    s = Schedule("s", Cadence.on(full_days, at), diff, log)
    o = simulate(s, w, r)
    assert 1 <= o.average_steps <= o.worst_steps
    assert o.worst_steps <= 2 + (0 if log is None else int(timedelta(days=7) / log.interval) + 1)
    assert o.average_storage <= o.peak_storage
    # at least the newest full and the one covering the retention edge... or the same one
    assert o.peak_storage >= round(w.database_bytes * w.full_ratio)
    assert o.worst_restore_bytes >= round(w.database_bytes * w.full_ratio)
    if log is not None:  # a full or differential between two logs is a restore point too
        assert o.rpo <= log.interval
        on_a_log = at.minute == 0 and at.hour % 12 == 0 and log.interval <= timedelta(hours=12)
        if diff is None and on_a_log:  # every full coincides with a log
            assert o.rpo == log.interval
    assert o.worst_restore_seconds is not None and o.worst_restore_seconds > 0
    assert o.backups_per_week[0] == len(full_days)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(LOG_INTERVALS), st.sampled_from(LOG_INTERVALS), workloads, retentions)
def test_more_frequent_logs_never_lose_more_data(i1, i2, w, r) -> None:
    daily = Cadence.on(frozenset(range(7)), time(0, 0))
    slow, fast = sorted((i1, i2))[::-1]
    o_slow = simulate(Schedule("slow", daily, None, Cadence.every(slow)), w, r)
    o_fast = simulate(Schedule("fast", daily, None, Cadence.every(fast)), w, r)
    assert o_fast.rpo <= o_slow.rpo
