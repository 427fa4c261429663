"""Validate must never say OK while time is lost: the defects found in review, one test each.

A lost stretch of time (no recoverable window covers it, though log backups exist for it) is
always an error finding, whatever broke the chain: a missing log, a recovery fork no log leads
onto, a chain restart no data backup starts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from restoreplan.core.errors import NotRecoverable
from restoreplan.core.findings import Severity
from restoreplan.core.lsn import LSN
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.core.validate import ValidateOptions, validate_history
from tests.builders import FORK_A, FORK_B, diff, full, history, log, when

NO_TAIL = PlanOptions(tail="never")


def findings(h, **opts):
    return [f for lf in validate_history(h, ValidateOptions(**opts)) for f in lf.findings]


def errors(h, **opts):
    return [f for f in findings(h, **opts) if f.severity is Severity.ERROR]


def only(h, code, **opts):
    return [f for f in findings(h, **opts) if f.code == code]


def lost(f):
    return (f.lost_from.local_text if f.lost_from else None, f.lost_to.local_text if f.lost_to else None)


def fork_sets():
    """c6b: the database was restored WITH RECOVERY onto fork B; no log records the switch."""
    f = full("10:00", 100, 200, start="09:50")
    old = [log("10:15", 200, 300), log("10:30", 300, 400), log("10:45", 400, 500)]
    new = [log("11:30", 350, 450, fork=FORK_B), log("11:45", 450, 550, fork=FORK_B)]
    return [f, *old, *new]


# -- defect 1: a fork no log leads onto ------------------------------------------------------


def test_logs_on_a_fork_no_backup_leads_onto_are_a_log_gap():
    sets = fork_sets()
    h = history(*sets)
    try:  # the planner agrees that 11:40 is lost
        plan_restore(h, "db", RecoveryTarget.at(when("11:40")), NO_TAIL)
        raise AssertionError("11:40 should not be reachable")
    except NotRecoverable:
        pass
    [gap] = only(h, "LOG_GAP")
    assert gap.severity is Severity.ERROR
    assert gap.backup is sets[4]  # the first log of fork B
    assert FORK_B in gap.message and "No point in time is lost" not in gap.message
    assert lost(gap) == ("2026-01-05 10:45:00", None)


def test_a_full_on_the_new_fork_bridges_the_fork_but_the_stretch_before_it_is_lost():
    sets = fork_sets() + [full("11:50", 540, 560, start="11:48", ckpt=545, fork=FORK_B),
                          log("12:00", 550, 650, fork=FORK_B)]
    [gap] = only(history(*sets), "LOG_GAP")
    assert gap.backup is sets[4]
    assert lost(gap) == ("2026-01-05 10:45:00", "2026-01-05 11:50:00")


def test_a_spanning_log_leads_onto_the_fork_and_nothing_is_an_error():
    f = full("10:00", 100, 200, start="09:50")
    sets = [f, log("10:15", 200, 300), log("10:30", 300, 400), log("10:45", 400, 500),
            log("11:15", 250, 350, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
                fork_point_lsn=LSN(250)),
            log("11:30", 350, 450, fork=FORK_B), log("11:45", 450, 550, fork=FORK_B)]
    assert errors(history(*sets)) == []


# -- defect 2: a chain restart that no data backup starts ---------------------------------------


def restart_sets():
    """c13: SIMPLE, then back to FULL; a log begins the new chain, but no full or differential
    started it, so none of the new chain's logs can be restored."""
    return [full("10:00", 100, 200, start="09:50"), log("10:15", 200, 300),
            log("10:45", 390, 500, begins_log_chain=True), log("11:00", 500, 600), log("11:15", 600, 700)]


def test_a_chain_restart_without_a_data_backup_to_start_it_is_an_error():
    sets = restart_sets()
    errs = errors(history(*sets))
    assert errs, "the logs after the restart cannot be restored: time is lost"
    [gap] = errs
    assert gap.code == "LOG_GAP" and gap.backup is sets[2]
    assert "begins_log_chain" in gap.message or "new log chain" in gap.message
    assert lost(gap) == ("2026-01-05 10:15:00", None)
    assert "CHAIN_RESTART" not in [f.code for f in findings(history(*sets))]


