"""Planner defects found in the second review: each test failed before its fix.

1. a time after the last log backup but before a later data backup's end is reached through the
   tail (--tail auto/always), instead of being refused as a LOG_GAP;
2. a second recovery fork, switched to from inside a run that began by crossing the first fork,
   is reached (the fork at the switch is that of the log stopped, not the one the run was entered on);
3. an LSN (or mark) on the live fork is reached when the old fork's log holding the same LSN is the
   one the fork switch stops in (the switch was skipped there, as if that log ended the plan).

Property tests replay every plan against independent models: tail plans (test_property_planner's
histories), and histories with up to two recovery forks for time, tail and LSN targets.
"""

from __future__ import annotations

import random
from collections import deque
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import NotRecoverable
from restoreplan.core.history import History
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, BackupType, LogMark
from restoreplan.core.plan import Action, Plan, StopKind
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.builders import DAY, FORK_A, FORK_B, diff, full, history, log, when
from tests.core.test_planner_defects import plan, restored, tail_step, uuids
from tests.core.test_property_planner import EVENTS, START, brute_force_min, build, replay, usable


# -- 1. a target between the last log and a later data backup ------------------------------------------
def test_a_time_after_the_last_log_but_before_a_later_full_is_reached_through_the_tail():
    f = full("09:10", 100, 110)
    l1 = log("09:30", 100, 200)
    l2 = log("10:00", 200, 300)
    f2 = full("10:20", 305, 320)  # taken after the last log: it finished after the target (4338)
    h = history(f, l1, l2, f2)
    p = plan(h, "10:10", tail="auto")
    assert restored(p) == uuids(f, l1, l2)
    assert "LSN 300" in tail_step(p).why
    assert tail_step(p).stop.kind is StopKind.STOPAT and tail_step(p).stop.value == "2026-01-05 10:10:00"
    assert plan(h, "10:10", tail="always").steps[0].action is Action.BACKUP_TAIL_LOG
    with pytest.raises(NotRecoverable) as err:  # without the tail it is a gap, as audit's windows say
        plan(h, "10:10", tail="never")
    assert err.value.code == "LOG_GAP"


def test_a_tail_plan_before_a_later_full_never_restores_a_data_backup_that_finished_after_the_target():
    f = full("09:10", 100, 110)
    f2 = full("10:20", 305, 320)  # no log at all: the tail holds everything since f
    p = plan(history(f, f2), "10:10", tail="auto")
    assert restored(p) == uuids(f)
    assert any(s.is_tail for s in p.steps)


def test_a_target_inside_a_bulk_logged_log_is_not_reached_through_the_tail():
    f = full("09:10", 100, 110)
    l1 = log("09:30", 100, 200, has_bulk_logged_data=True)
    f2 = full("10:20", 305, 320)
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1, f2), "09:20", tail="auto")
    assert err.value.code == "BULK_LOGGED"


# -- 2. two recovery forks in a row -----------------------------------------------------------------------
FORK_C = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"


def _two_forks():
    f = full("09:00", 100, 105)
    l1 = log("09:10", 100, 115)
    l2 = log("09:20", 115, 135)
    span_b = log("09:45", 131, 145, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
                 fork_point_lsn=LSN(133), start="09:44")
    l4 = log("09:55", 145, 160, fork=FORK_B)  # restored again WITH RECOVERY, at LSN 150 inside it
    l5 = log("10:05", 160, 170, fork=FORK_B)  # fork B went on until then
    span_c = log("10:20", 148, 180, first_recovery_fork_guid=FORK_B, last_recovery_fork_guid=FORK_C,
                 fork_point_lsn=LSN(150), start="10:19")
    return f, l1, l2, span_b, l4, l5, span_c


