"""Property test: random histories, random targets, plans checked by an independent checker.

The checker replays a plan the way SQL Server would accept it (errors 3132, 3136, 4305, 4326,
4330, 4341, 4338) and a brute-force search over every restore sequence finds the minimum number of
steps. It shares no code with the planner.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import NotRecoverable
from restoreplan.core.history import History, Lineage
from restoreplan.core.model import BackupSet, BackupType
from restoreplan.core.plan import Action, Plan, StopKind
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.builders import diff, full, log

EVENTS = ["full", "full", "copy_full", "diff", "diff", "log", "log", "log", "log", "gap", "bulk", "empty",
          "copy_log", "damaged_full", "missing_diff", "simple", "fullmodel"]
START = datetime(2026, 1, 5, 10, 0)


def build(events: list[str]) -> list[BackupSet]:
    sets: list[BackupSet] = []
    pos = 1000
    log_end: int | None = None
    last_full: BackupSet | None = None
    model = "FULL"
    begins = True
    t = START
    for ev in events:
        t += timedelta(minutes=10)
        if ev in ("full", "copy_full", "damaged_full"):
            f = full(t, pos, pos + 5, ckpt=pos + 1, recovery_model=model, is_copy_only=ev == "copy_full",
                     is_damaged=ev == "damaged_full", size=1000)
            sets.append(f)
            if ev == "full":
                last_full = f
            if model == "FULL" and log_end is None:
                log_end = pos
        elif ev in ("diff", "missing_diff") and last_full is not None:
            d = diff(t, pos, pos + 5, last_full, recovery_model=model, size=300,
                     media_family_count=2 if ev == "missing_diff" else 1)
            sets.append(d)
            if model == "FULL" and log_end is None:
                log_end = pos
        elif ev in ("log", "bulk", "copy_log") and model == "FULL" and log_end is not None:
            sets.append(log(t, log_end, pos + 5, has_bulk_logged_data=ev == "bulk", is_copy_only=ev == "copy_log",
                            begins_log_chain=begins, size=50))
            if ev != "copy_log":
                log_end = pos + 5
                begins = False
        elif ev == "empty" and log_end is not None and model == "FULL":
            sets.append(log(t, log_end, log_end, size=10))
        elif ev == "gap" and log_end is not None:
            log_end = pos + 5  # a log backup that was lost
            begins = False
        elif ev == "simple":
            model, log_end = "SIMPLE", None
        elif ev == "fullmodel" and model == "SIMPLE":
            model, begins = "FULL", True
        pos += 10
    return sets


def built(events: list[str]) -> tuple[History, Lineage] | None:
    """The history the events make and its one lineage (None when they make no backup)."""
    sets = build(events)
    if not sets:
        return None
    h = History.from_sets(sets)
    [lin] = h.lineages.values()
    return h, lin


def usable(bs: BackupSet) -> bool:
    present = {f.family_sequence_number for f in bs.files}
    return not bs.is_damaged and not bs.is_snapshot and all(n in present for n in range(1, (bs.media_family_count or 1) + 1))


def replay(plan: Plan, t: datetime) -> str | None:
    """Replay the restore steps as SQL Server would; return the error it would raise, or None."""
    steps = [s for s in plan.steps if s.action in (Action.RESTORE_DATABASE, Action.RESTORE_LOG)]
    p = None
    base: BackupSet | None = None
    prev_kind = None
    for n, s in enumerate(steps):
        bs = s.backup
        assert bs is not None
        if not usable(bs):
            return "3132/damaged"
        if bs.type is BackupType.FULL:
            if n != 0:
                return "full-not-first"
            base = bs
            p = bs.last_lsn.value
        elif bs.type is BackupType.DIFF:
            if prev_kind != BackupType.FULL or base is None or base.is_copy_only or bs.differential_base_guid != base.backup_set_uuid:
                return "3136"
            p = bs.last_lsn.value
        else:
            assert p is not None
            if bs.first_lsn.value > p:
                return "4305"
            if bs.last_lsn.value <= p:
                return "4326"
            if bs.has_bulk_logged_data and s.stop and s.stop.kind is StopKind.STOPAT and t < bs.backup_finish_date:
                return "4341"
            if bs.begins_log_chain and prev_kind is BackupType.LOG:
                return "4305-chain"
            p = bs.last_lsn.value
        if bs.type.is_data and bs.backup_finish_date > t:
            return "4338"
        prev_kind = bs.type
    last = steps[-1].backup
    assert last is not None
    if last.type is BackupType.LOG:
        if last.backup_finish_date < t:
            return "target-not-reached"
        if any(s.backup.backup_finish_date >= t for s in steps[:-1] if s.backup and s.backup.type is BackupType.LOG):
            return "restored-past-target"
    elif last.backup_finish_date != t:
        return "target-not-reached"
    return None


def brute_force_min(sets: list[BackupSet], t: datetime) -> int | None:
    """Fewest restore steps over every valid sequence (exhaustive)."""
    logs = [s for s in sets if s.type is BackupType.LOG and usable(s) and s.first_lsn != s.last_lsn]
    best: int | None = None
    starts: list[tuple[int, BackupSet]] = []
    for f in sets:
        if f.type is not BackupType.FULL or not usable(f) or f.backup_finish_date > t:
            continue
        starts.append((1, f))
        if not f.is_copy_only:
            for d in sets:
                if (d.type is BackupType.DIFF and usable(d) and d.differential_base_guid == f.backup_set_uuid
                        and d.backup_finish_date <= t and d.last_lsn > f.last_lsn):
                    starts.append((2, d))
    for steps, data in starts:
        if data.backup_finish_date == t:
            best = steps if best is None else min(best, steps)
            continue
        if (data.recovery_model or "") == "SIMPLE":
            continue
        queue = deque([(data.last_lsn.value, steps, True)])
        seen = set()
        while queue:
            p, n, from_data = queue.popleft()
            if best is not None and n + 1 > best:
                continue
            for lg in logs:
                if not (lg.first_lsn.value <= p < lg.last_lsn.value):
                    continue
                if lg.begins_log_chain and not from_data:
                    continue
                if lg.backup_finish_date >= t:
                    if lg.has_bulk_logged_data and t < lg.backup_finish_date:
                        continue
                    best = n + 1 if best is None else min(best, n + 1)
                elif (lg.last_lsn.value, False) not in seen:
                    seen.add((lg.last_lsn.value, False))
                    queue.append((lg.last_lsn.value, n + 1, False))
    return best


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=16), offset=st.integers(0, 200))
def test_every_plan_is_accepted_reaches_the_target_and_is_minimal(events, offset):
    sets = build(events)
    if not sets:
        return
    h = History.from_sets(sets)
    t = START + timedelta(minutes=offset)
    try:
        plan = plan_restore(h, "db", RecoveryTarget.at(t), PlanOptions(tail="never"))
    except NotRecoverable:
        assert brute_force_min(sets, t) is None, "the planner refused a reachable target"
        return
    error = replay(plan, t)
    assert error is None, f"SQL Server would refuse the plan: {error}"
    assert len(plan.restore_steps) == brute_force_min(sets, t), "the plan is not minimal"


@settings(max_examples=2000, deadline=None)
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=16))
def test_plans_at_backup_finish_times_are_valid(events):
    sets = build(events)
    h = History.from_sets(sets) if sets else None
    for bs in sets:
        t = bs.backup_finish_date
        try:
            plan = plan_restore(h, "db", RecoveryTarget.at(t), PlanOptions(tail="never"))
        except NotRecoverable:
            assert brute_force_min(sets, t) is None
            continue
        assert replay(plan, t) is None
        assert len(plan.restore_steps) == brute_force_min(sets, t)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=14), offset=st.integers(0, 180))
def test_recoverable_windows_agree_with_the_planner(events, offset):
    from restoreplan.core.windows import recoverable_windows

    found = built(events)
    if found is None:
        return
    h, lin = found
    t = START + timedelta(minutes=offset)
    inside = any(t in w for w in recoverable_windows(lin))
    try:
        plan_restore(h, "db", RecoveryTarget.at(t), PlanOptions(tail="never"))
        planned = True
    except NotRecoverable:
        planned = False
    assert inside == planned