def test_a_chain_restart_started_by_a_differential_stays_a_warning():
    f = full("10:00", 100, 200, start="09:50", size=1000)
    sets = [f, log("10:15", 200, 300), full("10:30", 350, 360, recovery_model="SIMPLE", size=1000),
            diff("10:40", 380, 395, f), log("10:45", 390, 500, begins_log_chain=True), log("11:00", 500, 600)]
    fs = findings(history(*sets))
    assert [f.code for f in fs if f.severity is not Severity.INFO] == ["CHAIN_RESTART"]


# -- defect 3: a gap right after the first full ------------------------------------------------


def gap_after_full_sets():
    """c14: the full ends at LSN 200, the logs begin at 300."""
    return [full("10:00", 100, 200, start="09:50"), log("10:30", 300, 400), log("10:45", 400, 500),
            log("11:00", 500, 600)]


def test_a_gap_right_after_the_first_full_is_a_log_gap_naming_its_redo_point():
    sets = gap_after_full_sets()
    [gap] = only(history(*sets), "LOG_GAP")
    assert gap.lsn is not None and gap.lsn.value == 200
    assert gap.backup is sets[1]
    assert "4305" in gap.message
    assert lost(gap) == ("2026-01-05 10:00:00", None)


def test_stale_log_counts_only_usable_logs():
    h = history(*gap_after_full_sets())
    [stale] = only(h, "STALE_LOG", max_log_age=timedelta(hours=1), as_of=datetime(2026, 1, 5, 11, 10))
    assert stale.severity is Severity.ERROR
    [lf] = validate_history(h, ValidateOptions(max_log_age=timedelta(hours=1), as_of=datetime(2026, 1, 5, 11, 10)))
    assert lf.log_age is None  # no usable log at all


def test_stale_log_ages_from_the_newest_reachable_log():
    sets = [full("10:00", 100, 200, start="09:50"), log("10:15", 200, 300), log("11:00", 350, 450)]
    [lf] = validate_history(history(*sets), ValidateOptions(max_log_age=timedelta(minutes=30),
                                                            as_of=datetime(2026, 1, 5, 11, 10)))
    assert lf.log_age == timedelta(minutes=55)
    assert "STALE_LOG" in [f.code for f in lf.findings]


def test_a_gap_after_the_full_bridged_by_a_differential():
    f = full("10:00", 100, 200, start="09:50")
    sets = [f, log("10:30", 300, 400), log("10:45", 400, 500), diff("10:50", 420, 480, f, ckpt=450),
            log("11:00", 500, 600)]
    [gap] = only(history(*sets), "LOG_GAP")
    assert gap.lsn is not None and gap.lsn.value == 200
    assert lost(gap) == ("2026-01-05 10:00:00", "2026-01-05 10:50:00")


def test_logs_before_the_first_full_are_not_a_gap():
    # the history begins with logs whose full was purged; the chain runs on through the full
    sets = [log("09:30", 50, 80), log("09:45", 80, 110), full("10:00", 100, 120), log("10:15", 110, 150)]
    assert errors(history(*sets)) == []


def test_a_log_concurrent_with_the_full_is_not_a_gap():
    sets = [log("09:45", 50, 300, start="09:44:30"), full("10:00", 100, 400, ckpt=110, start="09:30"),
            log("09:59:58", 300, 450, start="09:59:50"), log("10:15", 450, 550), log("10:30", 550, 650)]
    assert errors(history(*sets)) == []


# -- defect 5: "No point in time is lost" when everything after the gap is ----------------------


def test_a_copy_only_log_before_a_gap_does_not_hide_the_loss():
    sets = [full("10:00", 100, 200, start="09:50"), log("10:15", 200, 300),
            log("10:20", 300, 350, is_copy_only=True), log("10:45", 400, 500), log("11:00", 500, 600)]
    [gap] = only(history(*sets), "LOG_GAP")
    assert "No point in time is lost" not in gap.message
    assert lost(gap) == ("2026-01-05 10:20:00", None)
    assert "after 2026-01-05 10:20:00" in gap.message


