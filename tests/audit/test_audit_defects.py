"""Audit defects found in review (verdicts decided by LSN, gaps and their causes), and the
properties that keep validate and audit honest against the planner on random histories with
forks, concurrent backups, chain restarts and bulk-logged logs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.audit import AuditOptions, Verdict, audit_history, audit_lineage
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.findings import Severity
from restoreplan.core.history import History
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, BackupType
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.report.audit_report import audit_csv, audit_json, audit_text
from restoreplan.report.html_report import render_html
from restoreplan.sources.load import LoadRequest, load
from tests.builders import FORK_A, FORK_B, diff, full, history, log, when

NO_TAIL = PlanOptions(tail="never")


def used_at(h: History, t: datetime) -> set[str]:
    try:
        plan = plan_restore(h, "db", RecoveryTarget.at(t), NO_TAIL)
    except NotRecoverable:
        return set()
    return {s.backup.backup_set_uuid for s in plan.steps if s.backup}


def verdicts(lin):
    return {v.backup.backup_set_uuid: v for v in audit_lineage(lin).verdicts()}


# -- defect 4: a needed log called "not needed" ------------------------------------------------


def concurrent_sets():
    """c16: a log finishes 2 s before the full it runs beside, and holds the full's redo point."""
    return [log("09:45", 50, 300, start="09:44:30"), full("10:00", 100, 400, ckpt=110, start="09:30"),
            log("09:59:58", 300, 450, start="09:59:50"), log("10:15", 450, 550), log("10:30", 550, 650)]


def test_a_log_that_holds_the_fulls_redo_point_is_needed_though_it_finished_first():
    sets = concurrent_sets()
    h = history(*sets)
    [lin] = h.lineages.values()
    v = verdicts(lin)
    assert sets[2].backup_set_uuid in used_at(h, when("10:20"))
    assert v[sets[2].backup_set_uuid].verdict is not Verdict.NOT_NEEDED
    assert v[sets[2].backup_set_uuid].verdict is not Verdict.UNREACHABLE
    # the log that ends before the full's redo point is really not needed
    assert v[sets[0].backup_set_uuid].verdict is Verdict.NOT_NEEDED
    assert "LSN" in v[sets[0].backup_set_uuid].words


def test_the_bundled_samples_first_logs_after_the_full_are_needed():
    h = load(LoadRequest()).history
    [lin] = h.lineages_named("Sales")
    a = audit_lineage(lin)
    wanted = {"35c719c2", "a4ff91e3"}
    got = {v.backup.backup_set_uuid[:8]: v for v in a.verdicts() if v.backup.backup_set_uuid[:8] in wanted}
    assert set(got) == wanted
    for v in got.values():
        assert v.verdict is not Verdict.NOT_NEEDED, v.words
    plan = plan_restore(h, "Sales", RecoveryTarget.at(datetime(2026, 11, 8, 22, 50)), NO_TAIL)
    assert wanted <= {s.backup.backup_set_uuid[:8] for s in plan.steps if s.backup}


def test_an_empty_log_and_logs_before_every_data_backup_are_not_needed():
    sets = [log("09:30", 50, 80), log("09:45", 80, 100), full("10:00", 100, 120), log("10:15", 100, 150),
            log("10:20", 150, 150)]
    [lin] = history(*sets).lineages.values()
    v = verdicts(lin)
    assert [v[s.backup_set_uuid].verdict for s in sets] == [
        Verdict.NOT_NEEDED, Verdict.NOT_NEEDED, Verdict.RESTORABLE, Verdict.POINT_IN_TIME, Verdict.NOT_NEEDED]


# -- defect 6: gaps and their causes ------------------------------------------------------------


def gapdb_sets():
    return [full("10:00", 100, 200, start="09:50"), log("10:15", 200, 300), log("10:30", 301, 400),
            log("10:45", 400, 500), log("11:00", 500, 600)]


def test_a_gap_at_the_end_is_listed_in_every_format():
    h = history(*gapdb_sets())
    res = audit_history(h, AuditOptions(as_of=datetime(2026, 1, 6)))
    [a] = res.lineages
    [gap] = a.gaps
    assert gap.kind == "log_gap" and gap.lsn is not None and gap.lsn.value == 300
    assert (gap.start.local_text, gap.end.local_text) == ("2026-01-05 10:15:00", "2026-01-05 11:00:00")
    doc = audit_json(res)
    assert len(doc["databases"][0]["gaps"]) == 1
    assert "log_gap" in audit_text(res) and "log_gap" in audit_text(res, markdown=True)
    assert audit_csv(res).splitlines()[1].split(",")[5] == "1"
    assert "log_gap" in render_html(res)
    json.dumps(doc)


