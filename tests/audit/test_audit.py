"""Audit figures, cross-checked against the planner (an independent computation)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from restoreplan.core.audit import AuditOptions, Verdict, audit_history, audit_lineage
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.planner import PlanOptions, plan_lineage
from restoreplan.core.target import Clock, RecoveryTarget
from restoreplan.sources.load import LoadRequest, load
from tests.builders import diff, full, history, log, when


def chain():
    f = full("10:00", 100, 120, size=1000)
    sets = [f, log("10:15", 90, 150), log("10:30", 150, 180), log("10:45", 180, 200),
            diff("11:00", 205, 210, f, size=100), log("11:15", 200, 220), log("11:30", 220, 260),
            log("11:45", 260, 300), full("12:00", 305, 320, size=1000), log("12:15", 300, 340)]
    return sets


def planner_steps(lin, t):
    try:
        p = plan_lineage(lin, RecoveryTarget.at(t), PlanOptions(tail="never"))
    except NotRecoverable:
        return None
    return len(p.restore_steps), p.bytes_read


def sample_times(lin, step=timedelta(minutes=1)):
    t = lin.sets[0].backup_start_date - timedelta(minutes=5)
    end = lin.sets[-1].backup_finish_date + timedelta(minutes=5)
    while t <= end:
        yield t
        t += step


def check_against_planner(lin, a, step=timedelta(minutes=1)):
    clock = Clock(lin)
    worst = 0
    for t in sample_times(lin, step):
        got = planner_steps(lin, t)
        key = clock.resolve(t).key
        assert a.covers(key) == (got is not None), t
        if got:
            worst = max(worst, got[0])
    assert a.worst_steps is not None and a.worst_steps.steps >= worst
    w = a.worst_steps
    assert planner_steps(lin, w.at.local)[0] == w.steps  # the reported instant really costs that much


def test_windows_and_worst_case_match_the_planner_on_a_clean_chain():
    h = history(*chain())
    [lin] = h.lineages.values()
    a = audit_lineage(lin)
    assert len(a.windows) == 1 and not a.gaps
    check_against_planner(lin, a)
    assert a.worst_steps.steps == 6  # just before the 12:00 full: full, diff, 11:15, 11:30, 11:45, 12:15


def test_log_gap_gives_a_gap_with_its_cause():
    sets = chain()
    del sets[6]  # 11:30 log
    [lin] = history(*sets).lineages.values()
    a = audit_lineage(lin)
    assert len(a.windows) == 2
    [gap] = a.gaps
    assert gap.kind == "log_gap" and "4305" in gap.cause and gap.lsn is not None and gap.lsn.value == 220
    check_against_planner(lin, a)
    broken = {v.backup.backup_set_uuid: v for v in a.verdicts()}
    assert broken[sets[6].backup_set_uuid].verdict is Verdict.UNREACHABLE  # the 11:45 log


def test_damaged_backup_is_broken_in_words():
    sets = chain()
    from tests.builders import with_

    sets[4] = with_(sets[4], is_damaged=True)
    [lin] = history(*sets).lineages.values()
    a = audit_lineage(lin)
    [v] = [v for v in a.exceptions if v.backup.backup_set_uuid == sets[4].backup_set_uuid]
    assert v.verdict is Verdict.BROKEN and "damaged" in v.words


def test_rpo_and_restore_rate():
    [lin] = history(*chain()).lineages.values()
    a = audit_lineage(lin, AuditOptions(as_of=datetime(2026, 1, 5, 13, 15), restore_rate=100.0))
    assert a.rpo == timedelta(hours=1)
    w = a.worst_bytes
    assert w is not None and w.seconds == pytest.approx(w.bytes / 100.0)


def test_counts_by_type():
    [lin] = history(*chain()).lineages.values()
    stats = {s.type.value: s.count for s in audit_lineage(lin).type_stats}
    assert stats == {"D": 2, "I": 1, "L": 7}


@pytest.mark.parametrize("name", ["Sales", "Inventory", "Legacy"])
def test_bundled_sample_windows_match_the_planner(name):
    h = load(LoadRequest()).history
    [lin] = h.lineages_named(name)
    a = audit_lineage(lin)
    check_against_planner(lin, a, step=timedelta(minutes=47))


def test_sales_is_one_window_without_gaps():
    res = audit_history(load(LoadRequest()).history, AuditOptions(), "Sales")
    [a] = res.lineages
    assert len(a.windows) == 1 and not a.gaps and a.findings.count("error") == 0  # type: ignore[arg-type]


def test_worst_case_is_the_plan_the_planner_makes_with_one_log_over_several_differentials():
    # One log covers the full and three differentials: full + that log (2 steps) beats
    # full + newest differential + log (3). The audit once tried only two older data backups.
    f = full("10:00", 100, 110, size=1000)
    sets = [f, diff("10:10", 120, 130, f, size=300), diff("10:20", 140, 150, f, size=300),
            diff("10:30", 160, 170, f, size=300), log("10:40", 90, 180, size=50)]
    [lin] = history(*sets).lineages.values()
    a = audit_lineage(lin)
    assert (a.worst_steps.steps, a.worst_steps.bytes) == (2, 1050)
    assert a.worst_steps.diff_uuid is None
    check_against_planner(lin, a)


def test_rpo_as_of_a_past_instant_counts_only_the_backups_taken_by_then():
    """RPO at --as-of T is T minus the latest point the backups finished by T restore to: at
    10:20, with logs at 10:15 and 10:30, five minutes (not 0 because a later log exists now)."""
    f = full("10:00", 100, 120)
    logs = [log("10:15", 110, 150), log("10:30", 150, 180), log("10:45", 180, 210)]
    [lin] = history(f, *logs).lineages.values()
    day = f.backup_finish_date.date()
    at = datetime.combine(day, datetime.min.time()).replace(hour=10, minute=20)
    assert audit_lineage(lin, AuditOptions(as_of=at)).rpo == timedelta(minutes=5)
    assert audit_lineage(lin, AuditOptions(as_of=at.replace(hour=11))).rpo == timedelta(minutes=35)
    assert audit_lineage(lin, AuditOptions(as_of=at.replace(minute=5))).rpo == timedelta(minutes=5)


def test_rpo_at_a_past_as_of_does_not_count_a_window_a_later_log_opens():
    """A full with a missing file finished 10:45; at --as-of 10:50 only the full of 10:00 and the
    logs to 10:30 could restore, so the RPO is 20 minutes (10:45 is reachable now only through
    the log of 11:00, not taken yet then)."""
    f, l1, l2, l3 = full("10:00", 100, 120), log("10:15", 110, 150), log("10:30", 150, 180), log("11:00", 180, 210)
    damaged = full("10:45", 185, 190)
    h = history(f, l1, l2, l3, damaged, unavailable={damaged.backup_set_uuid: "file missing"})
    [lin] = h.lineages.values()
    assert audit_lineage(lin, AuditOptions(as_of=when("10:50"))).rpo == timedelta(minutes=20)
    assert audit_lineage(lin, AuditOptions(as_of=when("09:50"))).rpo is None  # nothing finished yet


def test_the_default_as_of_now_keeps_the_backups_a_clock_skew_puts_after_it():
    """Without --as-of the CLI judges at now (until_as_of=False): a backup that seems to finish
    later is a clock or time-zone skew between this machine and the server, not the future, and
    still counts (cutting it would report a loss that is not there)."""
    f = full("10:00", 100, 120)
    logs = [log("10:15", 110, 150), log("10:30", 150, 180), log("10:45", 180, 210)]
    [lin] = history(f, *logs).lineages.values()
    now = when("10:20")
    assert audit_lineage(lin, AuditOptions(as_of=now, until_as_of=False)).rpo == timedelta(0)
    assert audit_lineage(lin, AuditOptions(as_of=now)).rpo == timedelta(minutes=5)


def test_only_an_explicit_as_of_cuts_the_history():
    import argparse

    from restoreplan.cli.validate_cmd import options_from_args

    base = dict(max_full_age=None, max_log_age=None)
    assert not options_from_args(argparse.Namespace(as_of=None, **base)).until_as_of
    assert options_from_args(argparse.Namespace(as_of="2026-01-05 10:20", **base)).until_as_of