def test_ages_at_a_past_as_of_count_only_the_backups_finished_by_then():
    """--as-of 10:20 with a full at 10:00 and logs at 10:15, 10:30, 10:45 (and a full at 11:00):
    the newest full then is 20 minutes old and the newest log 5, not negative ages from later ones."""
    sets = [full("10:00", 100, 120), log("10:15", 110, 150), log("10:30", 150, 180), log("10:45", 180, 210),
            full("11:00", 215, 230)]
    [lf] = validate_history(history(*sets), ValidateOptions(max_full_age=timedelta(minutes=10),
                                                            max_log_age=timedelta(minutes=10),
                                                            as_of=datetime(2026, 1, 5, 10, 20)))
    assert (lf.full_age, lf.log_age) == (timedelta(minutes=20), timedelta(minutes=5))
    codes = [f.code for f in lf.findings]
    assert "STALE_FULL" in codes and "STALE_LOG" not in codes


def test_log_age_at_a_past_as_of_does_not_count_a_log_only_a_later_log_makes_reachable():
    """At 10:27 the copy-only log of 10:25 (an orphan then: it follows no log) was no recovery
    point; the newest usable log was that of 10:15, twelve minutes old."""
    sets = [full("10:00", 100, 120), log("10:15", 110, 150),
            log("10:25", 155, 170, is_copy_only=True), log("10:30", 150, 180)]
    [lf] = validate_history(history(*sets), ValidateOptions(max_log_age=timedelta(minutes=10),
                                                            as_of=when("10:27")))
    assert lf.log_age == timedelta(minutes=12)
    assert "STALE_LOG" in [f.code for f in lf.findings]


def test_data_backups_stranded_by_a_break_each_name_their_own_stretch() -> None:
    """A full, then three differentials with no log after any of them, then a log no chain
    reaches: each data backup's end is a stretch of its own, named with the LSN whose log
    would restore it, and the stretches run on without a hole to where nothing is recoverable."""
    f = full("10:00", 100, 120, ckpt=110)
    sets = [f, diff("10:20", 130, 140, f), diff("10:40", 150, 160, f), diff("11:00", 170, 180, f),
            log("11:30", 200, 300)]
    gaps = [x for x in findings(history(*sets)) if x.code == "LOG_GAP"]
    assert [str(x.lsn) for x in gaps] == ["120", "140", "160", "180"]
    assert {x.backup.backup_set_uuid for x in gaps} == {sets[-1].backup_set_uuid}
    assert [(x.lost_from.local_text[11:], x.lost_to.local_text[11:] if x.lost_to else None) for x in gaps] == [
        ("10:00:00", "10:20:00"), ("10:20:00", "10:40:00"), ("10:40:00", "11:00:00"), ("11:00:00", None)]
    assert all(x.severity is Severity.ERROR for x in gaps)


def test_a_break_after_a_log_names_the_stranded_full_after_it_too() -> None:
    f = full("10:00", 100, 120, ckpt=110)
    sets = [f, log("10:15", 100, 150), full("10:20", 155, 160, ckpt=157), log("10:30", 200, 250)]
    gaps = [x for x in findings(history(*sets)) if x.code == "LOG_GAP"]
    assert [str(x.lsn) for x in gaps] == ["150", "160"]
    assert [x.lost_to.local_text[11:] if x.lost_to else None for x in gaps] == ["10:20:00", None]


def test_a_stretch_a_copy_only_log_covers_is_not_named_a_loss() -> None:
    """The copy-only log carries the chain past the stranded full: the only loss starts where
    it ends, and one finding says so (not a second one claiming no time is lost)."""
    sets = [full("10:00", 100, 120, ckpt=110), log("10:15", 100, 150), full("10:20", 155, 160, ckpt=157),
            log("10:25", 140, 170, is_copy_only=True), log("10:30", 200, 250)]
    gaps = [x for x in findings(history(*sets)) if x.code == "LOG_GAP"]
    assert [(x.lost_from.local_text[11:] if x.lost_from else None, x.lost_to) for x in gaps] == [("10:25:00", None)]
    sets = [full("10:00", 100, 120, ckpt=110), full("10:20", 155, 160, ckpt=157),
            log("10:25", 110, 170, is_copy_only=True), log("10:30", 200, 250)]
    gaps = [x for x in findings(history(*sets)) if x.code == "LOG_GAP"]
    assert [(x.lost_from.local_text[11:] if x.lost_from else None, x.lost_to) for x in gaps] == [("10:25:00", None)]
