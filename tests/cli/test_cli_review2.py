"""Second review of the command line: hostile inputs and option combinations, each a defect found
by driving the commands (unwritable outputs, options accepted but ignored, non-UTF-8 output,
Markdown injection, unread servers that went unreported)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from restoreplan.cli.main import main
from restoreplan.sources import msdb_odbc
from restoreplan.sources.load import sample_history_path

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> None:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("restoreplan: ")


# --- --output / --emit-rows to a path that cannot be written ----------------------------------


@pytest.mark.parametrize("fmt", ["html", "json", "text"])
def test_audit_output_to_unwritable_path_is_one_line_exit_2(tmp_path: Path, capsys, fmt: str) -> None:
    for target in (tmp_path / "no" / "such" / "dir" / "a.out", tmp_path):
        code, out, err = run(capsys, "audit", "-d", "Sales", "--format", fmt, "--output", str(target))
        assert code == 2, err
        if fmt == "json":  # errors in JSON mode are a JSON document on stdout (README, "Exit codes")
            assert json.loads(out)["error"]["code"] == "BAD_INPUT" and str(target) in out and err == ""
            continue
        one_line_error(err)
        assert str(target) in err and out == ""


def test_rds_tlog_emit_rows_to_unwritable_path_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    manifest = _manifest(tmp_path)
    code, out, err = run(capsys, "rds-tlog", "--manifest", manifest, "--prefix-arn", "arn:aws:s3:::b/p",
                         "--emit-rows", str(tmp_path / "missing" / "rows.csv"))
    assert code == 2, err
    one_line_error(err)


def _manifest(tmp_path: Path) -> str:
    from tests.rds.test_tlog import manifest_rows, write_csv

    return str(write_csv(tmp_path / "manifest.csv", manifest_rows(3)))


# --- options accepted but ignored --------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_strategy_step_seconds_must_be_finite(capsys, value: str) -> None:
    code, out, err = run(capsys, "strategy", "-d", "Sales", f"--step-seconds={value}")
    assert code == 2, err
    one_line_error(err)
    assert "--step-seconds" in err


@pytest.mark.parametrize("option", [["--data-volume", "D:"], ["--log-volume", "D:"],
                                    ["--kms-key-arn", "arn:aws:kms:eu-west-1:1:key/x"],
                                    ["--instance-region", "eu-west-1"]])
def test_tsql_script_refuses_rds_only_options(capsys, option: list[str]) -> None:
    code, out, err = run(capsys, "script", "-d", "Sales", "--latest", *option)
    assert code == 2, err
    one_line_error(err)
    assert option[0] in err and out == ""


def test_since_without_msdb_is_refused(capsys) -> None:
    for command in (["plan", "-d", "Sales", "--latest"], ["validate"], ["audit"], ["graph"], ["strategy"]):
        code, out, err = run(capsys, *command, "--since", "2026-11-20")
        assert code == 2, (command, err)
        one_line_error(err)
        assert "--since" in err


@pytest.mark.parametrize("argv", [
    ["--target", "2026-11-19 09:20"],                      # the HTML timeline only
    ["--format", "csv", "--target", "2026-11-19 09:20"],
    ["--all-backups"],                                     # JSON only
    ["--format", "markdown", "--all-backups"],
    ["--strategy"],                                        # JSON and HTML only
    ["--format", "csv", "--strategy"],
    ["--rds-snapshots-json", "x.json"],                    # with --rds-describe-json only
    ["--rds-instance", "prod-sql"],
])
def test_audit_refuses_options_its_format_ignores(capsys, argv: list[str]) -> None:
    code, out, err = run(capsys, "audit", "-d", "Sales", *argv)
    assert code == 2, err
    one_line_error(err)
    assert out == ""


def test_audit_rds_describe_in_csv_and_markdown_is_refused(capsys) -> None:
    data = ROOT / "tests" / "rds" / "data" / "describe_db_instances.json"
    for fmt in ("csv", "markdown"):
        code, out, err = run(capsys, "audit", "-d", "Sales", "--format", fmt, "--rds-describe-json", str(data))
        assert code == 2, err
        one_line_error(err)


def test_rds_tlog_row_options_without_emit_rows_are_refused(tmp_path: Path, capsys) -> None:
    manifest = _manifest(tmp_path)
    for option in (["--database", "Shop"], ["--instance-offset", "+01:00"], ["--prefix-arn", "arn:aws:s3:::b/p"]):
        code, out, err = run(capsys, "rds-tlog", "--manifest", manifest, *option)
        assert code == 2, (option, err)
        one_line_error(err)
        assert "--emit-rows" in err


@pytest.mark.parametrize("offset", ["99:99", "+1000000", "+15:00", "1:75", "+-5", "5:3", "--5"])
def test_rds_tlog_instance_offset_out_of_range(tmp_path: Path, capsys, offset: str) -> None:
    manifest = _manifest(tmp_path)
    code, out, err = run(capsys, "rds-tlog", "--manifest", manifest, "--prefix-arn", "arn:aws:s3:::b/p",
                         "--emit-rows", str(tmp_path / "r.csv"), f"--instance-offset={offset}")
    assert code == 2, err
    one_line_error(err)
    assert "--instance-offset" in err


# --- validate --nagios: one status line, never another format, exit 3 on any bad input --------


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_nagios_with_another_format_is_unknown(capsys, fmt: str) -> None:
    code, out, err = run(capsys, "validate", "--nagios", "--format", fmt)
    assert code == 3, out
    assert out.startswith("RESTOREPLAN UNKNOWN - ") and out.count("\n") == 1


def test_nagios_argparse_usage_error_is_unknown_not_critical(capsys) -> None:
    code, out, err = run(capsys, "validate", "--nagios", "--max-full-age")
    assert code == 3  # 2 would read as CRITICAL
    assert out.startswith("RESTOREPLAN UNKNOWN - ") and "Traceback" not in err


# --- servers of an inventory that could not be read --------------------------------------------


def _inventory_with_one_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    from restoreplan.sources import tabular

    records = list(tabular.read_records(str(ROOT / "fixtures" / "hr_1c7a8a5a.csv")))

    def fake(path: object, **kwargs: object) -> msdb_odbc.InventoryResult:
        ok = msdb_odbc.MsdbResult(rows=records, database_files={}, marks=[], server="sqlok")
        return msdb_odbc.InventoryResult(results=[ok], failures=[("sqlbad", "cannot connect: login failed")])

    monkeypatch.setattr(msdb_odbc, "read_inventory", fake)
    inv = tmp_path / "inv.txt"
    inv.write_text("DSN=sqlok\nDSN=sqlbad\n", encoding="utf-8")
    return str(inv)


def test_unread_inventory_server_is_reported_by_every_command(monkeypatch, tmp_path: Path, capsys) -> None:
    inv = _inventory_with_one_failure(monkeypatch, tmp_path)
    for command in (["validate"], ["audit"], ["graph"], ["strategy"], ["validate", "--format", "json"]):
        code, out, err = run(capsys, *command, "--inventory", inv)
        assert "sqlbad" in err and "login failed" in err, (command, err)
        assert "sqlbad" not in out or command[-1] == "json"
        if command[0] in ("validate", "audit"):
            assert code == 1, (command, err)  # part of the estate is unchecked: not "no error"
    code, out, err = run(capsys, "validate", "--inventory", inv, "--nagios")
    assert code == 3 and out.startswith("RESTOREPLAN UNKNOWN - ") and "sqlbad" in out


# --- stdout that cannot encode the history's names ---------------------------------------------


def _unicode_history(tmp_path: Path) -> str:
    text = Path(sample_history_path()).read_text(encoding="utf-8")
    p = tmp_path / "uni.csv"
    p.write_text(text.replace("\nHR,", "\nÜnïcödé–数据,"), encoding="utf-8")
    return str(p)


def _ascii_run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    return subprocess.run([sys.executable, "-m", "restoreplan", *argv], capture_output=True, text=True,
                          encoding="utf-8", errors="replace", env=env, cwd=ROOT)


@pytest.mark.parametrize("argv", [["validate", "--format", "json"], ["audit", "--format", "json"],
                                  ["strategy", "--format", "json"], ["graph", "--format", "json"],
                                  ["plan", "-d", "Ünïcödé–数据", "--latest", "--format", "json"]])
def test_json_on_an_ascii_stdout_is_lossless(tmp_path: Path, argv: list[str]) -> None:
    proc = _ascii_run(*argv, "--history", _unicode_history(tmp_path))
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Ünïcödé–数据" in json.dumps(json.loads(proc.stdout), ensure_ascii=False)


@pytest.mark.parametrize("argv", [["audit"], ["strategy"], ["graph"],
                                  ["plan", "-d", "Ünïcödé–数据", "--latest"],
                                  ["script", "-d", "Ünïcödé–数据", "--latest"]])
def test_text_on_an_ascii_stdout_is_one_line_exit_2(tmp_path: Path, argv: list[str]) -> None:
    proc = _ascii_run(*argv, "--history", _unicode_history(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "PYTHONIOENCODING" in proc.stderr


def test_nagios_on_an_ascii_stdout(tmp_path: Path) -> None:
    proc = _ascii_run("validate", "--nagios", "--history", _unicode_history(tmp_path))
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout.startswith("RESTOREPLAN ")


# --- Markdown: a database name is text, not markup ---------------------------------------------


def test_audit_markdown_escapes_names(tmp_path: Path, capsys) -> None:
    text = Path(sample_history_path()).read_text(encoding="utf-8")
    evil = '<script>alert(1)</script>|[x](javascript:alert(2))'
    p = tmp_path / "evil.csv"
    p.write_text(text.replace("\nHR,", "\n" + '"' + evil + '",'), encoding="utf-8")
    code, out, err = run(capsys, "audit", "--history", str(p), "--format", "markdown")
    assert code in (0, 1), err
    assert not re.search(r"(?<!\\)<script", out) and not re.search(r"(?<!\\)\]\(javascript:", out)
    summary = [ln for ln in out.splitlines() if "alert(1)" in ln and ln.startswith("|")]
    assert summary
    columns = out.splitlines()[2].count("|") - out.splitlines()[2].count("\\|")
    for ln in summary:  # the pipe in the name does not add a column
        assert ln.count("|") - ln.count("\\|") == columns


# --- usage errors: one line; an empty value is not "no value" ----------------------------------


@pytest.mark.parametrize("argv", [["plan", "--at", "x", "--latest"], ["validate", "--max-full-age"],
                                  ["audit", "--format", "pdf"], ["strategy", "--bogus"]])
def test_argparse_usage_error_is_one_line(capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    one_line_error(err)
    assert "--help" in err and out == ""


@pytest.mark.parametrize("argv", [["script", "-d", "Sales", "--latest", "--target-name", ""],
                                  ["script", "-d", "Sales", "--latest", "--tail-file", ""],
                                  ["validate", "-d", ""], ["audit", "--database="], ["graph", "-d", ""],
                                  ["plan", "-d", "Sales", "--latest", "--family-guid", ""]])
def test_an_empty_option_value_is_refused(capsys, argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    one_line_error(err)
    assert "empty" in err and out == ""


def test_every_inventory_server_failing_says_why(monkeypatch, tmp_path: Path, capsys) -> None:
    """Not only "the inputs hold no backup sets": the servers' own errors, in the one line."""
    def fake(path: object, **kwargs: object) -> msdb_odbc.InventoryResult:
        return msdb_odbc.InventoryResult(results=[], failures=[("sqlbad", "cannot connect: login failed"),
                                                               ("sqlgone", "cannot connect: timeout")])

    monkeypatch.setattr(msdb_odbc, "read_inventory", fake)
    inv = tmp_path / "inv.txt"
    inv.write_text("DSN=sqlbad\nDSN=sqlgone\n", encoding="utf-8")
    code, out, err = run(capsys, "validate", "--inventory", str(inv))
    assert code == 2 and "no server could be read" in err and "login failed" in err and "timeout" in err


