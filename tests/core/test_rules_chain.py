"""Restore-rules B.1-B.5: LSN chain, first log after a data backup, differential bases, copy-only."""

from __future__ import annotations

import pytest

from restoreplan.core.errors import NotRecoverable
from restoreplan.core.lsn import LSN
from restoreplan.core.plan import Plan
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.builders import FORK_A, FORK_B, diff, full, history, log, when, with_


def plan(h, at: str, tail: str = "never", **kw) -> Plan:
    return plan_restore(h, "db", RecoveryTarget.at(when(at)), PlanOptions(tail=tail, **kw))


def restored(p: Plan) -> list[str]:
    return [s.backup.backup_set_uuid for s in p.steps if s.backup is not None]


def test_log_applies_when_it_contains_the_redo_point():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 90, 150)  # began before the full ended: first_lsn <= P < last_lsn
    h = history(f, l1)
    assert restored(plan(h, "10:10")) == [f.backup_set_uuid, l1.backup_set_uuid]


def test_log_that_ends_at_the_redo_point_is_not_applied():
    """B.2 edge: last_lsn == P adds nothing (error 4326 if restored)."""
    f = full("10:00", 100, 150)
    l_same = log("10:01", 120, 150)
    l_next = log("10:15", 150, 200)
    h = history(f, l_same, l_next)
    assert restored(plan(h, "10:10")) == [f.backup_set_uuid, l_next.backup_set_uuid]


def test_first_log_is_chosen_by_last_lsn_not_checkpoint_lsn():
    """B.3: a log that ends between the full's checkpoint and its last_lsn is inside the full."""
    f = full("10:00", 100, 160, ckpt=110)
    concurrent = log("09:59", 90, 130)  # contains the checkpoint but ends before P = 160
    after = log("10:15", 130, 200)
    h = history(f, concurrent, after)
    assert restored(plan(h, "10:10")) == [f.backup_set_uuid, after.backup_set_uuid]


def test_gap_in_the_log_chain_is_refused_with_the_lsn_of_error_4305():
    f = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    l3 = log("10:45", 180, 210)  # 150..180 is missing
    h = history(f, l1, l3)
    with pytest.raises(NotRecoverable) as err:
        plan(h, "10:40")
    assert err.value.code == "LOG_GAP"
    assert "LSN 150" in err.value.message
    assert err.value.nearest_before is not None and err.value.nearest_before.local.endswith("10:15:00")
    assert err.value.nearest_after is None


def test_a_later_full_bridges_a_gap():
    f1 = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    f2 = full("11:00", 200, 230)
    l4 = log("11:15", 180, 260)
    h = history(f1, l1, f2, l4)
    assert restored(plan(h, "11:10")) == [f2.backup_set_uuid, l4.backup_set_uuid]


def test_an_older_full_and_logs_across_a_newer_full_when_the_newer_is_unusable():
    """B.3: a full does not break the chain (restore from an older full through all logs)."""
    f1 = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    f2 = full("10:20", 155, 170, is_damaged=True)
    l2 = log("10:30", 150, 200)
    h = history(f1, l1, f2, l2)
    assert restored(plan(h, "10:25")) == [f1.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid]


def test_differential_follows_the_full_named_by_its_base_guid():
    """B.4: the base is the full whose backup_set_uuid is the differential_base_guid."""
    f1 = full("10:00", 100, 120)
    f2 = full("11:00", 200, 220)
    d_on_f1 = diff("11:30", 300, 320, f1)  # taken... pointing at f1 (e.g. f2 was copy-only elsewhere)
    chain = log("11:45", 100, 400)
    h = history(f1, f2, d_on_f1, chain)
    p = plan(h, "11:30")
    assert restored(p) == [f1.backup_set_uuid, d_on_f1.backup_set_uuid]


def test_only_the_latest_differential_is_restored():
    f = full("10:00", 100, 120)
    d1 = diff("11:00", 200, 220, f)
    d2 = diff("12:00", 300, 320, f)
    l0 = log("10:30", 110, 150)
    l0b = log("11:30", 150, 250)
    l1 = log("12:15", 250, 400)
    h = history(f, d1, d2, l0, l0b, l1)
    assert restored(plan(h, "12:10")) == [f.backup_set_uuid, d2.backup_set_uuid, l1.backup_set_uuid]


def test_differential_of_another_base_is_never_used():
    f1 = full("10:00", 100, 120)
    other_base = "99999999-9999-4999-8999-999999999999"
    d = diff("11:00", 200, 220, f1, differential_base_guid=other_base)
    logs = [log("10:15", 110, 130), log("10:30", 130, 160), log("10:45", 160, 190)]
    h = history(f1, d, *logs)
    p = plan(h, "10:40")
    assert d.backup_set_uuid not in restored(p)


