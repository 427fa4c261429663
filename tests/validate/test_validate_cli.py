"""The validate command: formats, exit codes, the Nagios line."""

from __future__ import annotations

import csv
import io
import json

from restoreplan.cli.main import main
from restoreplan.cli.validate_cmd import parse_duration


def run(capsys, *argv):
    code = main(["validate", *argv])
    return code, capsys.readouterr().out


def test_sample_has_no_error_and_exits_0(capsys):
    code, out = run(capsys, "--as-of", "2026-11-21 14:00")
    assert code == 0 and "OK" in out.splitlines()[-1]


def test_json_shape(capsys):
    code, out = run(capsys, "--format", "json", "-d", "Sales", "--as-of", "2026-11-21 14:00")
    doc = json.loads(out)
    db = doc["databases"][0]
    assert {"database_name", "family_guid", "server_names", "findings"} <= set(db)
    f = db["findings"][0]
    assert {"code", "severity", "backup_set_uuid", "backup_type", "backup_start_date", "backup_finish_date",
            "first_lsn", "last_lsn", "message", "hint"} <= set(f)
    assert doc["summary"]["errors"] == 0


def test_csv_has_a_row_per_finding(capsys):
    code, out = run(capsys, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["code"] for r in rows} >= {"CHAIN_RESTART", "COPY_ONLY"}


def test_stale_backups_exit_1_and_nagios_is_critical(capsys):
    code, _ = run(capsys, "--max-log-age", "15m", "--as-of", "2026-12-01 00:00")
    assert code == 1
    code, out = run(capsys, "--nagios", "--max-log-age", "15m", "--as-of", "2026-12-01 00:00")
    assert code == 2 and out.startswith("RESTOREPLAN CRITICAL - ") and " | errors=" in out
    assert len(out.strip().splitlines()) == 1


def test_audit_exits_1_on_an_error_finding_and_still_writes_its_report(capsys):
    """Exit codes mean the same for every command: 1 is problems found."""
    for fmt in ("text", "json"):
        code = main(["audit", "--max-log-age", "15m", "--as-of", "2026-12-01 00:00", "--format", fmt])
        out = capsys.readouterr().out
        assert code == 1 and "BROKEN" in out
    assert main(["audit", "--as-of", "2026-11-21 14:00"]) == 0  # warnings alone: 0
    assert "OK WITH WARNINGS" in capsys.readouterr().out


def test_nagios_warning_and_ok(capsys):
    code, out = run(capsys, "--nagios", "-d", "Legacy")
    assert code == 1 and out.startswith("RESTOREPLAN WARNING")
    code, out = run(capsys, "--nagios", "-d", "Sales")
    assert code == 0 and out.startswith("RESTOREPLAN OK")


def test_nagios_unknown_on_bad_input(capsys, tmp_path):
    code, out = run(capsys, "--nagios", "--history", str(tmp_path / "nope.csv"))
    assert code == 3 and out.startswith("RESTOREPLAN UNKNOWN")


def test_bad_duration_is_usage_error(capsys):
    assert main(["validate", "--max-full-age", "seven days"]) == 2


def test_parse_duration():
    assert parse_duration("7d").total_seconds() == 7 * 86400
    assert parse_duration("1d12h").total_seconds() == 36 * 3600
    assert parse_duration("15m").total_seconds() == 900