@pytest.mark.parametrize(("describe", "words"), [
    ({"DBInstances": [{"Engine": "sqlserver-se"}]}, "no DBInstanceIdentifier"),
    ({"DBInstances": []}, "holds no instance"),
    ([1, 2], "no DBInstanceIdentifier"),
    ({"DBInstances": "x"}, "not a list"),
])
def test_rds_pitr_describe_without_instances_is_one_line(tmp_path: Path, capsys, describe, words) -> None:
    p = tmp_path / "d.json"
    p.write_text(json.dumps(describe), encoding="utf-8")
    code, out, err = run(capsys, "rds-pitr", "--describe-json", str(p), "--at", "2026-11-18T19:37:00Z")
    assert code == 2 and words in err and "Traceback" not in err


def test_a_reader_that_closes_the_pipe_early_is_not_success(tmp_path, monkeypatch):
    """`restoreplan script ... | sqlcmd` where the reader stops: the output is incomplete, so the
    exit is 141 (128 + SIGPIPE, what a shell shows for a writer the pipe stopped), quietly."""
    import io
    import sys

    class ClosedPipe(io.TextIOWrapper):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    stdout = ClosedPipe(open(tmp_path / "out", "wb"))  # a real descriptor for the /dev/null switch
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["audit", "--format", "html"]) == 141


def test_the_collector_is_paused_for_a_command_and_left_as_it_was(monkeypatch):
    """The cyclic collector is off while a command works (its history and results hold no
    cycles worth a traversal of millions of objects) and restored after, even on an error."""
    import gc

    import restoreplan.cli.audit_cmd as audit_cmd

    seen = []
    real = audit_cmd.run

    def spy(args):
        seen.append(gc.isenabled())
        return real(args)

    monkeypatch.setattr(audit_cmd, "run", spy)
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            main(["audit", "--format", "json"])
            main(["audit", "--history", "/nonexistent.csv"])
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
    assert seen and not any(seen)


def test_a_closed_pipe_on_a_stdout_without_a_descriptor_still_exits_141(monkeypatch):
    """redirect_stdout to a StringIO, pytest's capsys: no fileno to point at /dev/null."""
    import io
    import sys

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["audit", "--format", "html"]) == 141


def test_a_closed_pipe_says_so_on_stderr_and_is_unknown_to_nagios(monkeypatch, capsys):
    import io
    import sys

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["validate", "--nagios"]) == 3  # the Nagios convention has no 141: UNKNOWN
    assert "broken pipe" in capsys.readouterr().err