def bulk_sets():
    """c8: two bulk-logged logs, a differential between them."""
    f = full("10:00", 100, 200, start="09:50", size=1000)
    bulk3 = log("10:30", 300, 400, has_bulk_logged_data=True)
    bulk4 = log("10:45", 400, 500, has_bulk_logged_data=True)
    return [f, log("10:15", 200, 300), bulk3, bulk4, log("11:00", 500, 600),
            diff("10:40", 380, 420, f, ckpt=390, start="10:35", size=100)]


def test_a_bulk_logged_gap_is_blamed_on_the_log_that_holds_it():
    sets = bulk_sets()
    [lin] = history(*sets).lineages.values()
    gaps = {(g.start.local_text[11:], g.end.local_text[11:]): g for g in audit_lineage(lin).gaps}
    assert set(gaps) == {("10:15:00", "10:30:00"), ("10:30:00", "10:40:00"), ("10:40:00", "10:45:00")}
    assert all(g.kind == "bulk_logged" for g in gaps.values())
    assert gaps[("10:15:00", "10:30:00")].backup_set_uuid == sets[2].backup_set_uuid
    assert gaps[("10:30:00", "10:40:00")].backup_set_uuid == sets[3].backup_set_uuid
    assert gaps[("10:40:00", "10:45:00")].backup_set_uuid == sets[3].backup_set_uuid


def test_a_bulk_logged_gap_with_last_valid_restore_times_is_bulk_logged():
    sets = [full("10:00", 100, 200, start="09:50"),
            log("10:15", 200, 300, last_valid_restore_time=when("10:14:50")),
            log("10:30", 300, 400, has_bulk_logged_data=True, last_valid_restore_time=when("10:29")),
            log("10:45", 400, 500)]
    [lin] = history(*sets).lineages.values()
    [gap] = audit_lineage(lin).gaps
    assert gap.kind == "bulk_logged" and gap.backup_set_uuid == sets[2].backup_set_uuid


def test_a_gap_after_the_first_full_is_a_log_gap():
    f = full("10:00", 100, 200, start="09:50")
    sets = [f, log("10:30", 300, 400), log("10:45", 400, 500), diff("10:50", 420, 480, f, ckpt=450),
            log("11:00", 500, 600)]
    [lin] = history(*sets).lineages.values()
    [gap] = audit_lineage(lin).gaps
    assert gap.kind == "log_gap" and gap.lsn is not None and gap.lsn.value == 200


def test_a_fork_no_log_leads_onto_is_a_recovery_fork_gap():
    sets = [full("10:00", 100, 200, start="09:50"), log("10:15", 200, 300), log("10:30", 300, 400),
            log("10:45", 400, 500), log("11:30", 350, 450, fork=FORK_B), log("11:45", 450, 550, fork=FORK_B),
            full("11:50", 540, 560, start="11:48", ckpt=545, fork=FORK_B), log("12:00", 550, 650, fork=FORK_B)]
    [lin] = history(*sets).lineages.values()
    a = audit_lineage(lin)
    [gap] = a.gaps
    assert gap.kind == "recovery_fork" and (gap.start.local_text[11:], gap.end.local_text[11:]) == ("10:45:00", "11:50:00")
    assert a.findings.count(Severity.ERROR) == 1


# -- properties on random histories --------------------------------------------------------------

START = datetime(2026, 1, 5, 10, 0)
EVENTS = ["full", "full", "conc_full", "copy_full", "diff", "diff", "log", "log", "log", "log", "log", "gap",
          "bulk", "empty", "copy_log", "lvrt", "simple", "fullmodel", "restart_nodata", "fork", "fork_nospan",
          "damaged_log"]


def fork_guid(n: int) -> str:
    return FORK_A if n == 0 else FORK_B if n == 1 else f"{n:08x}-cccc-4ccc-8ccc-cccccccccccc"