@pytest.mark.parametrize("at", ["10:19:30", "10:20"])
def test_a_second_fork_switched_to_inside_a_run_entered_on_the_first_fork_is_reached(at):
    f, l1, l2, span_b, l4, l5, span_c = _two_forks()
    p = plan(history(f, l1, l2, span_b, l4, l5, span_c), at)
    assert restored(p) == uuids(f, l1, l2, span_b, l4, span_c)
    stops = [s.stop.value if s.stop and s.stop.kind is StopKind.STOPBEFOREMARK else None for s in p.restore_steps]
    assert stops == [None, None, "lsn:131", None, "lsn:148", None]


def test_a_tail_plan_crosses_two_forks():
    f, l1, l2, span_b, l4, l5, span_c = _two_forks()
    p = plan(history(f, l1, l2, span_b, l4, l5, span_c), "11:00", tail="auto")
    assert restored(p) == uuids(f, l1, l2, span_b, l4, span_c)
    assert "LSN 180" in tail_step(p).why


# -- 3. an LSN two forks share, the switch inside the old fork's log that holds it -----------------------------
def test_an_lsn_on_the_live_fork_is_reached_through_a_switch_inside_the_old_forks_log_holding_it():
    f = full("09:30", 130, 135)
    l1 = log("09:40", 100, 145)
    l2 = log("09:50", 145, 155)  # fork A holds LSN 154 here; the restore stopped at 151 inside it
    span = log("10:25", 149, 185, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
               fork_point_lsn=LSN(151), start="10:24")  # fork B holds LSN 154 here
    l4 = log("10:35", 185, 200, fork=FORK_B)
    h = history(f, l1, l2, span, l4)
    p = plan(h, RecoveryTarget.at_lsn(LSN(154)))
    assert restored(p) == uuids(f, l1, l2, span)
    assert [s.stop.value if s.stop else None for s in p.restore_steps] == [None, None, "lsn:149", "lsn:154"]
    assert any("2 recovery forks" in w for w in p.warnings)
    marked = history(f, l1, l2, span, l4, marks=(LogMark("db", "m", LSN(154), when("10:20")),))  # after l2
    p = plan(marked, RecoveryTarget.at_mark("m"))
    assert restored(p) == uuids(f, l1, l2, span)


# -- property: plans with the tail of the log, against an independent model -------------------------------
def _finish(bs: BackupSet) -> datetime:
    return bs.backup_finish_date


def tail_first(sets: list[BackupSet]) -> int | None:
    """Where a tail-log backup would begin (None: no tail): the end of the last regular log
    backup after the last SIMPLE period, usable or not; without one, the lowest end of a data
    backup since the chain began (the log was never truncated since)."""
    newest = max(sets, key=_finish)
    if newest.recovery_model == "SIMPLE":
        return None
    since = max((_finish(s) for s in sets if s.recovery_model == "SIMPLE"), default=None)
    after = [s for s in sets if since is None or _finish(s) > since]
    regular = [s.last_lsn.value for s in after if s.type is BackupType.LOG and not s.is_copy_only]
    if regular:
        return max(regular)
    data = [s.last_lsn.value for s in after if s.type.is_data]
    return min(data) if data else None


def tail_min(sets: list[BackupSet], t: datetime) -> int | None:
    """Fewest restore steps (the tail's included) of a plan to ``t`` through the tail (exhaustive)."""
    first = tail_first(sets)
    if first is None:
        return None
    logs = [s for s in sets if s.type is BackupType.LOG and usable(s) and s.first_lsn != s.last_lsn
            and _finish(s) <= t]  # STOPAT t on every log: one that ends after t stops short of the tail
    best: int | None = None
    for f in sets:
        if f.type is not BackupType.FULL or not usable(f) or _finish(f) > t:
            continue
        starts = [(1, f)]
        if not f.is_copy_only:
            starts += [(2, d) for d in sets if d.type is BackupType.DIFF and usable(d) and _finish(d) <= t
                       and d.differential_base_guid == f.backup_set_uuid and d.last_lsn > f.last_lsn]
        for steps, data in starts:
            if data.recovery_model == "SIMPLE":
                continue
            queue = deque([(data.last_lsn.value, steps, True)])
            seen: set[int] = set()
            while queue:
                p, n, from_data = queue.popleft()
                if p >= first:
                    best = n + 1 if best is None else min(best, n + 1)
                    continue
                for lg in logs:
                    if lg.first_lsn.value <= p < lg.last_lsn.value and (from_data or not lg.begins_log_chain):
                        if lg.last_lsn.value not in seen:
                            seen.add(lg.last_lsn.value)
                            queue.append((lg.last_lsn.value, n + 1, False))
    return best


