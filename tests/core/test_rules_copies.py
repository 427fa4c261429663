"""Restore-rules B.7.3, completed: family_guid survives a restore, even under another name.

A copy restored beside its original (Sales_Copy next to Sales, same server or not) shares the
original's family_guid but is another database. Partitioned by family_guid alone, a plan for
Sales restored the copy's backups (the copy's state, not Sales's) and the audit of Sales counted
the copy's coverage as its own. Names that follow one another (a rename) are one database.
"""

from __future__ import annotations

import json

import pytest

from restoreplan.core.audit import audit_history
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.core.validate import validate_history
from tests.builders import FAMILY, FORK_A, FORK_B, diff, full, history, log, when

SALES = dict(name="Sales", database_guid="d1d1d1d1-0000-4000-8000-000000000001", fork=FORK_A)
COPY = dict(name="Sales_Copy", database_guid="d2d2d2d2-0000-4000-8000-000000000002", fork=FORK_B)


def _copied():
    """Sales loses its 11:15 log; Sales_Copy (restored from Sales at 10:30) covers that time."""
    return history(
        full("10:00", 100, 120, **SALES),
        log("10:15", 100, 150, **SALES), log("10:30", 150, 180, **SALES), log("10:45", 180, 210, **SALES),
        log("11:00", 210, 240, **SALES), log("11:30", 270, 300, **SALES),  # 240 -> 270 is lost
        full("11:00", 185, 190, **COPY), log("11:15", 185, 230, **COPY), log("11:30", 230, 260, **COPY),
    )  # fmt: skip


def _plan(h, name: str, at: str, **kw):
    return plan_restore(h, name, RecoveryTarget.at(when(at)), PlanOptions(tail="never", **kw))


def test_a_plan_never_restores_a_copys_backups():
    h = _copied()
    with pytest.raises(NotRecoverable) as exc:
        _plan(h, "Sales", "11:20")
    assert exc.value.code == "LOG_GAP"
    p = _plan(h, "Sales", "10:50")
    assert {s.backup.database_name for s in p.steps if s.backup} == {"Sales"}


def test_the_copy_is_planned_from_its_own_backups():
    p = _plan(_copied(), "Sales_Copy", "11:20")
    assert {s.backup.database_name for s in p.steps if s.backup} == {"Sales_Copy"}


def test_the_audit_of_the_original_does_not_count_the_copys_coverage():
    audits = {a.database_name: a for a in audit_history(_copied()).lineages}
    sales = audits["Sales"]
    assert [(s.key, e.key) for s, e in sales.windows] == [(when("10:00"), when("11:00"))]
    assert sales.findings.lineage.copies == ["Sales_Copy"]
    assert audits["Sales_Copy"].findings.lineage.copies == ["Sales"]


def test_each_is_told_why():
    found = {lf.database_name: [f for f in lf.findings if f.code == "SHARED_FAMILY"]
             for lf in validate_history(_copied())}  # fmt: skip
    assert len(found["Sales"]) == 1 and "Sales_Copy" in found["Sales"][0].text
    assert len(found["Sales_Copy"]) == 1 and FAMILY in found["Sales_Copy"][0].text


def test_family_guid_still_chooses_a_split_lineage():
    p = _plan(_copied(), "Sales", "10:50", family_guid=FAMILY)
    assert p.family_guid == FAMILY


def test_a_renamed_database_stays_one_lineage():
    """Names one after the other are a rename: the full taken as Sales serves SalesArchive."""
    renamed = dict(SALES, name="SalesArchive")
    h = history(
        full("10:00", 100, 120, **SALES), log("10:15", 100, 150, **SALES),
        log("10:30", 150, 180, **renamed), log("10:45", 180, 210, **renamed),
    )  # fmt: skip
    assert len(h.lineages) == 1 and next(iter(h.lineages.values())).copies == []
    p = _plan(h, "SalesArchive", "10:40")
    assert [s.backup.database_name for s in p.steps if s.backup] == ["Sales", "Sales", "SalesArchive", "SalesArchive"]


def test_case_alone_does_not_make_a_copy():
    """SQL Server names compare case-insensitively here: SALES and Sales are one database."""
    upper = dict(SALES, name="SALES")
    h = history(full("10:00", 100, 120, **SALES), log("10:15", 100, 150, **upper), log("10:30", 150, 180, **SALES))
    assert len(h.lineages) == 1