def build(events: list[str]) -> list[BackupSet]:
    sets: list[BackupSet] = []
    pos, t, forks = 1000, START, 0
    chain: int | None = None  # where the next log begins
    model, begins = "FULL", True
    last_full: BackupSet | None = None
    for ev in events:
        t += timedelta(minutes=10)
        fork = fork_guid(forks)
        chained = model == "FULL" and chain is not None
        if ev == "conc_full" and chained:
            assert chain is not None
            sets.append(log(t - timedelta(seconds=2), chain, pos + 6, start=t - timedelta(seconds=10), fork=fork,
                            begins_log_chain=begins))
            f = full(t, pos, pos + 8, ckpt=pos + 1, start=t - timedelta(minutes=5), fork=fork, size=1000)
            sets.append(f)
            last_full, chain, begins = f, pos + 6, False
        elif ev in ("full", "copy_full", "conc_full"):
            f = full(t, pos, pos + 5, ckpt=pos + 1, recovery_model=model, is_copy_only=ev == "copy_full",
                     fork=fork, size=1000)
            sets.append(f)
            if ev != "copy_full":
                last_full = f
            if model == "FULL" and chain is None:
                chain = pos
        elif ev == "diff" and last_full is not None:
            sets.append(diff(t, pos, pos + 5, last_full, recovery_model=model, fork=fork, size=300))
            if model == "FULL" and chain is None:
                chain = pos
        elif ev in ("log", "bulk", "copy_log", "lvrt", "damaged_log") and chained:
            assert chain is not None
            sets.append(log(t, chain, pos + 5, fork=fork, has_bulk_logged_data=ev == "bulk",
                            is_copy_only=ev == "copy_log", is_damaged=ev == "damaged_log", begins_log_chain=begins,
                            last_valid_restore_time=t - timedelta(seconds=20) if ev == "lvrt" else None, size=50))
            if ev != "copy_log":
                chain, begins = pos + 5, False
        elif ev == "empty" and chained:
            assert chain is not None
            sets.append(log(t, chain, chain, fork=fork, size=10))
        elif ev == "gap" and chain is not None:
            chain, begins = pos + 5, False
        elif ev == "restart_nodata" and model == "FULL":
            sets.append(log(t, pos, pos + 5, fork=fork, begins_log_chain=True, size=50))
            chain, begins = pos + 5, False
        elif ev == "fork" and chained:
            assert chain is not None
            q = chain - 2
            forks += 1
            sets.append(log(t, q, pos + 5, first_recovery_fork_guid=fork, last_recovery_fork_guid=fork_guid(forks),
                            fork_point_lsn=LSN(q), size=50))
            chain, begins = pos + 5, False
        elif ev == "fork_nospan":
            forks += 1
            chain = chain - 2 if chain is not None else None
        elif ev == "simple":
            model, chain = "SIMPLE", None
        elif ev == "fullmodel" and model == "SIMPLE":
            model, begins = "FULL", True
        pos += 10
    return sets


def reach(bs: BackupSet) -> datetime:
    return bs.last_valid_restore_time or bs.backup_finish_date


def probe_times(a, sets: list[BackupSet]) -> set[datetime]:
    out: set[datetime] = set()
    for s, e in a.windows:
        out |= {s.local, e.local, s.local + (e.local - s.local) / 2, s.local + timedelta(seconds=1)}
    out |= {reach(bs) for bs in sets}
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=22))
def test_no_error_means_no_log_is_lost_and_not_needed_logs_are_never_restored(events):
    sets = build(events)
    if not sets:
        return
    h = History.from_sets(sets)
    [lin] = h.lineages.values()
    a = audit_lineage(lin)
    windows = [(s.key, e.key) for s, e in a.windows]

    def covered(key: datetime) -> bool:
        return any(s <= key <= e for s, e in windows)

    # 1. no error: every regular log after the first recoverable point is recoverable to its end
    if windows and a.findings.count(Severity.ERROR) == 0:
        for bs in lin.logs:
            if bs.is_copy_only or reach(bs) < windows[0][0]:
                continue
            assert covered(reach(bs)), (bs.backup_set_uuid, reach(bs), windows)
    # 2. what a finding calls lost is lost: no window enters it
    for f in a.findings.findings:
        if f.lost_from is not None:
            lo, hi = f.lost_from.key, (f.lost_to.key if f.lost_to else datetime.max)
            if f.severity is Severity.ERROR:  # (CHAIN_RESTART skips the points of SIMPLE data backups)
                assert not any(e > lo and s < hi for s, e in windows), (f.code, lo, hi, windows)
            else:
                assert f.code == "CHAIN_RESTART"
    # 3. each stretch a finding calls lost is a gap of the audit, with a known cause
    for f in a.findings.findings:  # (a loss before the first full is no gap: nothing was recoverable)
        if f.code == "LOG_GAP" and f.lost_from is not None and windows and f.lost_from.key >= windows[0][0]:
            lo = f.lost_from.key
            assert any(g.start.key <= lo and (lo < g.end.key or lo == g.start.key) for g in a.gaps), (lo, a.gaps)
    assert all(g.kind != "unknown" for g in a.gaps), [(g.start, g.end, g.cause) for g in a.gaps]
    # 4. the windows agree with the planner; a log called not needed is restored by no plan at
    # any probed point, nor one called unreachable or broken
    not_needed = {v.backup.backup_set_uuid for v in a.verdicts() if v.verdict is Verdict.NOT_NEEDED}
    never = {v.backup.backup_set_uuid for v in a.verdicts() if v.verdict in (Verdict.UNREACHABLE, Verdict.BROKEN)}
    for t in probe_times(a, sets):
        used = used_at(h, t)
        assert bool(used) == covered(t), (t, windows)
        assert not (used & not_needed), t
        assert not (used & never), t


def test_the_generator_makes_what_it_says():
    sets = build(["full", "log", "fork", "log", "conc_full", "log", "restart_nodata", "log"])
    assert any(s.spans_fork for s in sets)
    assert any(s.begins_log_chain for s in sets if s.type is BackupType.LOG)
    assert {s.last_recovery_fork_guid for s in sets} == {FORK_A, FORK_B}