def replay_tail(plan: Plan, t: datetime, first: int) -> str | None:
    """Replay a tail plan as SQL Server would; the error it would raise, or None."""
    steps = plan.restore_steps
    if not steps[-1].is_tail or sum(s.is_tail for s in steps) != 1:
        return "tail-not-last"
    p: int | None = None
    base: BackupSet | None = None
    prev: BackupType | None = None
    for n, s in enumerate(steps[:-1]):
        bs = s.backup
        assert bs is not None
        if not usable(bs):
            return "3132/damaged"
        if bs.type.is_data and _finish(bs) > t:
            return "4338"
        if bs.type is BackupType.FULL:
            if n:
                return "full-not-first"
            base, p = bs, bs.last_lsn.value
        elif bs.type is BackupType.DIFF:
            if prev is not BackupType.FULL or base is None or base.is_copy_only \
                    or bs.differential_base_guid != base.backup_set_uuid:
                return "3136"
            p = bs.last_lsn.value
        else:
            assert p is not None
            if bs.first_lsn.value > p:
                return "4305"
            if bs.last_lsn.value <= p:
                return "4326"
            if bs.begins_log_chain and prev is BackupType.LOG:
                return "4305-chain"
            if s.stop is None or s.stop.kind is not StopKind.STOPAT:
                return "no-stopat"
            if _finish(bs) > t:
                return "4341" if bs.has_bulk_logged_data else "stopped-before-the-tail"
            p = bs.last_lsn.value
        prev = bs.type
    assert p is not None
    if p < first:
        return "4305-tail"
    tail = steps[-1]
    if tail.stop is None or tail.stop.kind is not StopKind.STOPAT:
        return "no-stopat-on-the-tail"
    return None


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=16), offset=st.integers(0, 200),
       tail=st.sampled_from(["auto", "always"]))
def test_every_plan_with_the_tail_allowed_is_accepted_and_minimal(events, offset, tail):
    sets = build(events)
    if not sets:
        return
    h = History.from_sets(sets)
    t = START + timedelta(minutes=offset)
    without = brute_force_min(sets, t)
    through = tail_min(sets, t) if without is None else None
    try:
        p = plan_restore(h, "db", RecoveryTarget.at(t), PlanOptions(tail=tail))
    except NotRecoverable as err:
        assert without is None and through is None, f"refused a reachable target: {err.code} {err.message}"
        return
    assert (p.steps[0].action is Action.BACKUP_TAIL_LOG) == (tail == "always" or through is not None)
    if any(s.is_tail for s in p.steps):
        assert through is not None, "a tail plan where the backups alone reach the target"
        first = tail_first(sets)
        assert first is not None
        assert replay_tail(p, t, first) is None
        assert len(p.restore_steps) == through, "the tail plan is not minimal"
    else:
        assert without is not None and replay(p, t) is None
        assert len(p.restore_steps) == without


