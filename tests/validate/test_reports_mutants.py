"""Report details a fourth mutation round found no test held (each test fails on its mutant),
and the Nagios line that hid a failing database behind five findings of another."""

from __future__ import annotations

import csv
import io
import json

import pytest

from restoreplan.cli.main import main
from restoreplan.core.audit import audit_history
from restoreplan.core.history import History
from restoreplan.core.validate import ValidateOptions, validate_history
from restoreplan.report.audit_report import audit_text
from restoreplan.report.findings_report import nagios_line, summary_json
from restoreplan.report.html_report import render_html
from restoreplan.sources.msdb_odbc import _scrub
from tests.builders import full, log, when


def _gappy(name: str, gaps: int) -> list:  # type: ignore[type-arg]
    """A full and logs with ``gaps`` breaks (each a LOG_GAP)."""
    sets = [full("09:00", 100, 110, name=name)]
    lsn = 100
    for i in range(gaps + 1):
        sets.append(log(f"{10 + i}:00", lsn, lsn + 50, name=name))
        lsn += 100  # 50 LSNs no log holds
    return sets


def test_the_nagios_line_names_every_failing_database_or_says_there_are_more() -> None:
    lfs = validate_history(History.from_sets([*_gappy("Legacy", 6), *_gappy("Sales", 1)]))
    line, code = nagios_line(lfs)
    assert code == 2 and "Legacy LOG_GAP" in line and "Sales LOG_GAP" in line


def test_unread_servers_make_any_status_but_critical_unknown() -> None:
    lfs = validate_history(History.from_sets([full("09:00", 100, 110), log("09:15", 100, 150, has_bulk_logged_data=True)]))
    line, code = nagios_line(lfs, unread=["sql02"])
    assert line.startswith("RESTOREPLAN UNKNOWN") and code == 3  # a WARNING alone would hide the unread server


def test_perfdata_labels_hold_no_equals_sign_or_pipe() -> None:
    lfs = validate_history(History.from_sets([full("09:00", 100, 110, name="L|e=gacy")]),
                           ValidateOptions(as_of=when("12:00")))
    line, _ = nagios_line(lfs)
    perf = line.split(" | ", 1)[1]
    assert "'L/e_gacy full_age'" in perf and perf.count("|") == 0


def test_databases_are_counted_case_insensitively() -> None:
    from tests.builders import FORK_B

    sets = [full("09:00", 100, 110, name="hr"),
            full("1 09:00", 100, 110, name="HR", family_guid="33333333-3333-4333-8333-333333333333", fork=FORK_B)]
    summary = summary_json(validate_history(History.from_sets(sets)))
    assert summary["lineages"] == 2 and summary["databases"] == 1


def test_audit_reports_agree_on_the_worst_case_and_escape_names(capsys: pytest.CaptureFixture[str]) -> None:
    as_of = ["--as-of", "2026-12-01 00:00"]
    assert main(["audit", "--format", "json", *as_of]) in (0, 1)
    docs = {d["lineage_key"]: d for d in json.loads(capsys.readouterr().out)["databases"]}
    assert main(["audit", "--format", "csv", *as_of]) in (0, 1)
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(docs)
    for row, doc in zip(rows, docs.values(), strict=True):  # the CSV lists them in the JSON's order
        ws, wb = doc["worst_case_steps"], doc["worst_case_bytes"]
        assert row["worst_bytes"] == str(wb["bytes_read"]), row["database_name"]
        assert row["worst_seconds"] == str(round(max(ws["estimated_seconds"], wb["estimated_seconds"]))), row["database_name"]
    result = audit_history(History.from_sets(_gappy("L|e<g>&acy", 2)))
    assert "L\\|e\\<g\\>&amp;acy" in audit_text(result, markdown=True).splitlines()[-1]
    assert '<tr class="error"><td>L|e&lt;g&gt;&amp;acy' in render_html(result)
    warned = audit_history(History.from_sets([full("09:00", 100, 110), log("09:15", 100, 150, has_bulk_logged_data=True)]))
    assert '<tr class="warning"><td>db' in render_html(warned)  # its summary row, warnings only, is marked
    assert main(["audit", "--database", "Legacy", "--format", "html", "--target", "2026-11-12 12:00", *as_of]) in (0, 1)
    assert "target 2026-11-12 12:00:00: NOT recoverable" in capsys.readouterr().out  # inside a SIMPLE gap


def test_a_plan_counts_its_tail_log_restore(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-d", "Sales", "--latest", "--tail", "always", "--format", "json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    restores = [s for s in steps if str(s["action"]).startswith("restore_")]
    assert main(["plan", "-d", "Sales", "--latest", "--tail", "always"]) == 0
    assert f"in {len(restores)} restore steps" in capsys.readouterr().out


def test_a_driver_message_never_carries_the_password_even_without_its_key() -> None:
    said = _scrub("login failed: bad token s3cr3t for user sa", "Driver=x;UID=sa;PWD=s3cr3t")
    assert "s3cr3t" not in said and "***" in said
