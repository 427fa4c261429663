"""The command line: exit codes, one-line errors, JSON schema, real-world export quirks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from restoreplan.cli.main import main
from restoreplan.sources.columns import REQUIRED

HEADER = list(REQUIRED) + ["family_guid", "time_zone", "position"]
F = "11111111-1111-4111-8111-111111111111"
ROWS = [
    ["db", "aaaaaaaa-0000-4000-8000-000000000001", "D", "100", "120", "110", "0", "2026-01-05 09:59:00",
     "2026-01-05 10:00:00", r"X:\b\full.bak", F, "0", "1"],
    ["db", "aaaaaaaa-0000-4000-8000-000000000002", "L", "110", "150", "110", "110", "2026-01-05 10:14:50.123",
     "2026-01-05 10:15:00.1234567", r"X:\b\log1.trn", F, "0", "1"],
]


def write(tmp_path: Path, rows=ROWS, header=HEADER, name="h.csv", encoding="utf-8", sep=",", extra_lines=()) -> str:
    lines = [sep.join(header)] + [sep.join(r) for r in rows] + list(extra_lines)
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding=encoding)
    return str(p)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_json_schema(tmp_path, capsys):
    code, out, err = run(capsys, "plan", "--history", write(tmp_path), "--database", "db", "--at", "2026-01-05 10:10", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"database", "family_guid", "target", "steps", "recovery_point", "warnings"}
    assert [s["action"] for s in doc["steps"]] == ["restore_database", "restore_log", "recover"]
    step = doc["steps"][1]
    assert set(step) >= {"action", "backup_set_uuid", "backup_type", "files", "position", "first_lsn", "last_lsn",
                         "stop_at", "backup_start_date", "backup_finish_date"}
    assert step["first_lsn"] == "110" and step["files"] == [r"X:\b\log1.trn"] and step["stop_at"] == "2026-01-05 10:10:00"
    assert doc["target"]["time_utc"] == "2026-01-05 10:10:00Z"


def test_sqlcmd_export_quirks_are_tolerated(tmp_path, capsys):
    dash = ",".join("-" * len(h) for h in HEADER)
    rows = [r[:] for r in ROWS]
    rows[0][10] = "NULL"  # family_guid NULL in one row only
    rows[0][10] = F
    path = tmp_path / "sqlcmd.csv"
    text = "\n".join([",".join(HEADER), dash] + [",".join(r) for r in rows] + ["", "(2 rows affected)"]) + "\n"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    code, out, err = run(capsys, "plan", "--history", str(path), "--database", "db", "--latest")
    assert code == 0, err
    assert "PLANNED" in out


@pytest.mark.parametrize(
    "mutate, expect",
    [
        (lambda h, r: (h[:2] + h[3:], [x[:2] + x[3:] for x in r]), "missing required column(s) type"),
        (lambda h, r: (h, [r[0][:3] + ["12x"] + r[0][4:], r[1]]), "column first_lsn: not an LSN"),
        (lambda h, r: (h, [r[0][:7] + ["yesterday-ish"] + r[0][8:], r[1]]), "column backup_start_date"),
        (lambda h, r: (h, [r[0], r[0][:4] + ["999"] + r[0][5:]]), "conflicting rows"),
        (lambda h, r: (h, [r[0][:3] + ["1.5e16"] + r[0][4:], r[1]]), "column first_lsn"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, mutate, expect):
    header, rows = mutate(list(HEADER), [list(r) for r in ROWS])
    code, out, err = run(capsys, "plan", "--history", write(tmp_path, rows, header), "--database", "db", "--latest")
    assert code == 2
    assert expect in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_empty_file_and_missing_file(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(capsys, "plan", "--history", str(empty), "--latest")
    assert code == 2 and "empty" in err
    code, _, err = run(capsys, "plan", "--history", str(tmp_path / "nope.csv"), "--latest")
    assert code == 2 and "cannot read" in err


def test_identical_rows_from_two_files_merge(tmp_path, capsys):
    a = write(tmp_path, name="a.csv")
    b = write(tmp_path, name="b.csv")
    code, out, err = run(capsys, "plan", "--history", a, "--history", b, "--database", "db", "--latest", "--format", "json")
    assert code == 0, err
    assert len(json.loads(out)["steps"]) == 3


def test_unreachable_target_exits_3_with_nearest_points(tmp_path, capsys):
    code, out, err = run(capsys, "plan", "--history", write(tmp_path), "--database", "db", "--at", "2026-01-05 09:00")
    assert code == 3
    assert "nearest reachable after: 2026-01-05 10:00:00" in err
    code, out, err = run(capsys, "plan", "--history", write(tmp_path), "-d", "db", "--at", "2026-01-05 09:00", "--format", "json")
    assert code == 3 and json.loads(out)["error"]["code"] == "NO_FULL_BEFORE_TARGET"


def test_unknown_database_exits_2_listing_names(tmp_path, capsys):
    code, out, err = run(capsys, "plan", "--history", write(tmp_path), "--database", "nope", "--latest")
    assert code == 2 and "databases: db" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["plan", "--at", "x", "--latest"])
    assert e.value.code == 2
    code, _, err = run(capsys, "plan", "--database", "Sales")
    assert code == 2 and "--at" in err
    code, _, err = run(capsys, "plan", "--database", "Sales", "--at", "not a time")
    assert code == 2 and "cannot read" in err


@pytest.mark.parametrize("text", ["2026-11", "Nov 2026", "11/12/2026 10:00", "  "])
def test_partial_or_ambiguous_target_times_are_refused(capsys, text):
    """--at never fills in a missing day (dateutil would take today's) or guesses day/month order."""
    code, out, err = run(capsys, "plan", "--database", "Sales", "--at", text)
    assert code == 2 and out == "" and "Traceback" not in err


def test_bundled_sample_main_job(capsys):
    code, out, err = run(capsys, "plan", "--database", "Sales", "--at", "2026-11-19 09:20:00")
    assert code == 0, err
    assert "PLANNED: Sales" in out and "1 full, 1 differential" in out
    code, out, err = run(capsys, "script", "--database", "Sales", "--at", "2026-11-19 09:20:00")
    assert code == 0 and ":On Error exit" in out and "STOPAT = '2026-11-19T09:20:00'" in out
    assert "MOVE N'Sales' TO" in out


def test_sample_scenarios(capsys):
    # the marked transaction, the fork, the SIMPLE period and the recreated database
    assert run(capsys, "plan", "-d", "Sales", "--mark", "PriceUpdate")[0] == 0
    assert run(capsys, "plan", "-d", "Inventory", "--at", "2026-11-11 11:00", "--format", "json")[0] == 0
    code, _, err = run(capsys, "plan", "-d", "Legacy", "--at", "2026-11-13 12:00")
    assert code == 3 and "SIMPLE" in err
    code, out, _ = run(capsys, "plan", "-d", "HR", "--at", "2026-11-10 12:00", "--format", "json")
    assert code == 0 and any("lineages" in w for w in json.loads(out)["warnings"])


def test_export_query_and_python_m(capsys):
    code, out, _ = run(capsys, "export-query")
    assert code == 0 and "backup_set_uuid" in out and "backupmediafamily" in out
    proc = subprocess.run([sys.executable, "-m", "restoreplan", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "plan" in proc.stdout


def test_every_command_help_has_an_example():
    from restoreplan.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        assert "example" in (p.epilog or "").lower(), f"{name} --help has no example"


def test_script_json_and_graph(capsys):
    code, out, _ = run(capsys, "script", "-d", "Sales", "--latest", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["dialect"] == "tsql" and ":On Error exit" in doc["script"] and doc["plan"]["steps"]
    code, out, _ = run(capsys, "graph", "-d", "Sales", "--format", "json")
    assert code == 0 and json.loads(out)["graphs"][0]["nodes"]
    code, _, err = run(capsys, "script", "-d", "Sales", "--latest", "--standby", "u.bak", "--no-recovery")
    assert code == 2 and "exclude" in err


def test_check_files_goes_around_missing_files_and_names_them(tmp_path, capsys):
    header = list(REQUIRED) + ["family_guid", "time_zone", "position", "differential_base_guid",
                               "family_sequence_number", "mirror", "media_family_count"]
    full_ = tmp_path / "full.bak"
    diff_m0, diff_m1 = tmp_path / "diff_m0.bak", tmp_path / "diff_m1.bak"
    log1, log2 = tmp_path / "log1.trn", tmp_path / "log2.trn"
    fu, du = "aaaaaaaa-0000-4000-8000-00000000000a", "aaaaaaaa-0000-4000-8000-00000000000b"
    rows = [
        ["db", fu, "D", "100", "120", "110", "0", "2026-01-05 09:59", "2026-01-05 10:00", str(full_), F, "0", "1", "", "1", "0", "1"],
        ["db", du, "I", "200", "220", "210", "110", "2026-01-05 10:59", "2026-01-05 11:00", str(diff_m0), F, "0", "1", fu, "1", "0", "1"],
        ["db", du, "I", "200", "220", "210", "110", "2026-01-05 10:59", "2026-01-05 11:00", str(diff_m1), F, "0", "1", fu, "1", "1", "1"],
        ["db", "aaaaaaaa-0000-4000-8000-00000000000c", "L", "110", "210", "110", "110", "2026-01-05 10:29", "2026-01-05 10:30", str(log1), F, "0", "1", "", "1", "0", "1"],
        ["db", "aaaaaaaa-0000-4000-8000-00000000000d", "L", "210", "300", "210", "110", "2026-01-05 11:29", "2026-01-05 11:30", str(log2), F, "0", "1", "", "1", "0", "1"],
    ]
    hist = write(tmp_path, rows, header)
    for p in (full_, diff_m1, log1, log2):
        p.write_bytes(b"x")
    args = ["plan", "--history", hist, "-d", "db", "--at", "2026-01-05 11:20", "--check-files", "--format", "json"]
    code, out, _ = run(capsys, *args)  # one mirror of the differential is enough
    assert code == 0 and [s["backup_type"] for s in json.loads(out)["steps"][:-1]] == ["D", "I", "L"]
    diff_m1.unlink()
    code, out, _ = run(capsys, *args)  # no mirror left: full + both logs instead
    assert code == 0 and [s["backup_type"] for s in json.loads(out)["steps"][:-1]] == ["D", "L", "L"]
    log1.unlink()
    code, out, err = run(capsys, *args[:-2])
    assert code == 3 and "missing file(s)" in err and "log1.trn" in err


def test_audit_report_carries_strategy_and_rds_instance_sections(tmp_path, capsys):
    data = Path(__file__).resolve().parents[1] / "rds" / "data"
    out_file = tmp_path / "audit.html"
    code, _, err = run(capsys, "audit", "-d", "Sales", "--strategy", "--rds-describe-json",
                       str(data / "describe_db_instances.json"), "--format", "html", "-o", str(out_file))
    assert code == 0, err
    html = out_file.read_text()
    assert "Amazon RDS instance-level recovery" in html and "backup_retention_days" in html
    assert "weekly full + daily diff + logs" in html
    code, out, _ = run(capsys, "audit", "-d", "Sales", "--strategy", "--rds-describe-json",
                       str(data / "describe_db_instances.json"), "--format", "json")
    doc = json.loads(out)
    assert doc["rds_instance"]["latest_restorable_utc"] and doc["strategy"]


def test_every_command_is_mapped_to_its_module() -> None:
    """main imports only the module of the command being run: the map must name them all."""
    import argparse

    from restoreplan.cli import main as cli_main

    parser = cli_main.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(sub.choices) == sorted(cli_main.COMMANDS)
    for name, module in cli_main.COMMANDS.items():
        one = cli_main.build_parser(name)
        only = next(a for a in one._actions if isinstance(a, argparse._SubParsersAction))
        assert name in only.choices, (name, module)


def test_restores_after_the_last_backup_refuse_a_tail_plan(tmp_path, capsys):
    """--restores (an export of restorehistory): a restore into Sales after its last backup (the
    sample's ends 2026-11-21 13:45:20 on SQLPROD01) leaves no chain for a tail-log to continue."""
    restores = tmp_path / "restores.csv"
    restores.write_text("destination_database_name,restore_date,restore_type,recovery,stop_at,server_name\n"
                        "Sales,2026-11-21 14:10:00.000,D,1,2026-11-21 12:00:00.000,SQLPROD01\n"
                        "Sales,2026-11-21 14:20:00.000,V,1,,SQLPROD01\n", encoding="utf-8")
    code, out, err = run(capsys, "plan", "-d", "Sales", "--at", "2026-11-21 15:00", "--restores", str(restores),
                         "--format", "json")
    assert code == 3
    doc = json.loads(out)
    assert doc["error"]["code"] == "RESTORED_SINCE_BACKUP" and "2026-11-21 14:10:00" in doc["error"]["message"]
    assert doc["error"]["nearest_before"]["local"] == "2026-11-21 13:45:20"
    code, out, err = run(capsys, "plan", "-d", "Sales", "--at", "2026-11-21 13:00", "--restores", str(restores))
    assert code == 0 and "not its current state" in err + out
    restores.write_text("destination_database_name,restore_date,restore_type\nSales,yesterday,D\n", encoding="utf-8")
    code, _, err = run(capsys, "plan", "-d", "Sales", "--latest", "--restores", str(restores))
    assert code == 2 and "row 2" in err and "Traceback" not in err
    code, out, _ = run(capsys, "export-query")
    assert code == 0 and "restorehistory" in out and "@@SERVERNAME AS server_name" in out


def test_a_second_result_set_in_a_history_file_is_named(tmp_path, capsys):
    """All of export-query's queries run by sqlcmd into one file: refused where the next header is."""
    path = write(tmp_path, extra_lines=["", "backup_set_uuid,logical_name,physical_name,file_type",
                                        "----,----,----,----", "x,y,z,D"])
    code, _, err = run(capsys, "plan", "--history", path, "--database", "db", "--latest")
    assert code == 2 and "row 5: a second result set begins here" in err and "--query history" in err
    code, out, _ = run(capsys, "export-query", "--query", "restores")
    assert code == 0 and out.count("SELECT") == 2  # the query and its subquery
    assert run(capsys, "export-query", "--query", "history", "--rds")[0] == 2


@pytest.mark.parametrize("first", [True, False])
def test_a_database_name_keeps_its_leading_whitespace(tmp_path, capsys, first):
    """' db' is another database than 'db' (sqlcmd pads text on the right only): stripping the
    space made the script restore over the wrong one (robustness review); refusing it made
    the whole history unusable (review of that fix). The name is kept as stored."""
    header = HEADER if first else HEADER[1:] + HEADER[:1]
    rows = [[" db", *r[1:]] for r in ROWS]
    rows = rows if first else [r[1:] + r[:1] for r in rows]
    path = write(tmp_path, rows=rows, header=header)
    code, _, err = run(capsys, "plan", "--history", path, "-d", "db", "--latest")
    assert code == 2 and "' db'" in err  # not the database asked for: the one there is named
    code, out, _ = run(capsys, "plan", "--history", path, "-d", " db", "--latest", "--format", "json")
    assert code == 0 and json.loads(out)["database"] == " db"
    code, out, _ = run(capsys, "script", "--history", path, "-d", " db", "--latest")
    assert code == 0 and ':setvar TargetDb " db"' in out
    padded = [["db   ", *r[1:]] for r in ROWS]  # sqlcmd's right padding is no part of the name
    assert run(capsys, "plan", "--history", write(tmp_path, rows=padded, name="p.csv"), "-d", "db", "--latest")[0] == 0
    doc = [dict(zip(HEADER, [" db", *r[1:]], strict=True)) for r in ROWS]
    (tmp_path / "h.json").write_text(json.dumps(doc), encoding="utf-8")
    code, out, _ = run(capsys, "plan", "--history", str(tmp_path / "h.json"), "-d", " db", "--latest", "--format", "json")
    assert code == 0 and json.loads(out)["database"] == " db"


@pytest.mark.parametrize("finish", ["9999-12-31 23:59:59", "1752-12-31 10:00:00"])
def test_dates_outside_msdbs_range_are_refused_not_a_traceback(tmp_path, capsys, finish):
    """A time-zone shift of 9999-12-31 overflowed datetime (robustness review)."""
    rows = [r[:8] + [finish if r[2] == "L" else r[8]] + r[9:] for r in ROWS]
    code, _, err = run(capsys, "validate", "--history", write(tmp_path, rows=rows))
    assert code == 2 and "row 3" in err and "1753-01-01 .. 9999-12-29" in err and "Traceback" not in err
    for argv in (["plan", "--at", "9999-12-31 23:59:59"], ["plan", "--at", "9999-12-31 23:59:59.9999999"],
                 ["validate", "--as-of", "9999-12-31T23:59:59-14:00"], ["audit", "--as-of", "0001-01-01"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "outside the dates restoreplan reads" in err, argv


@pytest.mark.parametrize("argv", [["validate", "--max-full-age", "99999999999999999999d"],
                                  ["audit", "--max-log-age", "1e400h"],
                                  ["strategy", "-d", "Sales", "--schedule", "full=99999999999999999999d"]])
def test_huge_durations_are_refused(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and "Traceback" not in err


def test_a_full_disk_is_one_line_and_exit_2(capsys, monkeypatch):
    """Writing to /dev/full was an OSError traceback, exit 1 (robustness review)."""
    import errno
    import io

    class Full(io.StringIO):
        def write(self, s):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sys, "stdout", Full())
    code = main(["script", "-d", "Sales", "--latest"])
    err = capsys.readouterr().err
    assert code == 2 and "input/output error: No space left on device; the output may be incomplete" in err


def test_a_lone_surrogate_is_refused_where_it_is_read(tmp_path, capsys):
    """JSON "\\ud800" in a name failed only when written, with wrong advice (robustness review)."""
    doc = [dict(zip(HEADER, ["Sa\ud800les", *r[1:]], strict=True)) for r in ROWS]
    (tmp_path / "h.json").write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = run(capsys, "script", "--history", str(tmp_path / "h.json"), "--latest", "--format", "json")
    assert code == 2 and "lone UTF-16 surrogate" in out + err and "column database_name" in out + err


def test_a_lone_surrogate_in_a_long_text_column_is_refused_too(tmp_path, capsys):
    """The column-at-a-time path strips long texts without the cell parser: it checks them too."""
    doc = [dict(zip(HEADER, r, strict=True)) for r in ROWS]
    for d in doc:
        d["physical_device_name"] = "X:\\backups\\long\\name\ud800.bak"
    (tmp_path / "h.json").write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = run(capsys, "plan", "--history", str(tmp_path / "h.json"), "-d", "db", "--latest")
    assert code == 2 and "lone UTF-16 surrogate" in err and "column physical_device_name" in err


def test_a_history_that_cannot_be_read_is_an_input_error(capsys):
    """/proc/self/mem opens but cannot be read: an input error, not 'cannot write the output'."""
    code, _, err = run(capsys, "plan", "--history", "/proc/self/mem", "-d", "db", "--latest")
    assert code == 2 and "/proc/self/mem: cannot read" in err