# -- property: histories with recovery forks, against an independent model ---------------------------------
def forked_history(rnd: random.Random) -> list[BackupSet]:
    """A chain with logs, fulls, differentials, bulk-logged, copy-only and lost logs, and up to two
    restores WITH RECOVERY: each starts a fork at a point inside an earlier log of the chain, and
    the next log backup spans it (first_lsn inside that log, at or before the fork point)."""
    forks = [FORK_A, FORK_B, FORK_C]
    t = DAY + timedelta(hours=9)
    fork, lsn, log_end = FORK_A, 100, 100
    base = full(t, lsn, lsn + 5, fork=fork, size=1000)
    sets, chain = [base], []
    for _ in range(rnd.randint(2, 10)):
        t += timedelta(minutes=10)
        lsn += 10
        ev = rnd.choice(["log", "log", "log", "full", "diff", "fork", "bulk", "copy_log", "gap"])
        if ev in ("log", "bulk", "copy_log"):
            lg = log(t, log_end, lsn + 5, fork=fork, size=50, has_bulk_logged_data=ev == "bulk",
                     is_copy_only=ev == "copy_log")
            sets.append(lg)
            if ev != "copy_log":
                chain.append(lg)
                log_end = lsn + 5
        elif ev == "full":
            base = full(t, lsn, lsn + 5, fork=fork, size=1000, start=t - timedelta(seconds=20))
            sets.append(base)
        elif ev == "diff":
            sets.append(diff(t, lsn, lsn + 5, base, fork=fork, size=300, start=t - timedelta(seconds=20)))
        elif ev == "gap":
            log_end = lsn + 5
        elif ev == "fork" and chain and fork != FORK_C:
            src = rnd.choice(chain)
            point = rnd.randint(src.first_lsn.value + 1, src.last_lsn.value - 1)
            new = forks[forks.index(fork) + 1]
            t += timedelta(minutes=5)
            end = max(lsn + 5, point + 1)
            span = log(t, rnd.randint(src.first_lsn.value + 1, point), end, first_recovery_fork_guid=fork,
                       last_recovery_fork_guid=new, fork_point_lsn=LSN(point), start=t - timedelta(minutes=1),
                       size=50)
            sets.append(span)
            fork, chain, log_end, lsn = new, [span], end, max(lsn, end)
    return sets


def _fork_of(lg: BackupSet, lsn: int) -> str | None:
    """The fork of the record at ``lsn`` in a log."""
    if lg.spans_fork and lg.fork_point_lsn is not None and lsn <= lg.fork_point_lsn.value:
        return lg.first_recovery_fork_guid
    return lg.last_recovery_fork_guid


def _applies(lg: BackupSet, p: int, fork: str | None) -> bool:
    """B.2 and B.6: the log holds the redo point, on the database's fork (else 4305/4326/4330)."""
    return lg.first_lsn.value <= p < lg.last_lsn.value and _fork_of(lg, p) == fork


def _holds(lg: BackupSet, p: int, t: datetime) -> bool:
    """Can a restore entering ``lg`` at ``p`` stop at ``t`` inside it? (B.8; a spanning log holds a
    time before its start only when entered past the fork point: msdb cannot tell otherwise)"""
    if _finish(lg) < t or (lg.has_bulk_logged_data and t < _finish(lg)):
        return False
    return not (lg.spans_fork and t < lg.backup_start_date and lg.fork_point_lsn is not None
                and p <= lg.fork_point_lsn.value)