def test_copy_only_full_starts_a_log_chain_but_is_no_differential_base():
    """B.5: a copy-only full can start the chain; no differential can follow it."""
    f = full("10:00", 100, 120)
    c = full("11:00", 200, 220, is_copy_only=True)
    d = diff("12:00", 300, 320, f)  # base is still f
    l1 = log("10:15", 110, 210)
    l2 = log("11:15", 210, 250)
    l3 = log("12:15", 250, 330)
    h = history(f, c, d, l1, l2, l3)
    assert restored(plan(h, "11:10")) == [c.backup_set_uuid, l2.backup_set_uuid]
    assert restored(plan(h, "12:10")) == [f.backup_set_uuid, d.backup_set_uuid, l3.backup_set_uuid]


def test_differential_on_a_copy_only_full_is_rejected():
    c = full("10:00", 100, 120, is_copy_only=True)
    bad = diff("11:00", 200, 220, c)
    h = history(c, bad)
    with pytest.raises(NotRecoverable):
        plan(h, "11:00")
    assert restored(plan(h, "10:00")) == [c.backup_set_uuid]


def test_empty_logs_are_never_restored():
    f = full("10:00", 100, 120)
    empty = log("10:05", 150, 150)
    l1 = log("10:15", 110, 150)
    l2 = log("10:30", 150, 170)
    h = history(f, empty, l1, l2)
    p = plan(h, "10:20")
    assert empty.backup_set_uuid not in restored(p)
    assert restored(p)[-1] == l2.backup_set_uuid


def test_fewest_steps_then_fewest_bytes():
    f = full("10:00", 100, 120, size=1000)
    d_small = diff("11:00", 200, 220, f, size=10)
    l1 = log("10:30", 110, 205, size=5)
    l2 = log("11:30", 205, 300, size=5)
    h = history(f, d_small, l1, l2)
    # full + diff + l2 and full + l1 + l2 both take 3 steps: the cheaper wins
    p = plan(h, "11:20")
    assert [s.backup.backup_set_uuid for s in p.restore_steps] == [f.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid]
    assert p.bytes_read == 1010


def test_ties_go_to_the_newest_data_backup():
    f1 = full("10:00", 100, 120, size=100)
    f2 = full("10:30", 130, 150, size=100)
    l1 = log("10:45", 110, 200, size=1)
    h = history(f1, f2, l1)
    assert restored(plan(h, "10:40"))[0] == f2.backup_set_uuid


def test_availability_group_replicas_chain_together():
    f = full("10:00", 100, 120, server_name="NODE1")
    l1 = log("10:15", 110, 150, server_name="NODE2")
    h = history(f, l1)
    p = plan(h, "10:10")
    assert restored(p) == [f.backup_set_uuid, l1.backup_set_uuid]
    assert any("several servers" in w for w in p.warnings)


def test_missing_stripe_makes_a_set_unusable():
    f_ok = full("09:00", 50, 70)
    l0 = log("09:30", 60, 100)
    f_striped = full("10:00", 100, 120, files=("/b/f_1.bak",), media_family_count=2)
    l1 = log("10:15", 100, 150)
    h = history(f_ok, l0, f_striped, l1)
    p = plan(h, "10:10")
    assert f_striped.backup_set_uuid not in restored(p)
    assert restored(p)[0] == f_ok.backup_set_uuid


def test_with_unavailable_backups_the_plan_goes_around_them():
    f = full("10:00", 100, 120)
    d = diff("11:00", 200, 220, f)
    l1 = log("10:30", 110, 210)
    l2 = log("11:30", 210, 300)
    h = history(f, d, l1, l2, unavailable={d.backup_set_uuid: "missing file(s): x"})
    assert restored(plan(h, "11:20")) == [f.backup_set_uuid, l1.backup_set_uuid, l2.backup_set_uuid]


def test_striped_devices_list_one_device_per_family_lowest_mirror():
    from restoreplan.core.model import MediaFile

    f = full("10:00", 100, 120)
    f = with_(f, files=(MediaFile("/m1/a_2.bak", 2, 1), MediaFile("/m0/a_1.bak", 1, 0), MediaFile("/m0/a_2.bak", 2, 0),
                        MediaFile("/m1/a_1.bak", 1, 1)), media_family_count=2)
    assert f.devices() == ("/m0/a_1.bak", "/m0/a_2.bak")


