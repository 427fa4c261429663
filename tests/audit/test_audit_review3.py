"""Audit defects found in the third review: each test failed before its fix.

1. a log that ran beside a full (it holds the full's redo point, SQL 2022 last_valid_restore_time
   before the full finished) made the windows hold a time before the full finished, when a later
   log spanning a recovery fork began inside the run: ``plan --at T --tail never`` refuses it;
2. the worst case at an instant where two backups end together (a full and a differential in one
   second) was not the plan ``plan`` makes: the planner takes the newest state of the backups that
   end then (the differential), the audit counted the full alone; likewise where a log's
   last_valid_restore_time comes before an earlier log's end;
3. STALE_LOG aged the newest log from its last commit (last_valid_restore_time), not from when
   the log backup finished: an idle database whose log-backup job runs on time was stale;
4. the worst case missed the instants just before a shorter route opens across a recovery fork
   (the start of the spanning log): the plan there restores one log more than the reported worst.

A property test crosses the windows, verdicts and worst case with the planner on histories with
recovery forks (spanning logs, restores WITH RECOVERY inside an earlier log, forks no log records),
copy-only, bulk-logged, damaged and striped backups, SIMPLE periods, chain restarts, a DST change
in the time_zone column and backups that finish in the same second, probed at and around every
backup's start, finish and reach and every window edge (±1 ms, ±1 s).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.audit import AuditOptions, Verdict, audit_lineage
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.findings import Severity
from restoreplan.core.history import History, Lineage
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet
from restoreplan.core.plan import Plan
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.builders import FORK_A, FORK_B, diff, full, history, log, when

NO_TAIL = PlanOptions(tail="never")
MS = timedelta(milliseconds=1)
SEC = timedelta(seconds=1)


def plan_at(h: History, key: datetime, utc: bool) -> Plan | None:
    try:
        return plan_restore(h, "db", RecoveryTarget.at(key.replace(tzinfo=UTC) if utc else key), NO_TAIL)
    except NotRecoverable:
        return None


def only(h: History) -> Lineage:
    [lin] = h.lineages.values()
    return lin


# -- 1. a log beside a full, then a fork switch inside the run ----------------------------------------
def test_a_fork_switch_after_a_log_beside_a_full_does_not_reach_before_the_full_finished():
    f = full("10:10", 1000, 1005, start="10:09:30")
    beside = log("10:10", 1000, 1015, start="10:09:30", last_valid_restore_time=when("10:09:40"))
    l2 = log("10:19:58", 1015, 1026, start="10:19:50")
    span = log("10:30", 1016, 1035, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
               fork_point_lsn=LSN(1017), start="10:29")
    h = history(f, beside, l2, span)
    a = audit_lineage(only(h))
    assert plan_at(h, when("10:09:40"), False) is None
    assert not a.covers(when("10:09:40"))
    assert a.earliest is not None and a.earliest.key == when("10:10")
    assert [(s.key, e.key) for s, e in a.windows] == [(when("10:10"), when("10:19:58")),
                                                      (when("10:29"), when("10:30"))]


# -- 2. two backups ending in the same second --------------------------------------------------------
def test_the_worst_case_where_a_full_and_a_differential_end_together_is_the_plans():
    f = full("10:10", 1000, 1005, start="10:09:30", size=1000)
    d = diff("10:10", 1010, 1015, f, start="10:09:30", size=300)
    h = history(f, d)
    p = plan_at(h, when("10:10"), False)
    assert p is not None and len(p.restore_steps) == 2  # the newest state: the differential too
    a = audit_lineage(only(h))
    assert a.worst_steps is not None
    assert (a.worst_steps.steps, a.worst_steps.diff_uuid) == (2, d.backup_set_uuid)
    assert a.worst_steps.bytes == 1300


def test_the_worst_case_where_a_log_and_a_full_end_together_is_the_plans():
    f1 = full("10:00", 900, 905, size=1000)
    l1 = log("10:05", 900, 950)
    l2 = log("10:10", 950, 1012, start="10:09:50")
    f2 = full("10:10", 1000, 1010, start="10:05", size=1000)  # l2 holds more: it is the newest state
    h = history(f1, l1, l2, f2)
    p = plan_at(h, when("10:10"), False)
    assert p is not None
    a = audit_lineage(only(h))
    assert a.worst_steps is not None
    assert a.worst_steps.steps >= len(p.restore_steps)
    at = plan_at(h, a.worst_steps.at.key, False)
    assert at is not None and len(at.restore_steps) == a.worst_steps.steps


# -- property ----------------------------------------------------------------------------------------
START = datetime(2026, 3, 29, 0, 0)  # UTC; the EU's DST change is at 01:00 UTC that day
EVENTS = ["full", "full", "conc_full", "copy_full", "damaged_full", "stripe_full", "diff", "diff", "stripe_diff",
          "log", "log", "log", "log", "log", "gap", "bulk", "empty", "copy_log", "simple", "fullmodel",
          "restart_nodata", "fork", "fork_nospan", "full_on_fork", "damaged_log", "samesec", "dst", "lvrt",
          "stripe_log", "recover_fork"]


def fork_guid(n: int) -> str:
    return FORK_A if n == 0 else FORK_B if n == 1 else f"{n:08x}-cccc-4ccc-8ccc-cccccccccccc"


def build(events: list[str], tz: bool = True) -> list[BackupSet]:
    """A history from events; times advance in UTC and are written server-local with the offset
    in force (``dst`` switches between +01:00 and +02:00; without ``tz`` no time_zone is written
    and the offset never changes)."""
    sets: list[BackupSet] = []
    pos, t, forks = 1000, START, 0
    chain: int | None = None
    model, begins = "FULL", True
    last_full: BackupSet | None = None
    off = 4
    step = timedelta(minutes=10)
    on_fork: list[BackupSet] = []

    def mk(fn, ut, *a, start_ut=None, **kw):  # type: ignore[no-untyped-def]
        local = timedelta(minutes=15 * off)
        kw.setdefault("fork", fork_guid(forks))
        begun = (start_ut if start_ut is not None else ut - timedelta(seconds=30)) + local
        return fn(ut + local, *a, start=begun, time_zone=off if tz else None, **kw)

    for ev in events:
        if ev == "samesec":
            step = timedelta(0)
            continue
        t += step
        step = timedelta(minutes=10)
        chained = model == "FULL" and chain is not None
        if ev == "dst":
            off = (8 if off == 4 else 4) if tz else off
            continue
        if ev == "conc_full" and chained:
            assert chain is not None
            lg = mk(log, t - timedelta(seconds=2), chain, pos + 6, start_ut=t - timedelta(seconds=10),
                    begins_log_chain=begins)
            f = mk(full, t, pos, pos + 8, ckpt=pos + 1, start_ut=t - timedelta(minutes=5), size=1000)
            sets += [lg, f]
            on_fork.append(lg)
            last_full, chain, begins = f, pos + 6, False
        elif ev in ("full", "copy_full", "conc_full", "damaged_full", "stripe_full", "full_on_fork"):
            if ev == "full_on_fork":
                forks += 1
                on_fork = []
            f = mk(full, t, pos, pos + 5, ckpt=pos + 1, recovery_model=model, is_copy_only=ev == "copy_full",
                   is_damaged=ev == "damaged_full", media_family_count=2 if ev == "stripe_full" else 1, size=1000)
            sets.append(f)
            if ev != "copy_full":
                last_full = f
            if ev == "full_on_fork":
                chain, begins = (pos if model == "FULL" else None), False
            elif model == "FULL" and chain is None:
                chain = pos
        elif ev in ("diff", "stripe_diff") and last_full is not None:
            sets.append(mk(diff, t, pos, pos + 5, last_full, recovery_model=model, size=300,
                           media_family_count=2 if ev == "stripe_diff" else 1))
            if model == "FULL" and chain is None:
                chain = pos
        elif ev in ("log", "bulk", "copy_log", "lvrt", "damaged_log", "stripe_log") and chained:
            assert chain is not None
            lvrt = t - timedelta(seconds=20) + timedelta(minutes=15 * off) if ev == "lvrt" else None
            lg = mk(log, t, chain, pos + 5, has_bulk_logged_data=ev == "bulk", is_copy_only=ev == "copy_log",
                    is_damaged=ev == "damaged_log", begins_log_chain=begins,
                    media_family_count=2 if ev == "stripe_log" else 1, last_valid_restore_time=lvrt, size=50)
            sets.append(lg)
            if ev != "copy_log":
                chain, begins = pos + 5, False
                on_fork.append(lg)
        elif ev == "empty" and chained:
            assert chain is not None
            sets.append(mk(log, t, chain, chain, size=10))
        elif ev == "gap" and chain is not None:
            chain, begins = pos + 5, False
        elif ev == "restart_nodata" and model == "FULL":
            sets.append(mk(log, t, pos, pos + 5, begins_log_chain=True, size=50))
            chain, begins = pos + 5, False
        elif ev == "fork" and chained:  # restored WITH RECOVERY at the chain's end, a log spans it
            assert chain is not None
            old, forks = fork_guid(forks), forks + 1
            lg = mk(log, t, chain - 2, pos + 5, first_recovery_fork_guid=old, last_recovery_fork_guid=fork_guid(forks),
                    fork_point_lsn=LSN(chain - 2), size=50, start_ut=t - timedelta(minutes=1))
            sets.append(lg)
            on_fork, chain, begins = [lg], pos + 5, False
        elif ev == "recover_fork" and chained and on_fork:  # restored WITH RECOVERY inside an earlier log
            src = on_fork[len(on_fork) // 2]
            if src.last_lsn.value - src.first_lsn.value >= 3:
                old, forks = fork_guid(forks), forks + 1
                lg = mk(log, t, src.first_lsn.value + 1, pos + 5, first_recovery_fork_guid=old,
                        last_recovery_fork_guid=fork_guid(forks), fork_point_lsn=LSN(src.first_lsn.value + 2),
                        size=50, start_ut=t - timedelta(minutes=1))
                sets.append(lg)
                on_fork, chain, begins = [lg], pos + 5, False
        elif ev == "fork_nospan":  # restored WITH RECOVERY, no log records the switch
            forks += 1
            on_fork = []
            chain = chain - 2 if chain is not None else None
        elif ev == "simple":
            model, chain = "SIMPLE", None
        elif ev == "fullmodel" and model == "SIMPLE":
            model, begins = "FULL", True
        pos += 10
    return sets


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=24), tz=st.booleans())
def test_windows_verdicts_worst_case_and_rpo_agree_with_the_planner(events, tz):
    sets = build(events, tz)
    if not sets:
        return
    h = History.from_sets(sets)
    if len(h.lineages) != 1:
        return
    lin = only(h)
    a = audit_lineage(lin)
    windows = [(s.key, e.key) for s, e in a.windows]

    def covered(k: datetime) -> bool:
        return any(s <= k <= e for s, e in windows)

    verdict = {v.backup.backup_set_uuid: v.verdict for v in a.verdicts()}
    base = {k for s in lin.sets for k in (lin.start_key(s), lin.finish_key(s), lin.reach_key(s))}
    base |= {k for w in windows for k in w}
    most = 0
    for t in sorted({b + d for b in base for d in (-SEC, -MS, timedelta(0), MS, SEC)}):
        p = plan_at(h, t, lin.utc)
        assert (p is not None) == covered(t), (t, windows)
        if p is None:
            continue
        most = max(most, len(p.restore_steps))
        for s in p.restore_steps:  # a backup a plan restores is never called useless
            assert s.backup is not None
            assert verdict[s.backup.backup_set_uuid] not in (Verdict.NOT_NEEDED, Verdict.UNREACHABLE, Verdict.BROKEN)
    if a.worst_steps is not None:  # the worst case is a real plan, and no probed plan needs more
        assert most <= a.worst_steps.steps
        p = plan_at(h, a.worst_steps.at.key, lin.utc)
        assert p is not None and len(p.restore_steps) == a.worst_steps.steps
    if windows and a.findings.count(Severity.ERROR) == 0:  # no error: no regular log is lost
        for bs in lin.logs:
            if not (bs.is_copy_only or bs.is_empty_log or lin.reach_key(bs) < windows[0][0]):
                assert covered(lin.reach_key(bs)), bs.backup_set_uuid
    for f in a.findings.findings:  # what an error calls lost is lost
        if f.lost_from is not None and f.severity is Severity.ERROR:
            lo, hi = f.lost_from.key, (f.lost_to.key if f.lost_to else datetime.max)
            assert not any(e > lo and s < hi for s, e in windows), (f.code, lo, hi)
    assert len(a.gaps) >= len(windows) - 1
    if windows:  # the RPO is the time since the latest recoverable point
        as_of = windows[-1][1] + timedelta(hours=1)
        a2 = audit_lineage(lin, AuditOptions(as_of=as_of.replace(tzinfo=UTC) if lin.utc else as_of))
        assert a2.rpo == timedelta(hours=1)


# -- 3. the age of the newest log backup -------------------------------------------------------------
def test_log_age_counts_from_when_the_log_backup_finished_not_its_last_commit():
    from restoreplan.core.validate import ValidateOptions, validate_lineage

    # an idle database: the log backup at 10:15 holds no commit after 10:00 (SQL 2022's
    # last_valid_restore_time); the log-backup job ran on time, so the log is not stale
    f = full("09:55", 100, 105)
    lg = log("10:15", 100, 200, last_valid_restore_time=when("10:00"))
    lin = only(history(f, lg))
    limit = timedelta(minutes=15)
    at_limit = validate_lineage(lin, ValidateOptions(None, limit, when("10:30")))
    assert at_limit.log_age == limit
    assert [x.code for x in at_limit.findings] == []
    past = validate_lineage(lin, ValidateOptions(None, limit, when("10:30:01")))
    [stale] = [x for x in past.findings if x.code == "STALE_LOG"]
    assert "finished 2026-01-05 10:15:00, 15m before" in stale.text


# -- 4. the worst case just before a log spanning a recovery fork may be stopped in --------------------
def test_the_worst_case_is_found_just_before_a_shorter_route_across_a_fork_opens():
    # restored WITH RECOVERY inside the third log; the log spanning the fork begins at 01:59, so
    # until then a plan to 01:5x needs every old-fork log, from then on the shorter route
    sets = build(["full", "log", "log", "log", "log", "log", "samesec", "recover_fork"], tz=False)
    h = History.from_sets(sets)
    lin = only(h)
    a = audit_lineage(lin)
    p = plan_at(h, when("01:58:59") + timedelta(days=83), False)  # 2026-03-29
    assert p is not None and len(p.restore_steps) == 6
    assert a.worst_steps is not None and a.worst_steps.steps == 6


def test_a_fork_switch_inside_a_bulk_logged_log_opens_no_window_the_planner_refuses() -> None:
    """Found by the property test: a full, a bulk-logged log, a log spanning a fork that begins
    inside it. At 01:19 the bulk-logged log is the goal log (4341) and a time goal never switches
    forks inside its own goal log, so plan refuses; the window must not hold 01:19 either."""
    sets = build(["full", "bulk", "samesec", "fork"], tz=False)
    h = History.from_sets(sets)
    lin = only(h)
    windows = [(s.key, e.key) for s, e in audit_lineage(lin).windows]
    t = datetime(2026, 3, 29, 1, 19)
    assert plan_at(h, t, lin.utc) is None
    assert not any(s <= t <= e for s, e in windows)
    assert plan_at(h, datetime(2026, 3, 29, 1, 20), lin.utc) is not None  # its end is reachable