def fork_min(sets: list[BackupSet], t: datetime, tail_at: tuple[int, str | None] | None) -> int | None:
    """Fewest restore steps to ``t`` (or, with ``tail_at`` = (LSN, fork), to that LSN on that fork
    followed by the tail), over every sequence of data backups, whole logs and logs stopped just
    before the first LSN of a log that spans a fork (exhaustive)."""
    logs = [s for s in sets if s.type is BackupType.LOG and s.first_lsn != s.last_lsn]
    spans = [s for s in logs if s.spans_fork]
    best: int | None = None
    for f in sets:
        if f.type is not BackupType.FULL or _finish(f) > t:
            continue
        starts = [(1, f)] + [(2, d) for d in sets if d.type is BackupType.DIFF and _finish(d) <= t
                             and d.differential_base_guid == f.backup_set_uuid and d.last_lsn > f.last_lsn]
        for steps, data in starts:
            if tail_at is None and _finish(data) == t:
                best = steps if best is None else min(best, steps)
                continue
            queue = deque([(data.last_lsn.value, data.last_recovery_fork_guid, steps, None)])
            seen: set[tuple[int, str | None]] = set()
            while queue:
                p, fork, n, stopped = queue.popleft()
                if tail_at is not None and p >= tail_at[0] and fork == tail_at[1]:
                    best = n + 1 if best is None else min(best, n + 1)
                    continue
                for lg in logs:
                    if lg is stopped or not _applies(lg, p, fork):
                        continue
                    if tail_at is None and _holds(lg, p, t):
                        best = n + 1 if best is None else min(best, n + 1)
                    nexts = [] if _finish(lg) >= t else [(lg.last_lsn.value, lg.last_recovery_fork_guid, None)]
                    nexts += [(s.first_lsn.value, _fork_of(lg, s.first_lsn.value - 1), lg) for s in spans
                              if lg.first_lsn.value < s.first_lsn.value < lg.last_lsn.value and p < s.first_lsn.value
                              and s.first_recovery_fork_guid == _fork_of(lg, s.first_lsn.value - 1)]
                    for q, qf, stop in nexts:
                        if (q, qf) not in seen:
                            seen.add((q, qf))
                            queue.append((q, qf, n + 1, stop))
    return best


def replay_forked(plan: Plan, t: datetime, tail_at: tuple[int, str | None] | None) -> str | None:
    """Replay a plan on a forked history as SQL Server would; the error it would raise, or None."""
    steps = plan.restore_steps
    p: int | None = None
    fork: str | None = None
    for n, s in enumerate(steps):
        bs = s.backup
        if s.is_tail:
            if tail_at is None or n != len(steps) - 1:
                return "unexpected-tail"
            assert p is not None
            return None if p >= tail_at[0] and fork == tail_at[1] else "4305/4330-tail"
        assert bs is not None
        if bs.type.is_data:
            if _finish(bs) > t:
                return "4338"
            p, fork = bs.last_lsn.value, bs.last_recovery_fork_guid
            continue
        assert p is not None
        if not _applies(bs, p, fork):
            return "4305/4326/4330"
        if s.stop is not None and s.stop.kind is StopKind.STOPBEFOREMARK:
            x = int(s.stop.value.removeprefix("lsn:"))
            if not p < x < bs.last_lsn.value:
                return "bad-stopbeforemark"
            p, fork = x, _fork_of(bs, x - 1)
            continue
        if s.stop is None or s.stop.kind is not StopKind.STOPAT:
            return "no-stopat"
        if n < len(steps) - 1 and _finish(bs) >= t:
            return "restored-past-target" if tail_at is None else "stopped-before-the-tail"
        if n == len(steps) - 1 and not _holds(bs, p, t):
            return "target-not-reached"
        p, fork = bs.last_lsn.value, bs.last_recovery_fork_guid
    return None if tail_at is None else "no-tail"


def _tail_of_forked(sets: list[BackupSet]) -> tuple[int, str | None] | None:
    live = max(sets, key=lambda s: (_finish(s), s.last_lsn)).last_recovery_fork_guid
    regular = [s.last_lsn.value for s in sets if s.type is BackupType.LOG and not s.is_copy_only
               and s.last_recovery_fork_guid == live]
    data = [s.last_lsn.value for s in sets if s.type.is_data and s.last_recovery_fork_guid == live]
    at = max(regular) if regular else min(data, default=None)
    return None if at is None else (at, live)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), at=st.integers(0, 160))