def test_a_copy_borrows_the_full_its_differential_is_based_on():
    """Restored from Sales's full, the copy's nightly differential (before any full of its own)
    is based on that full: the copy is restorable with it, and only the copy borrows it."""
    base = full("10:00", 100, 120, **SALES)
    h = history(
        base, log("10:15", 100, 150, **SALES), log("10:30", 150, 180, **SALES), log("11:30", 180, 210, **SALES),
        diff("11:00", 185, 190, base, **COPY), log("11:15", 185, 230, **COPY),
    )  # fmt: skip
    p = _plan(h, "Sales_Copy", "11:10")
    assert p.steps[0].backup == base
    assert [s.backup.database_name for s in p.steps if s.backup] == ["Sales", "Sales_Copy", "Sales_Copy"]
    assert [lin.database_name for lin in h.lineages_named("Sales")] == ["Sales"]
    copy = h.lineages_named("Sales_Copy")[0]
    assert copy.database_names == ["Sales_Copy"] and copy.borrowed == {base.backup_set_uuid}
    assert not [f for lf in validate_history(h) for f in lf.findings if f.code in ("ORPHAN_DIFFERENTIAL", "NO_FULL_BACKUP")]


def test_a_copy_whose_original_stopped_being_backed_up_is_still_a_copy():
    """Restored under a new name (a new database_guid), it is another database even when the
    original's backups stopped before the copy's began: the audit must still show Sales alone."""
    h = history(
        full("10:00", 100, 120, **SALES), log("10:15", 100, 150, **SALES),
        full("11:00", 185, 190, **COPY), log("11:15", 185, 230, **COPY),
    )  # fmt: skip
    assert sorted(lin.database_name for lin in h.lineages.values()) == ["Sales", "Sales_Copy"]
    without_guids = dict(SALES, database_guid=None), dict(COPY, database_guid=None)
    h = history(
        full("10:00", 100, 120, **without_guids[0]), log("10:15", 100, 150, **without_guids[0]),
        full("11:00", 185, 190, **without_guids[1]), log("11:15", 185, 230, **without_guids[1]),
    )  # fmt: skip
    assert len(h.lineages) == 2  # told apart by their recovery forks


def test_the_command_line_plans_the_original_from_a_csv_holding_both(tmp_path, capsys):
    """Through the CSV reader and its skimming of other databases (plan --database)."""
    from restoreplan.cli.main import main

    header = ["database_name", "backup_set_uuid", "type", "first_lsn", "last_lsn", "checkpoint_lsn",
              "database_backup_lsn", "backup_start_date", "backup_finish_date", "physical_device_name",
              "family_guid", "database_guid", "last_recovery_fork_guid", "time_zone"]  # fmt: skip
    rows = []
    for n, (name, kind, first, last, finish, dbg, fork) in enumerate([
        ("Sales", "D", 100, 120, "10:00", SALES["database_guid"], FORK_A),
        ("Sales", "L", 100, 150, "10:15", SALES["database_guid"], FORK_A),
        ("Sales", "L", 150, 180, "10:30", SALES["database_guid"], FORK_A),
        ("Sales", "L", 180, 210, "10:45", SALES["database_guid"], FORK_A),
        ("Sales", "L", 240, 270, "11:30", SALES["database_guid"], FORK_A),  # 210 -> 240 is lost
        ("Sales_Copy", "D", 185, 190, "11:00", COPY["database_guid"], FORK_B),
        ("Sales_Copy", "L", 185, 230, "11:15", COPY["database_guid"], FORK_B),
        ("Sales_Copy", "L", 230, 260, "11:30", COPY["database_guid"], FORK_B),
    ], start=1):  # fmt: skip
        rows.append([name, f"aaaaaaaa-0000-4000-8000-{n:012d}", kind, str(first), str(last), str(first), "0",
                     f"2026-01-05 {finish}:00", f"2026-01-05 {finish}:30", f"X:\\b\\{n}.bak", FAMILY, dbg, fork, "0"])
    path = tmp_path / "both.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    code = main(["plan", "--history", str(path), "-d", "Sales", "--at", "2026-01-05 11:20", "--tail", "never"])
    out, err = capsys.readouterr()
    assert code == 3 and "not reachable" in out + err and "LSN 210" in out + err
    code = main(["plan", "--history", str(path), "-d", "Sales_Copy", "--at", "2026-01-05 11:20", "--format", "json"])
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert code == 0 and {s["backup_set_uuid"][-2:] for s in steps if s.get("backup_set_uuid")} == {"06", "07", "08"}