def test_without_a_base_guid_the_differential_base_is_found_by_checkpoint_lsn():
    """B.4 secondary evidence, for exports that lack differential_base_guid (dbatools history)."""
    from restoreplan.core.lsn import LSN

    f = full("10:00", 100, 120, ckpt=105)
    d = diff("11:00", 200, 220, f, differential_base_guid=None, database_backup_lsn=LSN(105))
    orphan = diff("11:30", 300, 320, f, differential_base_guid=None, database_backup_lsn=LSN(999))
    h = history(f, d, orphan)
    assert restored(plan(h, "11:00")) == [f.backup_set_uuid, d.backup_set_uuid]
    with pytest.raises(NotRecoverable):
        plan(h, "11:30")


def test_an_unreachable_lsn_names_the_nearest_reachable_points_around_it():
    """A refusal names the nearest alternative: for an LSN inside a gap of the chain, the last
    reachable time before the gap and the first one after it (an LSN has no time of its own)."""
    f1 = full("10:00", 100, 120)
    l1 = log("10:15", 110, 150)
    l3 = log("10:45", 180, 210)  # 150..180 is missing
    f2 = full("11:00", 220, 240)
    l4 = log("11:15", 210, 260)
    h = history(f1, l1, l3, f2, l4)
    with pytest.raises(NotRecoverable) as err:
        plan_restore(h, "db", RecoveryTarget.at_lsn(LSN(165)), PlanOptions(tail="never"))
    assert err.value.code == "LSN_NOT_REACHABLE"
    assert err.value.nearest_before is not None and err.value.nearest_before.local.endswith("10:15:00")
    assert err.value.nearest_after is not None and err.value.nearest_after.local.endswith("11:00:00")


def test_an_lsn_no_log_holds_is_placed_on_the_live_fork():
    """Fork A has a gap around LSN 200; the database was restored to LSN 140 and went on on fork B
    (logs to 190). No log holds 200: its nearest points are taken on the fork the database is on
    now, never one fork's time for "before" and the other's for "after" (11:30 before, 11:14:30
    after, as it was)."""
    sets = [full("10:00", 100, 120), log("10:15", 110, 150), log("10:30", 150, 180), log("11:00", 210, 240),
            log("11:15", 130, 160, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
                fork_point_lsn=LSN(140)),
            log("11:30", 160, 190, fork=FORK_B)]
    with pytest.raises(NotRecoverable) as err:
        plan_restore(history(*sets), "db", RecoveryTarget.at_lsn(LSN(200)), PlanOptions(tail="never"))
    e = err.value
    assert e.code == "LSN_NOT_REACHABLE"
    assert e.nearest_before is not None and e.nearest_before.local.endswith("11:30:00")
    assert e.nearest_after is None or e.nearest_before.local <= e.nearest_after.local


def test_an_lsn_inside_the_full_has_the_full_end_as_its_nearest_point_after():
    """LSN 150 lies inside the only full (100-200): the first state that holds it is the full's end."""
    sets = [full("10:00", 100, 200, start="09:50"), log("10:15", 90, 250), log("10:30", 250, 300)]
    with pytest.raises(NotRecoverable) as err:
        plan_restore(history(*sets), "db", RecoveryTarget.at_lsn(LSN(150)), PlanOptions(tail="never"))
    assert err.value.code == "LSN_NOT_REACHABLE"
    assert err.value.nearest_after is not None and err.value.nearest_after.local == "2026-01-05 10:00:00"


def test_the_nearest_point_after_an_lsn_of_the_abandoned_fork_is_never_a_point_of_the_live_fork():
    """LSN 300 lies only on fork A, behind a gap; the times after it plan onto fork B, whose
    states never held it: no nearest point after is named rather than one of another fork."""
    f, l1, l2 = full("10:00", 100, 120), log("10:15", 110, 150), log("10:30", 150, 200)
    l3_old = log("10:45", 205, 400)
    span = log("11:15", 160, 260, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
               fork_point_lsn=LSN(170), start="11:14:30")
    l4 = log("11:30", 260, 290, fork=FORK_B)
    h = history(f, l1, l2, l3_old, span, l4)
    with pytest.raises(NotRecoverable) as err:
        plan_restore(h, "db", RecoveryTarget.at_lsn(LSN(300)), PlanOptions(tail="never"))
    e = err.value
    assert e.code == "LSN_NOT_REACHABLE"
    assert e.nearest_after is None
    assert e.nearest_before is not None and e.nearest_before.local.endswith("10:30:00")