def test_plans_across_recovery_forks_are_accepted_and_minimal(seed, at):
    sets = forked_history(random.Random(seed))
    h = History.from_sets(sets)
    t = DAY + timedelta(hours=9, minutes=at)
    best = fork_min(sets, t, None)
    tail_at = _tail_of_forked(sets) if best is None else None  # the tail only when the backups do not reach t
    if tail_at is not None:
        best = fork_min(sets, t, tail_at)
    try:
        p = plan_restore(h, "db", RecoveryTarget.at(t), PlanOptions(tail="auto"))
    except NotRecoverable as err:
        assert best is None, f"refused a reachable target: {err.code} {err.message}"
        return
    assert replay_forked(p, t, tail_at) is None
    assert len(p.restore_steps) == best


def test_audit_windows_hold_a_second_fork_switched_to_inside_a_run():
    from restoreplan.core.windows import recoverable_windows

    f, l1, l2, span_b, l4, l5, span_c = _two_forks()
    h = history(f, l1, l2, span_b, l4, l5, span_c)
    [lin] = h.lineages.values()
    assert any(when("10:20") in w for w in recoverable_windows(lin))


def lsn_min(sets: list[BackupSet], n: int) -> tuple[int | None, str | None]:
    """Fewest restore steps to LSN ``n`` (STOPATMARK 'lsn:n' in the last log), and the fork it is
    taken on when several hold it: the one the database is on now, else the newest (exhaustive)."""
    logs = [s for s in sets if s.type is BackupType.LOG and s.first_lsn != s.last_lsn]
    holders: dict[str | None, datetime] = {}
    for lg in logs:
        if lg.first_lsn.value <= n < lg.last_lsn.value:
            f = _fork_of(lg, n)
            holders[f] = max(holders.get(f, _finish(lg)), _finish(lg))
    if not holders:
        return None, None
    live = max(sets, key=lambda s: (_finish(s), s.last_lsn)).last_recovery_fork_guid
    fork = None if len(holders) < 2 else (live if live in holders else max(holders, key=lambda f: holders[f]))
    spans = [s for s in logs if s.spans_fork]
    best: int | None = None
    for f in sets:
        if f.type is not BackupType.FULL or f.last_lsn.value > n:
            continue
        starts = [(1, f)] + [(2, d) for d in sets if d.type is BackupType.DIFF and d.last_lsn.value <= n
                             and d.differential_base_guid == f.backup_set_uuid and d.last_lsn > f.last_lsn]
        for steps, data in starts:
            queue = deque([(data.last_lsn.value, data.last_recovery_fork_guid, steps, None)])
            seen: set[tuple[int, str | None]] = set()
            while queue:
                p, fk, m, stopped = queue.popleft()
                for lg in logs:
                    if lg is stopped or not _applies(lg, p, fk):
                        continue
                    holds = p <= n < lg.last_lsn.value and not lg.has_bulk_logged_data
                    if holds and (fork is None or _fork_of(lg, n) == fork):
                        best = m + 1 if best is None else min(best, m + 1)
                    nexts = [(lg.last_lsn.value, lg.last_recovery_fork_guid, None)] if lg.last_lsn.value <= n else []
                    nexts += [(s.first_lsn.value, _fork_of(lg, s.first_lsn.value - 1), lg) for s in spans
                              if lg.first_lsn.value < s.first_lsn.value < lg.last_lsn.value and p < s.first_lsn.value <= n
                              and s.first_recovery_fork_guid == _fork_of(lg, s.first_lsn.value - 1)]
                    for q, qf, stop in nexts:
                        if (q, qf) not in seen:
                            seen.add((q, qf))
                            queue.append((q, qf, m + 1, stop))
    return best, fork


