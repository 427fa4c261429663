"""Marks on several recovery forks and the nearest points of an LSN, checked against where SQL
Server's STOPATMARK stops (third review of the fork changes)."""
from __future__ import annotations

import pytest

from restoreplan.core.errors import NotRecoverable
from restoreplan.core.lsn import LSN
from restoreplan.core.model import LogMark
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.builders import FORK_A, FORK_B, full, history, log, when

FORK_D = "dddddddd-dddd-4ddd-8ddd-dddddddddddd"


def _forked(**span_kw):
    f, l1, l2 = full("10:00", 100, 120), log("10:15", 110, 150), log("10:30", 150, 200)
    l2_old = log("10:45", 200, 400)
    span = log("11:15", 160, 260, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
               fork_point_lsn=LSN(170), start="11:14:30", **span_kw)
    l4 = log("11:30", 260, 290, fork=FORK_B)
    return f, l1, l2, l2_old, span, l4


def _plan(h, target):
    return plan_restore(h, "db", target, PlanOptions(tail="never"))


def test_a_mark_at_the_fork_point_is_where_stopatmark_stops_in_the_spanning_log():
    """fork_at(span, 170) is fork A: the span replays A's record 170 (the mark) before fork B's.
    A plan restoring the span from 160 WITH STOPATMARK = 'm' stops at 170, not 200."""
    marks = (LogMark("db", "m", LSN(170), when("10:20")), LogMark("db", "m", LSN(200), when("11:14")))
    p = _plan(history(*_forked(), marks=marks), RecoveryTarget.at_mark("m"))
    assert "LSN 170" in p.recovery_point, (p.recovery_point, p.warnings)


def test_the_newest_marks_fork_keeps_its_own_ancestors_marks():
    """Live fork D branched from A at 140; 'm' was made on A at 165 and on B (A's child, fork point
    170) at 200. The fallback plans B's 200 through span_b from LSN 160, which replays A's 165 first."""
    f, l1, l2 = full("10:00", 100, 120), log("10:15", 110, 150), log("10:30", 150, 200)
    span_b = log("11:15", 160, 260, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
                 fork_point_lsn=LSN(170), start="11:14:30")
    span_d = log("12:15", 130, 330, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_D,
                 fork_point_lsn=LSN(140), start="12:14:30")
    marks = (LogMark("db", "m", LSN(165), when("10:20")), LogMark("db", "m", LSN(200), when("11:10")))
    p = _plan(history(f, l1, l2, span_b, span_d, marks=marks), RecoveryTarget.at_mark("m"))
    last = p.restore_steps[-1]
    assert not (last.backup is span_b and "LSN 200" in p.recovery_point), p.recovery_point


def test_a_damaged_spanning_log_still_names_the_fork_the_live_one_left():
    """'m' at 130 precedes the fork point (170): it is in fork B's history and f + l1 reach it.
    The span cannot be restored, but its row still says B came from A at 170."""
    marks = (LogMark("db", "m", LSN(130), when("10:10")), LogMark("db", "m", LSN(270), when("11:25")))
    p = _plan(history(*_forked(is_damaged=True), marks=marks), RecoveryTarget.at_mark("m"))
    assert "LSN 130" in p.recovery_point


@pytest.mark.parametrize("full_damaged", [False, True])
def test_a_point_of_a_fork_that_branched_after_the_lsn_is_a_nearest_point_after(full_damaged):
    """LSN 165 (fork A, before B's fork point 170) is unreachable (l2 damaged); B's full at 11:40
    holds it (B's history is A up to 170): it is the nearest point after, even with the A full
    damaged."""
    f = full("10:00", 100, 120, is_damaged=full_damaged)
    l1, l2 = log("10:15", 110, 150), log("10:30", 150, 200, is_damaged=True)
    span = log("11:15", 160, 260, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
               fork_point_lsn=LSN(170), start="11:14:30")
    f_b = full("11:40", 290, 300, fork=FORK_B, start="11:39")
    with pytest.raises(NotRecoverable) as err:
        _plan(history(f, l1, l2, span, f_b), RecoveryTarget.at_lsn(LSN(165)))
    assert err.value.code == "LSN_NOT_REACHABLE"
    assert err.value.nearest_after is not None and err.value.nearest_after.local.endswith("11:40:00")
