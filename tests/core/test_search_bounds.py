"""What keeps searches linear in the history: the log-count bound that stops the planner's
search early, the run index, the one-sweep subtraction of bulk-logged holes from a window, and
how much work a plan or an audit takes beside copy-only logs or in SIMPLE recovery (counted,
never timed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

import restoreplan.core.choice as choice
from restoreplan.core.audit import audit_lineage
from restoreplan.core.chain import Goal, SearchNotes, search_logs
from restoreplan.core.cover import LogCover, cover_of
from restoreplan.core.history import RunEnds
from restoreplan.core.planner import PlanOptions, plan_lineage
from restoreplan.core.target import RecoveryTarget
from restoreplan.core.windows import data_starts
from tests.builders import diff, full, history, log
from tests.core.test_property_planner import EVENTS, START, built


def test_the_bound_counts_greedy_logs_up_to_one_that_reaches_the_time():
    f = full("10:00", 100, 110)
    sets = [f, log("10:15", 90, 150), log("10:30", 150, 180), log("10:45", 180, 200),
            log("10:40", 150, 195, is_copy_only=True)]
    [lin] = history(*sets).lineages.values()
    cover = cover_of(lin)
    t = lin.reach_key(sets[3])  # 10:45: the 10:15 log, then the copy-only one (furthest), then 10:45
    assert cover.needs_at_least(110, t, 3)
    assert not cover.needs_at_least(110, t, 4)
    assert not cover.needs_at_least(110, lin.reach_key(sets[1]), 2)  # 10:15 alone
    assert cover.needs_at_least(50, t, 99)  # no log holds LSN 50: no path at all


@settings(max_examples=300, deadline=None)
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=20), offset=st.integers(0, 220))
def test_the_bound_never_exceeds_a_real_paths_logs(events, offset):
    found = built(events)
    if found is None:
        return
    _, lin = found
    cover = LogCover.of(lin)
    goal = Goal(time=START + timedelta(minutes=offset))
    for f, d in data_starts(lin):
        last = d or f
        path = search_logs(lin, last.last_lsn.value, last.last_recovery_fork_guid, lin.finish_key(last), goal,
                           SearchNotes())
        if path is not None:
            assert not cover.needs_at_least(last.last_lsn.value, goal.time, path.steps + 1)


@settings(max_examples=300, deadline=None)
@given(runs=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 30)), max_size=40),
       count=st.integers(0, 45), lsn=st.integers(0, 90))
def test_run_ends_finds_exactly_the_runs_that_end_after_an_lsn(runs, count, lsn):
    ends = [start + length for start, length in sorted(runs)]
    expected = [j for j in range(min(count, len(ends)) - 1, -1, -1) if ends[j] > lsn]
    assert RunEnds(ends).after(count, lsn) == expected


def chain_with_copy_only_logs(days: int) -> list:
    """A full, then each day four logs (the third one copy-only, beside the chain) and a
    differential: every copy-only log is a run of its own over the chain."""
    t = datetime(2026, 1, 1)
    f = full(t, 1000, 1005, size=1000)
    sets, end, pos = [f], 1000, 1010
    for _ in range(days):
        for j in range(4):
            t += timedelta(minutes=15)
            copy_only = j == 2
            sets.append(log(t, end, pos + 5, size=50, is_copy_only=copy_only))
            if not copy_only:
                end = pos + 5
            pos += 10
        t += timedelta(minutes=1)
        sets.append(diff(t, pos, pos + 5, f, size=300))
        pos += 10
    return sets


def test_a_plan_beside_copy_only_logs_searches_from_the_newest_data_backups_only(monkeypatch):
    # Every data backup used to be searched from, and each search walked every run: a plan on
    # 400 days of this took 100 s. Now the bound stops the search after the newest ones.
    calls = []

    def counted(*args, **kw):
        calls.append(args[1])
        return search_logs(*args, **kw)

    monkeypatch.setattr(choice, "search_logs", counted)
    [lin] = history(*chain_with_copy_only_logs(300)).lineages.values()
    assert len(lin.runs) > 300
    last = max(s.backup_finish_date for s in lin.sets)
    plan = plan_lineage(lin, RecoveryTarget.at(last - timedelta(minutes=3)), PlanOptions(tail="never"))
    assert len(plan.restore_steps) == 5  # full, the last differential, its three logs
    assert len(calls) <= 2
    calls.clear()
    a = audit_lineage(lin)
    assert a.worst_steps is not None and a.worst_steps.steps == 6
    assert len(calls) <= 3 * len(data_starts(lin))  # a few searches per instant, not one per start


def test_older_data_backups_are_not_visited_one_by_one_once_a_plan_is_a_single_restore(monkeypatch):
    # SIMPLE recovery, a full every day: at a full's finish the plan is that full alone, and
    # no older start can beat one step; the search used to step through every older full.
    looked = []
    original = choice._full_only_before

    def counted(lin):
        looked.append(1)
        return original(lin)

    monkeypatch.setattr(choice, "_full_only_before", counted)
    t = datetime(2026, 1, 1)
    sets = []
    for day in range(300):
        f = full(t + timedelta(days=day), 1000 + 20 * day, 1005 + 20 * day, recovery_model="SIMPLE")
        sets += [f, diff(t + timedelta(days=day, hours=12), 1010 + 20 * day, 1015 + 20 * day, f,
                         recovery_model="SIMPLE")]
    [lin] = history(*sets).lineages.values()
    a = audit_lineage(lin)
    assert a.worst_steps is not None and a.worst_steps.steps == 2
    assert len(looked) <= 2 * len(data_starts(lin))


@settings(max_examples=300, deadline=None)
@given(holes=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 12)), max_size=12),
       span=st.tuples(st.integers(0, 20), st.integers(0, 30)))
def test_subtracting_holes_keeps_exactly_the_points_outside_them(holes, span):
    from restoreplan.core.windows import _subtract

    t0 = datetime(2026, 1, 1)

    def at(n):  # even seconds for the given ends, so the odd ones fall strictly between
        return t0 + timedelta(seconds=2 * n)

    start, end = span[0], span[0] + span[1]
    pairs = [(lo, lo + width) for lo, width in holes]
    pieces = _subtract(at(start), at(end), [(at(lo), at(hi)) for lo, hi in pairs])
    for s in range(-2, 2 * 60):
        t = t0 + timedelta(seconds=s)
        expected = at(start) <= t <= at(end) and not any(at(lo) < t < at(hi) for lo, hi in pairs)
        assert any(w.start <= t <= w.end for w in pieces) == expected, t
