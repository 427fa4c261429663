"""Chain rules a mutation review found no test held (each test fails on its mutant)."""

from __future__ import annotations

import pytest

from restoreplan.core.errors import NotRecoverable
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.core.validate import validate_history
from tests.builders import FORK_B, diff, full, history, log, when


def _plan(h, at, tail="never"):  # type: ignore[no-untyped-def]
    target = RecoveryTarget.latest() if at is None else RecoveryTarget.at(when(at))
    return plan_restore(h, "db", target, PlanOptions(tail=tail))


def _restored(p):  # type: ignore[no-untyped-def]
    return [s.backup.backup_set_uuid for s in p.steps if s.backup is not None and not s.is_tail]


def test_a_log_on_another_recovery_fork_does_not_continue_a_run() -> None:
    """B.6: a log whose fork is not the previous log's is never applied after it (error 4330),
    even when its first LSN is that log's last."""
    f = full("10:05", 100, 120)
    l1 = log("10:15:10", 90, 150)
    l2 = log("10:30:10", 150, 180, first_recovery_fork_guid=None, last_recovery_fork_guid=FORK_B)
    with pytest.raises(NotRecoverable) as err:
        _plan(history(f, l1, l2), "10:20")
    # the refusal says which error SQL Server would raise: 4330 (another fork), not 4305 (no log)
    assert f"log backup {l2.backup_set_uuid} holds LSN 150, but on recovery fork {FORK_B}" in err.value.message
    assert "4330" in err.value.message and "4305" not in err.value.message


def test_the_tail_begins_at_the_highest_last_lsn_not_the_latest_finish() -> None:
    """B.12: without time_zone, a log after the autumn DST change finishes "before" the one
    it follows; the tail still begins where the log chain ends by LSN (210, not 180: 4305)."""
    sets = [full("00:50", 100, 120, time_zone=None), log("01:20", 90, 150, time_zone=None),
            log("01:50", 150, 180, time_zone=None),
            log("01:25", 180, 210, time_zone=None)]  # the clocks went back: this 01:25 came after 01:50
    p = _plan(history(*sets), None, tail="always")
    [tail] = [s for s in p.steps if s.is_tail]
    assert "LSN 210" in tail.why


def test_a_copy_only_full_is_never_the_lsn_fallback_base_of_a_differential() -> None:
    """B.4/B.5: without differential_base_guid, database_backup_lsn == a full's checkpoint_lsn
    names the base, but never a copy-only full (it is never a differential base)."""
    f = full("10:00", 100, 120, ckpt=110, is_copy_only=True)
    d = diff("10:30", 130, 140, f, differential_base_guid=None, database_backup_lsn=f.checkpoint_lsn)
    [lf] = validate_history(history(f, d))
    assert "ORPHAN_DIFFERENTIAL" in {x.code for x in lf.findings}


def test_an_ambiguous_lsn_fallback_base_is_not_guessed() -> None:
    """B.4: two regular fulls with the checkpoint_lsn the differential names: no guess (3136)."""
    f1 = full("10:00", 100, 120, ckpt=110)
    f2 = full("10:01", 100, 121, ckpt=110)
    d = diff("10:30", 130, 140, f1, differential_base_guid=None, database_backup_lsn=f1.checkpoint_lsn)
    with pytest.raises(NotRecoverable):
        _plan(history(f1, f2, d), "10:30")


def test_a_regular_log_is_preferred_to_a_copy_only_one_of_equal_cost() -> None:
    """B.5 / F.5: a copy-only log is used only where no regular log does as well."""
    f = full("10:05", 100, 120)
    l1 = log("10:15:10", 90, 150)
    regular = log("10:30:10", 150, 180)
    copy = log("10:20:10", 150, 170, is_copy_only=True)
    assert _restored(_plan(history(f, l1, regular, copy), "10:20")) == [
        f.backup_set_uuid, l1.backup_set_uuid, regular.backup_set_uuid]