def _two_servers(tmp_path):
    """Sales on PROD01 (fork A) and a copy restored as Sales on DEV02 (fork B), read together."""
    header = ["database_name", "backup_set_uuid", "type", "first_lsn", "last_lsn", "checkpoint_lsn",
              "database_backup_lsn", "backup_start_date", "backup_finish_date", "physical_device_name",
              "family_guid", "last_recovery_fork_guid", "server_name", "time_zone"]  # fmt: skip
    rows = []
    for n, (kind, first, last, finish, fork, server) in enumerate([
        ("D", 100, 120, "10:00", FORK_A, "PROD01"), ("L", 100, 150, "10:15", FORK_A, "PROD01"),
        ("L", 150, 180, "10:30", FORK_A, "PROD01"), ("L", 240, 270, "11:30", FORK_A, "PROD01"),
        ("D", 185, 190, "11:00", FORK_B, "DEV02"), ("L", 185, 230, "11:15", FORK_B, "DEV02"),
        ("L", 230, 260, "11:30", FORK_B, "DEV02"),
    ], start=1):  # fmt: skip
        rows.append(["Sales", f"bbbbbbbb-0000-4000-8000-{n:012d}", kind, str(first), str(last), str(first), "0",
                     f"2026-01-05 {finish}:00", f"2026-01-05 {finish}:30", f"X:\\b\\{n}.bak", FAMILY, fork, server, "0"])
    path = tmp_path / "two_servers.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return str(path)


def test_a_same_name_copy_on_another_server_is_flagged_and_server_name_chooses(tmp_path, capsys):
    """Names cannot tell them apart; the forks can say that two databases are mixed (an
    availability group's replicas back up one chain on one fork), and --server-name keeps one."""
    from restoreplan.cli.main import main

    path = _two_servers(tmp_path)
    assert main(["validate", "--history", path, "--format", "json"]) == 1  # PROD01's log gap
    codes = [f["code"] for db in json.loads(capsys.readouterr().out)["databases"] for f in db["findings"]]
    assert "COPY_ON_OTHER_SERVER" in codes
    # the copy would reach 11:20; the plan refuses to guess which Sales is meant
    assert main(["plan", "--history", path, "-d", "Sales", "--at", "2026-01-05 11:20", "--format", "json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert "DEV02 and PROD01" in error["message"] and "--server-name DEV02" in error["hint"]
    code = main(["plan", "--history", path, "-d", "Sales", "--at", "2026-01-05 11:20", "--server-name", "prod01"])
    assert code == 3 and "not reachable" in capsys.readouterr().err
    code = main(["plan", "--history", path, "-d", "Sales", "--at", "2026-01-05 11:20", "--server-name", "DEV02"])
    assert code == 0 and "DEV02" not in capsys.readouterr().err
    assert main(["validate", "--history", path, "--server-name", "PROD01", "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert "COPY_ON_OTHER_SERVER" not in out and "LOG_GAP" in out
    assert main(["plan", "--history", path, "-d", "Sales", "--latest", "--server-name", "QA03"]) == 2
    assert "servers: DEV02, PROD01" in capsys.readouterr().err


def test_availability_group_replicas_share_a_fork_and_are_not_flagged():
    """Log backups alternate between replicas on one chain and one fork: nothing to say."""
    primary, secondary = dict(SALES, server_name="NODE1"), dict(SALES, server_name="NODE2")
    h = history(
        full("10:00", 100, 120, **primary), log("10:15", 100, 150, **secondary),
        log("10:30", 150, 180, **primary), log("10:45", 180, 210, **secondary),
    )  # fmt: skip
    lin = next(iter(h.lineages.values()))
    assert lin.servers_apart == []
    assert not [f for lf in validate_history(h) for f in lf.findings if f.code == "COPY_ON_OTHER_SERVER"]
    assert len(_plan(h, "Sales", "10:40").steps) == 5  # full, three logs, recovery


def test_a_move_to_a_server_in_another_zone_is_not_taken_for_a_copy():
    """Sales moved from a UTC-5 server to a UTC-8 one: the old server's last backup (10:00 local,
    15:00Z) is before the new one's first (09:30 local, 17:30Z), though not by the clocks."""
    east = dict(SALES, server_name="EAST", time_zone=-20)
    west = dict(SALES, server_name="WEST", time_zone=-32, fork=FORK_B)
    h = history(full("09:00", 100, 120, **east), log("10:00", 100, 150, **east),
                full("09:30", 200, 220, **west), log("09:45", 200, 250, **west))
    assert next(iter(h.lineages.values())).servers_apart == []