def replay_lsn(plan: Plan, n: int, fork: str | None) -> str | None:
    steps = plan.restore_steps
    p: int | None = None
    fk: str | None = None
    for i, s in enumerate(steps):
        bs = s.backup
        assert bs is not None
        if bs.type.is_data:
            if bs.last_lsn.value > n:
                return "data-past-the-lsn"
            p, fk = bs.last_lsn.value, bs.last_recovery_fork_guid
            continue
        assert p is not None
        if not _applies(bs, p, fk):
            return "4305/4326/4330"
        if i < len(steps) - 1:
            if s.stop is not None and s.stop.kind is StopKind.STOPBEFOREMARK:
                x = int(s.stop.value.removeprefix("lsn:"))
                p, fk = x, _fork_of(bs, x - 1)
            elif s.stop is not None:
                return "stop-on-a-log-before-the-last"
            else:
                p, fk = bs.last_lsn.value, bs.last_recovery_fork_guid
            continue
        if s.stop is None or s.stop.kind is not StopKind.STOPATMARK or s.stop.value != f"lsn:{n}":
            return "no-stopatmark"
        if not p <= n < bs.last_lsn.value or bs.has_bulk_logged_data:
            return "the-last-log-does-not-hold-it"
        return None if fork is None or _fork_of(bs, n) == fork else "wrong-fork"
    return "no-log"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), at=st.integers(0, 110))
def test_lsn_plans_across_recovery_forks_are_accepted_minimal_and_on_the_right_fork(seed, at):
    sets = forked_history(random.Random(seed))
    h = History.from_sets(sets)
    n = 100 + at
    best, fork = lsn_min(sets, n)
    try:
        p = plan_restore(h, "db", RecoveryTarget.at_lsn(LSN(n)), PlanOptions())
    except NotRecoverable as err:
        assert best is None, f"refused a reachable LSN: {err.code} {err.message}"
        return
    assert replay_lsn(p, n, fork) is None
    assert len(p.restore_steps) == best


# -- --latest is the newest state, also when backups end in the same instant -----------------------
def test_latest_takes_the_differential_that_finished_in_the_same_second_as_its_full():
    """Real files (DoubleDiffing): a full and two differentials all finished at 11:26:31. The
    fewest steps to that time is the full alone, which loses both differentials' changes."""
    f = full("10:00", 100, 120)
    d1 = diff("10:00", 130, 140, f)
    d2 = diff("10:00", 140, 150, f)
    p = plan_restore(history(f, d1, d2), "db", RecoveryTarget.latest(), PlanOptions(tail="never"))
    assert [s.backup.backup_set_uuid for s in p.steps if s.backup] == [f.backup_set_uuid, d2.backup_set_uuid]


def test_latest_takes_a_log_that_finished_in_the_same_instant_as_the_full():
    f = full("10:00", 100, 120)
    lg = log("10:00", 110, 150)
    p = plan_restore(history(f, lg), "db", RecoveryTarget.latest(), PlanOptions(tail="never"))
    assert [s.backup.backup_set_uuid for s in p.steps if s.backup] == [f.backup_set_uuid, lg.backup_set_uuid]
    assert all(s.stop is None for s in p.steps)  # restored whole: --latest has no STOPAT


def test_a_time_at_which_a_full_and_a_differential_both_finished_takes_the_differential():
    """--at T where the full and a differential both end at T: every commit of the differential was
    made by T, so the state at T includes it (the full alone would leave them out)."""
    f = full("10:00", 100, 120, is_copy_only=False)
    d = diff("10:00", 130, 140, f)
    lg = log("10:30", 110, 200)
    p = plan_restore(history(f, d, lg), "db", RecoveryTarget.at(when("10:00")), PlanOptions(tail="never"))
    assert [s.backup.backup_set_uuid for s in p.steps if s.backup] == [f.backup_set_uuid, d.backup_set_uuid]
    # one minute later the log is needed, with STOPAT, and the fewest steps skip the differential
    p = plan_restore(history(f, d, lg), "db", RecoveryTarget.at(when("10:01")), PlanOptions(tail="never"))
    assert [s.backup.backup_set_uuid for s in p.steps if s.backup] == [f.backup_set_uuid, lg.backup_set_uuid]
    assert p.steps[1].stop is not None and p.steps[1].stop.kind is StopKind.STOPAT
