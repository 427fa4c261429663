"""Restore-rules B.6-B.12: forks, SIMPLE, bulk-logged, snapshots, point-in-time, tail-log, marks, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from restoreplan.core.errors import NotRecoverable, UsageError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import LogMark, MediaFile
from restoreplan.core.plan import Action, StopKind
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.core.windows import recoverable_windows
from tests.builders import FAMILY, FORK_A, FORK_B, diff, full, guid, history, log, when


def plan(h, at, tail="never", name="db", **kw):
    target = at if isinstance(at, RecoveryTarget) else RecoveryTarget.at(when(at) if isinstance(at, str) else at)
    return plan_restore(h, name, target, PlanOptions(tail=tail, **kw))


def restored(p):
    return [s.backup.backup_set_uuid for s in p.steps if s.backup is not None]


# -- B.11 point in time -------------------------------------------------------------------
def test_data_backups_used_finished_at_or_before_the_target():
    f1 = full("10:00", 100, 120)
    f2 = full("10:40", 160, 180)  # finished after the target: not usable for 10:35
    l1 = log("10:15", 110, 150)
    l2 = log("10:45", 150, 200)
    h = history(f1, f2, l1, l2)
    assert restored(plan(h, "10:35")) == [f1.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid]


def test_target_exactly_at_a_data_backup_finish_needs_no_log():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    p = plan(history(f, l1), "10:00")
    assert restored(p) == [f.backup_set_uuid]
    assert all(s.stop is None for s in p.steps)


def test_the_last_log_is_the_first_whose_finish_reaches_the_target_and_nothing_follows():
    f = full("10:00", 100, 120)
    l1, l2, l3 = log("10:15", 110, 150), log("10:30", 150, 180), log("10:45", 180, 210)
    p = plan(history(f, l1, l2, l3), "10:30")
    assert restored(p) == [f.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid]


def test_stopat_is_on_every_restore_log_in_server_local_time():
    f = full("10:00", 100, 120, time_zone=-20)
    l1, l2 = log("10:15", 110, 150, time_zone=-20), log("10:30", 150, 180, time_zone=-20)
    p = plan(history(f, l1, l2), "10:20")
    logs = [s for s in p.steps if s.action is Action.RESTORE_LOG]
    assert len(logs) == 2
    assert all(s.stop is not None and s.stop.kind is StopKind.STOPAT and s.stop.value == "2026-01-05 10:20:00" for s in logs)
    assert logs[0].stop.utc == "2026-01-05 15:20:00Z"


def test_last_valid_restore_time_bounds_a_log_when_present():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150, last_valid_restore_time=when("10:14"))
    l2 = log("10:30", 150, 180)
    h = history(f, l1, l2)
    assert restored(plan(h, "10:14:30"))[-1] == l2.backup_set_uuid
    assert restored(plan(h, "10:14"))[-1] == l1.backup_set_uuid


def test_latest_is_the_end_of_the_reachable_chain_without_stopat():
    f = full("10:00", 100, 120)
    l1, l2 = log("10:15", 110, 150), log("10:30", 150, 180)
    p = plan(history(f, l1, l2), RecoveryTarget.latest())
    assert restored(p) == [f.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid]
    assert all(s.stop is None for s in p.steps)


def test_or_earlier_plans_to_the_nearest_earlier_point_and_says_so():
    f = full("10:00", 100, 120)
    l1, l3 = log("10:15", 110, 150), log("10:45", 180, 210)
    p = plan(history(f, l1, l3), "10:40", or_earlier=True)
    assert p.recovery_time is not None and p.recovery_time.local_text == "2026-01-05 10:15:00"
    assert any("TARGET CHANGED" in w for w in p.warnings)


def test_no_full_before_the_target():
    f = full("10:00", 100, 120)
    with pytest.raises(NotRecoverable) as err:
        plan(history(f), "09:00")
    assert err.value.code == "NO_FULL_BEFORE_TARGET"
    assert err.value.nearest_after is not None


# -- B.8 bulk-logged -------------------------------------------------------------------------
def test_target_inside_a_bulk_logged_log_is_refused_but_its_end_is_reachable():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    bulk = log("10:30", 150, 180, has_bulk_logged_data=True)
    l3 = log("10:45", 180, 210)
    h = history(f, l1, bulk, l3)
    with pytest.raises(NotRecoverable) as err:
        plan(h, "10:20")
    assert err.value.code == "BULK_LOGGED"
    assert err.value.backup_set_uuid == bulk.backup_set_uuid
    assert restored(plan(h, "10:30"))[-1] == bulk.backup_set_uuid
    assert restored(plan(h, "10:40"))[-1] == l3.backup_set_uuid
    windows = recoverable_windows(h.lineages[FAMILY])
    assert [(w.start.strftime("%H:%M"), w.end.strftime("%H:%M")) for w in windows] == [("10:00", "10:15"), ("10:30", "10:45")]


# -- B.10 snapshots ----------------------------------------------------------------------------
def test_snapshot_full_is_not_restorable_and_its_differentials_are_unusable():
    f = full("09:00", 50, 70)
    snap = full("10:00", 100, 120, is_snapshot=True, files=("{6A3F...}",))
    d = diff("11:00", 200, 220, snap)
    l1, l2 = log("10:30", 60, 210), log("11:30", 210, 300)
    h = history(f, snap, d, l1, l2)
    assert restored(plan(h, "11:20")) == [f.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid]


def test_virtual_device_full_is_not_restorable():
    vd = full("10:00", 100, 120)
    vd = vd.__class__(**{**{k: getattr(vd, k) for k in vd.__slots__}, "files": (MediaFile("{GUID}", 1, 0, 7),)})
    with pytest.raises(NotRecoverable):
        plan(history(vd), "10:00")


def test_damaged_backup_is_not_used():
    f = full("10:00", 100, 120, is_damaged=True)
    with pytest.raises(NotRecoverable):
        plan(history(f), "10:00")


# -- B.7 SIMPLE recovery and chain restarts --------------------------------------------------
def test_simple_recovery_only_reaches_data_backup_end_points():
    f = full("10:00", 100, 120, recovery_model="SIMPLE")
    d = diff("11:00", 200, 220, f, recovery_model="SIMPLE")
    h = history(f, d)
    assert restored(plan(h, "11:00")) == [f.backup_set_uuid, d.backup_set_uuid]
    with pytest.raises(NotRecoverable) as err:
        plan(h, "10:30")
    assert err.value.code == "SIMPLE_RECOVERY"
    windows = recoverable_windows(h.lineages[FAMILY])
    assert [(w.start, w.end) for w in windows] == [(when("10:00"), when("10:00")), (when("11:00"), when("11:00"))]


def test_log_chain_restarts_after_simple_from_a_differential():
    """B.7.1: after switching back to FULL, a differential starts the chain again."""
    f = full("08:00", 10, 20, recovery_model="SIMPLE")
    d = diff("10:00", 100, 120, f)  # FULL again
    l1 = log("10:15", 110, 150, begins_log_chain=True)
    h = history(f, d, l1)
    assert restored(plan(h, "10:10")) == [f.backup_set_uuid, d.backup_set_uuid, l1.backup_set_uuid]


def test_a_log_that_begins_a_chain_never_follows_another_log():
    f = full("08:00", 10, 20)
    l0 = log("08:15", 15, 100)
    restart = log("10:15", 100, 150, begins_log_chain=True)  # LSN-adjacent, but a new chain
    h = history(f, l0, restart)
    with pytest.raises(NotRecoverable):
        plan(h, "10:10")


# -- B.7.3 lineages ----------------------------------------------------------------------------
def test_recreated_database_is_another_lineage_and_the_target_picks_it():
    old_f = full("08:00", 100, 120, family_guid=guid(9001))
    new_f = full("12:00", 10, 20, family_guid=guid(9002))
    new_l = log("12:15", 15, 40, family_guid=guid(9002))
    h = history(old_f, new_f, new_l)
    assert len(h.lineages) == 2
    p = plan(h, "12:10")
    assert restored(p) == [new_f.backup_set_uuid, new_l.backup_set_uuid]
    assert any("--family-guid" in w for w in p.warnings)
    p_old = plan(h, "08:00")
    assert restored(p_old) == [old_f.backup_set_uuid]
    forced = plan(h, "08:00", family_guid=guid(9001))
    assert forced.lineage_key == guid(9001)


def test_unknown_database_name_lists_the_names():
    with pytest.raises(UsageError) as err:
        plan(history(full("10:00", 1, 2)), "10:00", name="nope")
    assert "db" in err.value.hint


# -- B.6 recovery forks -------------------------------------------------------------------------
def _forked():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    l2 = log("10:30", 150, 200)  # the point-in-time restore stopped at LSN 170 inside it
    l2_old = log("10:45", 200, 230)  # the old fork went on until the restore
    span = log("11:15", 160, 260, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
               fork_point_lsn=LSN(170), start="11:14:30")
    l4 = log("11:30", 260, 290, fork=FORK_B)
    return f, l1, l2, l2_old, span, l4


def test_after_a_fork_the_old_log_stops_before_the_forked_log_begins():
    f, l1, l2, l2_old, span, l4 = _forked()
    h = history(f, l1, l2, l2_old, span, l4)
    p = plan(h, "11:20")
    assert restored(p) == [f.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid, span.backup_set_uuid,
                           l4.backup_set_uuid]
    stop_before = [s for s in p.steps if s.stop and s.stop.kind is StopKind.STOPBEFOREMARK]
    assert len(stop_before) == 1 and stop_before[0].stop.value == "lsn:160"


def test_the_old_fork_timeline_is_still_reachable():
    f, l1, l2, l2_old, span, l4 = _forked()
    h = history(f, l1, l2, l2_old, span, l4)
    assert restored(plan(h, "10:40")) == [f.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid, l2_old.backup_set_uuid]


def test_a_log_of_another_fork_is_never_applied():
    f = full("10:00", 100, 120)
    other = log("10:15", 110, 150, fork=FORK_B)
    with pytest.raises(NotRecoverable):
        plan(history(f, other), "10:10")


def test_a_log_spanning_a_fork_holds_the_target_only_from_its_start():
    f, l1, l2, l2_old, span, l4 = _forked()
    h = history(f, l1, l2, l2_old, span, l4)
    with pytest.raises(NotRecoverable) as err:
        plan(h, "11:00")  # after the old fork's last log, before the spanning log began
    assert err.value.code in ("FORK_SPAN", "LOG_GAP")
    assert restored(plan(h, "11:15"))[-1] == span.backup_set_uuid


# -- B.12 tail-log ---------------------------------------------------------------------------------
def test_tail_log_added_when_the_target_is_after_the_last_log():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    h = history(f, l1)
    p = plan(h, "11:00", tail="auto")
    actions = [s.action for s in p.steps]
    assert actions == [Action.BACKUP_TAIL_LOG, Action.RESTORE_DATABASE, Action.RESTORE_LOG, Action.RESTORE_LOG, Action.RECOVER]
    assert p.steps[-2].is_tail and p.steps[-2].stop.value == "2026-01-05 11:00:00"


def test_tail_never_refuses_and_names_the_latest_point():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1), "11:00", tail="never")
    assert err.value.code == "AFTER_LAST_BACKUP"
    assert err.value.nearest_before.local == "2026-01-05 10:15:00"


def test_tail_always_backs_up_the_tail_but_restores_it_only_when_needed():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    p = plan(history(f, l1), "10:10", tail="always")
    assert p.steps[0].action is Action.BACKUP_TAIL_LOG
    assert not any(s.is_tail for s in p.steps)


def test_tail_needs_an_unbroken_chain_to_the_last_log():
    f = full("10:00", 100, 120)
    l1, l3 = log("10:15", 110, 150), log("10:45", 180, 210)
    with pytest.raises(NotRecoverable) as err:
        plan(history(f, l1, l3), "11:00", tail="auto")
    assert err.value.code == "TAIL_UNREACHABLE"


def test_no_tail_in_simple_recovery():
    f = full("10:00", 100, 120, recovery_model="SIMPLE")
    with pytest.raises(NotRecoverable) as err:
        plan(history(f), "11:00", tail="auto")
    assert err.value.code == "NO_TAIL_IN_SIMPLE"


# -- marks and LSN targets -------------------------------------------------------------------------
def test_lsn_target_stops_at_mark_lsn_in_the_log_that_holds_it():
    f = full("10:00", 100, 120)
    l1, l2 = log("10:15", 110, 150), log("10:30", 150, 180)
    p = plan(history(f, l1, l2), RecoveryTarget.at_lsn(LSN(160)))
    assert restored(p)[-1] == l2.backup_set_uuid
    assert p.steps[-2].stop.kind is StopKind.STOPATMARK and p.steps[-2].stop.value == "lsn:160"


def test_mark_targets_use_logmarkhistory():
    f = full("10:00", 100, 120)
    l1, l2 = log("10:15", 110, 150), log("10:30", 150, 180)
    marks = (LogMark("db", "deploy", LSN(140), when("10:12")), LogMark("db", "deploy", LSN(170), when("10:28")))
    h = history(f, l1, l2, marks=marks)
    p = plan(h, RecoveryTarget.at_mark("deploy"))
    assert restored(p)[-1] == l1.backup_set_uuid and p.steps[-2].stop.value == "deploy"
    p2 = plan(h, RecoveryTarget.at_mark("deploy", when("10:20"), before=True))
    assert restored(p2)[-1] == l2.backup_set_uuid and p2.steps[-2].stop.kind is StopKind.STOPBEFOREMARK
    with pytest.raises(NotRecoverable):
        plan(h, RecoveryTarget.at_mark("nope"))


# -- time zones -----------------------------------------------------------------------------------
def _dst_history():
    """US fall-back on 2026-11-01: 02:00 EDT (-16) becomes 01:00 EST (-20)."""
    sets = [full(datetime(2026, 10, 31, 23, 0), 100, 120, time_zone=-16)]
    lsn = 110
    offsets = []
    for i in range(12):  # every 15 minutes of UTC time from 04:00Z
        utc = datetime(2026, 11, 1, 4, 0) + timedelta(minutes=15 * i)
        off = -16 if utc < datetime(2026, 11, 1, 6, 0) else -20
        local = utc + timedelta(minutes=15 * off)
        sets.append(log(local, lsn, lsn + 30, time_zone=off, start=local - timedelta(seconds=5)))
        offsets.append(off)
        lsn += 30
    return history(*sets)


def test_ambiguous_local_time_in_the_repeated_hour_is_a_usage_error():
    h = _dst_history()
    with pytest.raises(UsageError) as err:
        plan(h, datetime(2026, 11, 1, 1, 30))
    assert "offset" in err.value.hint


def test_explicit_offset_resolves_the_repeated_hour():
    h = _dst_history()
    edt = plan(h, datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=-4))))
    est = plan(h, datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=-5))))
    assert len(est.restore_steps) == len(edt.restore_steps) + 4  # one hour of 15-minute logs later
    assert edt.steps[-2].stop.value == "2026-11-01 01:30:00"
    assert est.steps[-2].stop.value == "2026-11-01 01:30:00"
    assert est.steps[-2].stop.utc == "2026-11-01 06:30:00Z"


def test_utc_target_with_z_is_converted_with_the_backups_offsets():
    h = _dst_history()
    p = plan(h, datetime(2026, 11, 1, 4, 40, tzinfo=UTC))
    assert p.steps[-2].stop.value == "2026-11-01 00:40:00"
