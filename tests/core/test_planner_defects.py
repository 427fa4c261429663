"""Planner defects found in review: each test failed before its fix.

1. the tail anchor counts every regular log backup, usable or not (rules-notes item 6);
2. a tail plan stays on the recovery fork the database is on now (restore-rules B.6, error 4330);
3. a mark belongs to the incarnation (and fork) whose logs hold it, not to every lineage of its name;
4. every nearest point a refusal names plans itself;
5. --or-earlier also applies past the last backup (AFTER_LAST_BACKUP, TAIL_UNREACHABLE);
6. a UTC target is converted with the offset in force at it, and a repeated local hour is flagged;
7. a time in a fork-spanning log is reachable when the redo point entering it is past the fork point.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import NotRecoverable, UsageError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import LogMark
from restoreplan.core.plan import Action, StopKind
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.builders import FORK_A, FORK_B, diff, full, guid, history, log, when
from tests.core.test_property_planner import EVENTS, START, build


def plan(h, at, tail="never", name="db", **kw):
    target = at if isinstance(at, RecoveryTarget) else RecoveryTarget.at(when(at) if isinstance(at, str) else at)
    return plan_restore(h, name, target, PlanOptions(tail=tail, **kw))


def restored(p):
    return [s.backup.backup_set_uuid for s in p.steps if s.backup is not None]


def uuids(*sets):
    return [s.backup_set_uuid for s in sets]


def tail_step(p):
    [step] = [s for s in p.steps if s.is_tail]
    return step


# -- 1. the tail anchor ---------------------------------------------------------------------------
@pytest.mark.parametrize("broken", [dict(is_damaged=True), dict(media_family_count=2)])
def test_an_unusable_last_log_still_moves_the_start_of_the_tail(broken):
    f = full("09:10", 100, 110)
    l1 = log("09:30:10", 100, 200)
    l2 = log("10:00:10", 200, 300, **broken)  # taken, so it truncated the log: the tail begins at 300
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1, l2), "10:30", tail="auto")
    assert err.value.code == "TAIL_UNREACHABLE"
    assert err.value.lsn == 300 and err.value.backup_set_uuid == l2.backup_set_uuid
    assert "cannot be restored" in err.value.message
    assert err.value.nearest_before.local == "2026-01-05 09:30:10"


def test_a_full_after_the_unusable_log_reaches_the_tail():
    f = full("09:10", 100, 110)
    l1 = log("09:30:10", 100, 200)
    l2 = log("10:00:10", 200, 300, is_damaged=True)
    f2 = full("10:10", 305, 320)  # a full does not truncate the log: the tail [300, ...] holds 320
    p = plan(history(f, l1, l2, f2), "10:30", tail="auto")
    assert restored(p) == uuids(f2)
    assert "LSN 300" in tail_step(p).why


def test_a_copy_only_log_does_not_move_the_start_of_the_tail():
    f = full("09:10", 100, 110)
    l1 = log("09:30:10", 100, 200)
    copy = log("10:00:10", 200, 300, is_copy_only=True, is_damaged=True)
    p = plan(history(f, l1, copy), "10:30", tail="auto")
    assert restored(p) == uuids(f, l1)
    assert "LSN 200" in tail_step(p).why


def test_the_tail_begins_after_a_simple_period_not_at_the_last_log_before_it():
    f = full("09:10", 100, 110)
    l1 = log("09:30", 100, 200)
    f2 = full("09:50", 300, 310, recovery_model="SIMPLE")  # the log chain broke here
    f3 = full("10:10", 500, 510, size=5000)  # back in FULL: the chain (and the tail) begins with this full
    p = plan(history(f, l1, f2, f3), "10:30", tail="auto")
    assert restored(p) == uuids(f3)  # not the smaller f2, nor f + l1: the tail does not hold their ends
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1, f2, full("10:10", 500, 510, is_damaged=True)), "10:30", tail="auto")
    assert err.value.code == "TAIL_UNREACHABLE"


def test_no_tail_when_the_newest_backup_was_taken_in_simple_recovery_even_if_unusable():
    f = full("09:10", 100, 110)
    l1 = log("09:30", 100, 200)
    f2 = full("09:50", 300, 310, recovery_model="SIMPLE", is_damaged=True)
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1, f2), "10:30", tail="auto")
    assert err.value.code == "NO_TAIL_IN_SIMPLE" and err.value.nearest_before.local == "2026-01-05 09:30:00"


# -- 2. tail plans and recovery forks -----------------------------------------------------------------
def _forked(old_end=400):
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    l2 = log("10:30", 150, 200)  # the point-in-time restore stopped at LSN 170 inside it
    l2_old = log("10:45", 200, old_end)  # the old fork went on until the restore: higher LSNs than the new one
    span = log("11:15", 160, 260, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
               fork_point_lsn=LSN(170), start="11:14:30")
    l4 = log("11:30", 260, 290, fork=FORK_B)
    return f, l1, l2, l2_old, span, l4


@pytest.mark.parametrize("target", ["12:00", None])
def test_a_tail_plan_follows_the_path_to_the_live_fork(target):
    f, l1, l2, l2_old, span, l4 = _forked()
    h = history(f, l1, l2, l2_old, span, l4)
    p = plan(h, target, tail="auto") if target else plan(h, RecoveryTarget.latest(), tail="always")
    assert restored(p) == uuids(f, l1, l2, span, l4)
    assert "LSN 290" in tail_step(p).why
    assert any(s.stop and s.stop.kind is StopKind.STOPBEFOREMARK and s.stop.value == "lsn:160" for s in p.steps)


def test_an_lsn_on_two_forks_is_planned_on_the_live_fork_and_says_so():
    """LSN 270 is a record of the abandoned fork (in l2_old) and of the live one (in l4): the
    shortest plan (through l2_old) would stop on the wrong fork without a word (B.6)."""
    f, l1, l2, l2_old, span, l4 = _forked()
    p = plan(history(f, l1, l2, l2_old, span, l4), RecoveryTarget.at_lsn(LSN(270)))
    assert restored(p) == uuids(f, l1, l2, span, l4)
    assert p.steps[-2].stop is not None and p.steps[-2].stop.value == "lsn:270"
    assert any("2 recovery forks" in w and FORK_B in w and "now" in w for w in p.warnings)
    # an LSN only the old fork holds is planned there, without a warning
    p = plan(history(f, l1, l2, l2_old, span, l4), RecoveryTarget.at_lsn(LSN(350)))
    assert restored(p) == uuids(f, l1, l2, l2_old) and not any("recovery forks" in w for w in p.warnings)


def test_a_tail_plan_never_starts_from_a_full_of_an_abandoned_fork():
    f, l1, l2, l2_old, span, l4 = _forked(old_end=280)
    f_old = full("10:50", 270, 300, start="10:49")  # fork A, past the fork point: not on the path to B
    h = history(f, l1, l2, l2_old, f_old, span, l4)
    p = plan(h, "12:00", tail="auto")
    assert f_old.backup_set_uuid not in restored(p)
    assert restored(p) == uuids(f, l1, l2, span, l4)
    assert "LSN 290" in tail_step(p).why


def test_an_old_fork_log_ending_at_the_anchor_does_not_reach_the_tail():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    l2 = log("10:30", 150, 200)
    l2_old = log("10:45", 200, 290)  # fork A, ends exactly where the tail of fork B begins
    span = log("11:15", 160, 260, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
               fork_point_lsn=LSN(170), start="11:14:30", is_damaged=True)
    l4 = log("11:30", 260, 290, fork=FORK_B)
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1, l2, l2_old, span, l4), "12:00", tail="auto")
    assert err.value.code == "TAIL_UNREACHABLE"


# -- 3. marks of a dropped and recreated database, and of forks -----------------------------------------
def _recreated():
    old = guid(9101)
    o_f = full("08:10", 100, 110, family_guid=old, database_guid=old, fork=old, start="08:00")
    o_l1 = log("08:30:10", 100, 200, family_guid=old, database_guid=old, fork=old)
    f = full("10:20", 100, 120, start="10:10")
    l1 = log("10:30:10", 100, 180)
    l2 = log("11:00:10", 180, 300)
    marks = (LogMark("db", "Deploy", LSN(150), when("08:20")), LogMark("db", "Deploy", LSN(250), when("10:45")))
    return history(o_f, o_l1, f, l1, l2, marks=marks), old, (o_f, o_l1), (f, l1, l2)


def test_a_mark_of_another_incarnation_of_the_name_is_not_used():
    h, _, _, (f, l1, l2) = _recreated()
    p = plan(h, RecoveryTarget.at_mark("Deploy"))
    assert restored(p) == uuids(f, l1, l2)
    assert p.steps[-2].stop.kind is StopKind.STOPATMARK and p.steps[-2].stop.value == "Deploy"
    assert "LSN 250" in p.recovery_point


def test_each_incarnation_has_its_own_marks():
    h, old, (o_f, o_l1), _ = _recreated()
    p = plan(h, RecoveryTarget.at_mark("Deploy"), family_guid=old)
    assert restored(p) == uuids(o_f, o_l1)
    assert "LSN 150" in p.recovery_point


def test_a_mark_no_log_of_the_lineage_holds_is_named_as_such():
    f = full("10:20", 100, 120, start="10:10")
    l1 = log("10:30:10", 100, 180)
    h = history(f, l1, marks=(LogMark("db", "Deploy", LSN(150), when("08:20")),))  # before the database existed
    with pytest.raises(NotRecoverable) as err:
        plan(h, RecoveryTarget.at_mark("Deploy"))
    assert err.value.code == "UNKNOWN_MARK" and "no log backup of this lineage" in err.value.message


def test_a_mark_on_the_new_fork_is_reached_on_the_new_fork():
    f, l1, l2, l2_old, span, l4 = _forked(old_end=230)
    # LSN 210 is in the old fork's l2_old too, but the mark was made after it was backed up
    h = history(f, l1, l2, l2_old, span, l4, marks=(LogMark("db", "m", LSN(210), when("11:10")),))
    p = plan(h, RecoveryTarget.at_mark("m"))
    assert restored(p) == uuids(f, l1, l2, span)
    h_old = history(f, l1, l2, l2_old, span, l4, marks=(LogMark("db", "m", LSN(210), when("10:40")),))
    assert restored(plan(h_old, RecoveryTarget.at_mark("m"))) == uuids(f, l1, l2, l2_old)


# -- 4. nearest points ------------------------------------------------------------------------------
def test_nearest_before_after_the_last_backup_is_a_reachable_point():
    f = full("09:10", 100, 110)
    l1 = log("09:30:10", 100, 200)
    l3 = log("10:30:10", 300, 400)  # [200, 300] was lost
    h = history(f, l1, l3)
    with pytest.raises(NotRecoverable) as err:
        plan(h, "11:00", tail="never")
    assert err.value.code == "AFTER_LAST_BACKUP"
    assert err.value.nearest_before.local == "2026-01-05 09:30:10"
    assert "10:30:10" in err.value.message  # the last backup is still named as such


def test_nearest_before_is_never_an_empty_log_or_a_differential_without_a_restorable_base():
    f = full("09:10", 100, 110)
    l1 = log("09:30", 100, 200)
    empty = log("09:50", 200, 200)
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1, empty), "10:00", tail="never")
    assert err.value.nearest_before.local == "2026-01-05 09:30:00"
    snap = full("09:40", 300, 310, is_snapshot=True)
    d = diff("09:45", 320, 330, snap)
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1, snap, d), "10:00", tail="never")
    assert err.value.nearest_before.local == "2026-01-05 09:30:00"


def _refusal_points(h, t, tail):
    try:
        plan_restore(h, "db", RecoveryTarget.at(t), PlanOptions(tail=tail))
    except NotRecoverable as err:
        return [p for p in (err.nearest_before, err.nearest_after) if p is not None]
    return []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=16), offset=st.integers(0, 200),
       tail=st.sampled_from(["never", "auto", "always"]))
def test_every_nearest_point_a_refusal_names_plans(events, offset, tail):
    sets = build(events)
    if not sets:
        return
    h = history(*sets)
    t = START + timedelta(minutes=offset)
    for point in _refusal_points(h, t, tail):
        named = datetime.fromisoformat(point.local)
        p = plan_restore(h, "db", RecoveryTarget.at(named), PlanOptions(tail="never"))  # must not raise
        assert p.steps
        if point.local < t.isoformat(" "):
            assert named < t
        else:
            assert named > t


# -- 5. --or-earlier past the last backup ----------------------------------------------------------------
def test_or_earlier_after_the_last_backup_with_tail_never():
    f = full("09:10", 10, 20)
    l1 = log("09:30:10", 10, 60)
    p = plan(history(f, l1), "12:00", tail="never", or_earlier=True)
    assert restored(p) == uuids(f, l1)
    assert p.recovery_time.local_text == "2026-01-05 09:30:10"
    assert any(w.startswith("TARGET CHANGED") for w in p.warnings)
    assert all(not s.is_tail for s in p.steps)


def test_or_earlier_when_the_tail_is_unreachable():
    f = full("09:10", 100, 110)
    l1 = log("09:30:10", 100, 200)
    l2 = log("10:00:10", 200, 300, is_damaged=True)
    h = history(f, l1, l2)
    p = plan(h, "10:30", tail="auto", or_earlier=True)
    assert restored(p) == uuids(f, l1) and p.recovery_time.local_text == "2026-01-05 09:30:10"
    assert any(w.startswith("TARGET CHANGED") for w in p.warnings)
    assert not any(s.action is Action.BACKUP_TAIL_LOG for s in p.steps)
    latest = plan(h, RecoveryTarget.latest(), tail="always", or_earlier=True)
    assert restored(latest) == uuids(f, l1)
    assert latest.steps[0].action is Action.BACKUP_TAIL_LOG and not any(s.is_tail for s in latest.steps)


def test_or_earlier_in_simple_recovery():
    f = full("10:00", 100, 120, recovery_model="SIMPLE")
    p = plan(history(f), "11:00", tail="auto", or_earlier=True)
    assert restored(p) == uuids(f)
    assert not any(s.action is Action.BACKUP_TAIL_LOG for s in p.steps)


# -- 6. DST: the offset in force at the target ---------------------------------------------------------
def _fall_back():
    """US fall-back 2025-11-02 06:00Z: 02:00 EDT (-16) becomes 01:00 EST (-20); logs every 30 min."""
    sets = [full(datetime(2025, 11, 2, 0, 10), 100, 110, start=datetime(2025, 11, 2, 0, 0), time_zone=-16)]
    lsn = 100
    for utc in (datetime(2025, 11, 2, 4, 30) + timedelta(minutes=30 * i) for i in range(6)):
        off = -16 if utc < datetime(2025, 11, 2, 6, 0) else -20
        local = utc + timedelta(minutes=15 * off)
        sets.append(log(local + timedelta(seconds=10), lsn, lsn + 100, start=local, time_zone=off))
        lsn += 100
    return history(*sets)


def test_a_utc_target_just_before_the_change_uses_the_offset_then_in_force():
    p = plan(_fall_back(), datetime(2025, 11, 2, 5, 50, tzinfo=UTC))
    stop = p.steps[-2].stop
    assert stop.value == "2025-11-02 01:50:00" and stop.utc == "2025-11-02 05:50:00Z"  # 01:50 EDT, not 00:50


def test_a_utc_target_in_the_repeated_hour_is_flagged():
    edt = plan(_fall_back(), datetime(2025, 11, 2, 5, 50, tzinfo=UTC))
    est = plan(_fall_back(), datetime(2025, 11, 2, 6, 50, tzinfo=UTC))
    assert est.steps[-2].stop.value == "2025-11-02 01:50:00"
    for p in (edt, est):
        assert any("ambiguous" in w and "01:50:00" in w for w in p.warnings)
    calm = plan(_fall_back(), datetime(2025, 11, 2, 4, 50, tzinfo=UTC))
    assert calm.steps[-2].stop.value == "2025-11-02 00:50:00"
    assert not any("ambiguous" in w for w in calm.warnings)


def test_a_naive_time_in_the_repeated_hour_is_still_a_usage_error():
    with pytest.raises(UsageError):
        plan(_fall_back(), datetime(2025, 11, 2, 1, 50))


# -- 7. a differential past the fork point, then the spanning log ------------------------------------------
def test_a_time_in_a_spanning_log_entered_past_the_fork_point_is_reachable():
    f, l1, l2, l2_old, span, l4 = _forked(old_end=230)
    d = diff("11:10", 240, 250, f, fork=FORK_B, start="11:09")  # fork B, LSN 250 > fork point 170
    h = history(f, l1, l2, l2_old, d, span, l4)
    p = plan(h, "11:12")
    assert restored(p) == uuids(f, d, span)
    assert p.steps[-2].stop.kind is StopKind.STOPAT and p.steps[-2].stop.value == "2026-01-05 11:12:00"
    with pytest.raises(NotRecoverable) as err:  # entered at its first LSN, the spanning log still can't tell
        plan(history(f, l1, l2, l2_old, span, l4), "11:12")
    assert err.value.code in ("FORK_SPAN", "LOG_GAP")


def test_a_mark_name_on_two_forks_is_planned_on_the_live_fork_and_says_so():
    """"m" was marked on the old fork (LSN 220, before the restore) and again on the live one (LSN
    270): STOPATMARK stops at the first "m" of the logs restored, so the fork decides which; as for
    an LSN on two forks, the live fork is taken and the plan says so (B.6)."""
    f, l1, l2, l2_old, span, l4 = _forked()
    marks = (LogMark("db", "m", LSN(220), when("10:40")), LogMark("db", "m", LSN(270), when("11:25")))
    p = plan(history(f, l1, l2, l2_old, span, l4, marks=marks), RecoveryTarget.at_mark("m"))
    assert restored(p) == uuids(f, l1, l2, span, l4)
    assert "LSN 270" in p.recovery_point
    assert any("2 recovery forks" in w and FORK_B in w and "now" in w for w in p.warnings)
    # --after past the old fork's mark picks it on the live fork without a word
    p = plan(history(f, l1, l2, l2_old, span, l4, marks=marks), RecoveryTarget.at_mark("m", when("11:00")))
    assert restored(p) == uuids(f, l1, l2, span, l4) and not any("recovery forks" in w for w in p.warnings)


def test_a_mark_made_before_the_fork_point_is_on_the_live_fork_too():
    """"m" at LSN 130 precedes the fork point (170): the live fork's history holds it as well, so
    it is the first "m" on the live path, and no fork warning is due."""
    f, l1, l2, l2_old, span, l4 = _forked()
    marks = (LogMark("db", "m", LSN(130), when("10:10")), LogMark("db", "m", LSN(270), when("11:25")))
    p = plan(history(f, l1, l2, l2_old, span, l4, marks=marks), RecoveryTarget.at_mark("m"))
    assert not any("recovery forks" in w for w in p.warnings), p.warnings
    assert "LSN 130" in p.recovery_point


def test_an_unknown_fork_is_not_a_second_recovery_fork_of_a_mark():
    none = dict(first_recovery_fork_guid=None, last_recovery_fork_guid=None)
    f, l1 = full("10:00", 100, 120, **none), log("10:15", 110, 150, **none)
    l2 = log("10:30", 150, 200)
    marks = (LogMark("db", "m", LSN(130), when("10:10")), LogMark("db", "m", LSN(170), when("10:25")))
    p = plan(history(f, l1, l2, marks=marks), RecoveryTarget.at_mark("m"))
    assert restored(p) == uuids(f, l1)
    assert not any("recovery forks" in w for w in p.warnings)


def test_no_full_backup_names_why_each_full_cannot_be_restored():
    """--check-files with the full's file gone: the refusal names the missing file (docs review)."""
    f = full("09:10", 100, 110)
    h = history(f, log("09:30", 100, 200), unavailable={f.backup_set_uuid: "missing file(s): /b/full.bak"})
    with pytest.raises(NotRecoverable) as err:
        plan(h, "09:20", tail="auto")
    assert err.value.code == "NO_FULL_BACKUP" and f"{f.backup_set_uuid} (missing file(s): /b/full.bak)" in err.value.message
