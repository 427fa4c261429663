"""Second review of the emitters: each defect pinned by a test that failed before its fix.

1. MOVE onto the source's own files is refused also when --data-dir/--log-dir is the source's directory,
   or when a file lands on another file's source path
2. --target-name with path characters (``\\ / : ? *``) stays inside a file name in MOVE targets
3. a target name that differs from the source only by case is an in-place restore, not a copy
4. STOPAT / AFTER never round later than asked (RESTORE reads them as ``datetime``: 1/300 s ticks)
5. the tail-log step of a copy says COPY_ONLY, not "WITH NORECOVERY"
6. the scripts lex the same under go-sqlcmd (no ``[...]`` awareness, ``\\`` before a quote in old
   versions) as under SSMS / ODBC sqlcmd: every GO is seen, every $(var) is ours and substituted
7. hostile command-line options (CLI level) and the RDS dialect never reach sqlcmd
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.cli.main import main
from restoreplan.core.errors import NotRecoverable, UsageError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import DatabaseFile, LogMark
from restoreplan.core.plan import Plan
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.emit.quoting import Batch, datetime_literal_text
from restoreplan.emit.rds import RdsOptions, render_rds
from restoreplan.emit.tsql import ScriptOptions, render_tsql
from restoreplan.sources.columns import REQUIRED
from restoreplan.sources.load import LoadRequest, load
from tests.builders import full, history, log, when
from tests.emit.test_emit_defects import check_sqlcmd_script
from tests.rds.conftest import s3_plan

OUR_VARS = {"TargetDb", "DataDir", "LogDir", "TailFile"}
_GO = re.compile(r"(?i)^[ \t]*go(?:[ \t]+\d+)?[ \t]*$")
_COMMAND = re.compile(r"(?i)^[ \t]*(?::|!!|go\b|exit\b|quit\b|reset\b|ed\b)")


# -- a model of go-sqlcmd's batch lexer ---------------------------------------------------------
def go_sqlcmd_batches(sql: str, backslash_escapes: bool) -> tuple[list[str], list[str]]:
    """Split like go-sqlcmd (pkg/sqlcmd/batch.go): quotes are ' and " only (no [...]), ``--`` skips
    the line, ``/* */`` does not nest, commands are recognised only where a line starts outside a
    string or comment; with ``backslash_escapes`` a ``\\`` inside '...' escapes the next character
    (go-sqlcmd before PR #96). Returns (batches, variables substituted) and fails on anything
    else that sqlcmd would treat as a command."""
    quote: str | None = None
    comment = False
    batches: list[str] = []
    current: list[str] = []
    variables: list[str] = []
    for line in sql.split("\n"):
        if quote is None and not comment:
            if _GO.match(line):
                assert line == "GO", f"GO with a count or indent: {line!r}"
                batches.append("\n".join(current))
                current = []
                continue
            if line.startswith(":"):
                assert line == ":On Error exit" or re.fullmatch(r':setvar (\w+) "[^"$]*"', line), line
                continue
            assert not _COMMAND.match(line), f"sqlcmd command: {line!r}"
        i = 0
        prev = ""
        while i < len(line):
            c, nxt = line[i], line[i + 1: i + 2]
            if quote is not None:
                if c == "$" and nxt == "(":
                    m = re.match(r"\$\(([A-Za-z0-9_]*)\)", line[i:])
                    assert m, f"malformed variable in {line!r}"
                    variables.append(m.group(1))
                    i += len(m.group(0))
                    continue
                if quote == "'" and c == "\\" and backslash_escapes:
                    i += 2
                    prev = ""
                    continue
                if quote == "'" and c == "'" and nxt == "'":
                    i += 2
                    continue
                if c == quote and (quote == '"' or prev != "'"):
                    quote = None
                prev = c
                i += 1
                continue
            if comment:
                j = line.find("*/", i)
                if j < 0:
                    break
                comment = False
                i = j + 2
                continue
            if c in "'\"":
                quote = c
                prev = ""
            elif c == "-" and nxt == "-":
                break
            elif c == "/" and nxt == "*":
                comment = True
                i += 1
            elif c == "$" and nxt == "(":
                m = re.match(r"\$\(([A-Za-z0-9_]*)\)", line[i:])
                assert m, f"malformed variable in {line!r}"
                variables.append(m.group(1))
                i += len(m.group(0))
                continue
            i += 1
        current.append(line)
    assert quote is None and not comment, "a string or comment left open at the end of the script"
    if "\n".join(current).strip():
        batches.append("\n".join(current))
    return batches, variables


def check_go_sqlcmd(sql: str, variables: set[str] | None = None) -> None:
    """Both go-sqlcmd lexers split the script where SSMS does (after every statement) and
    substitute exactly the $(...) the script holds, all of them ours."""
    expected_vars = re.findall(r"\$\(([^)]*)\)", sql)
    for escapes in (False, True):
        batches, found = go_sqlcmd_batches(sql, escapes)
        statements = [b for b in batches if re.search(r"(?m)^(RESTORE|BACKUP|exec|SET NOCOUNT) ", b)]
        assert len(statements) == len(batches), "a batch without a statement"
        for b in batches:
            assert len(re.findall(r"(?m)^(?:RESTORE|BACKUP) ", b)) <= 1, f"two statements in one batch:\n{b}"
        assert sorted(found) == sorted(expected_vars), (found, expected_vars)
        assert set(found) <= (variables if variables is not None else OUR_VARS)


def check_both(sql: str) -> None:
    check_sqlcmd_script(sql)
    check_go_sqlcmd(sql)


@pytest.fixture(scope="module")
def sales_plan() -> Plan:
    plan = plan_restore(load(LoadRequest()).history, "Sales", RecoveryTarget.at(datetime(2026, 11, 18, 14, 37)),
                        PlanOptions(tail="never"))
    return s3_plan(plan)


# -- plans ----------------------------------------------------------------------------------------
PAYROLL = (DatabaseFile("main", r"E:\Data\payroll.mdf"), DatabaseFile("log", r"F:\Logs\payroll_log.ldf", "L"))


def _plan(files=PAYROLL, name: str = "HR", tail: bool = False) -> Plan:
    f = full("10:00", 100, 120, name=name, db_files=files)
    lg = log("10:15", 110, 150, name=name, files=(r"E:\bk\log.trn",))
    target = RecoveryTarget.at(when("12:00")) if tail else RecoveryTarget.latest()
    return plan_restore(history(f, lg), name, target, PlanOptions(tail="auto" if tail else "never"))


# -- 1. MOVE onto the source's files through --data-dir ----------------------------------------
@pytest.mark.parametrize(("data_dir", "log_dir"), [
    ("E:\\Data", "L:\\x"), ("e:\\data\\", "L:\\x"), ("D:\\x", "F:\\Logs"), ("E:/Data", None)])
def test_data_dir_on_the_source_directory_is_move_onto_source(data_dir, log_dir):
    with pytest.raises(UsageError) as info:
        render_tsql(_plan(), ScriptOptions(target_name="HRcopy", data_dir=data_dir, log_dir=log_dir))
    assert info.value.code == "MOVE_ONTO_SOURCE"
    sql = render_tsql(_plan(), ScriptOptions(target_name="HRcopy", data_dir=data_dir, log_dir=log_dir, replace=True))
    assert "-- warning: restoring under a new name with --replace" in sql
    # elsewhere: fine
    assert "warning" not in render_tsql(_plan(), ScriptOptions(target_name="HRcopy", data_dir="D:\\R"))


def test_a_file_moved_onto_another_files_source_path_is_refused():
    files = (DatabaseFile("main", r"E:\Data\payroll.mdf"), DatabaseFile("idx", r"G:\Idx\payroll.mdf"),
             DatabaseFile("log", r"F:\Logs\payroll_log.ldf", "L"))
    with pytest.raises(UsageError) as info:  # main -> G:\Idx\payroll.mdf, idx's own file
        render_tsql(_plan(files), ScriptOptions(target_name="HRcopy", data_dir="G:\\Idx", log_dir="L:\\x"))
    assert info.value.code == "MOVE_ONTO_SOURCE" and "G:\\Idx\\payroll.mdf" in info.value.message


def test_empty_data_dir_is_no_directory_and_bare_names_collide_like_paths():
    sql = render_tsql(_plan(), ScriptOptions(data_dir=""))
    assert "MOVE N'main' TO N'E:\\Data\\payroll.mdf'" in sql
    bare = (DatabaseFile("a", "x.ndf"), DatabaseFile("b", r"E:\x.ndf"), DatabaseFile("c", "X.ndf"),
            DatabaseFile("d", "x_2.ndf"))
    sql = render_tsql(_plan(bare))
    dests = re.findall(r"TO N'([^']*)'", sql)
    assert len({d.casefold() for d in dests}) == 4, dests


# -- 2. --target-name with path characters ---------------------------------------------------------
@pytest.mark.parametrize("target", ["..\\..\\Windows\\evil", "a:b/c?", "x*y|z<w>\"q", "dots..."])
def test_target_name_with_path_characters_stays_inside_a_file_name(target):
    files = (DatabaseFile("HR", r"E:\Data\HR.mdf"), DatabaseFile("HR_log", r"F:\Logs\HR_log.ldf", "L"))
    sql = render_tsql(_plan(files), ScriptOptions(target_name=target))
    dests = re.findall(r"MOVE N'[^']*' TO (N'(?:[^']|'')*'|@v\d+)", sql)
    assert len(dests) == 2
    for d in dests:
        path = d[2:-1].replace("''", "'") if d.startswith("N'") else ""
        assert path.startswith(("E:\\Data\\", "F:\\Logs\\")), path
        base = path.split("\\", 2)[2]
        assert not re.search(r'[<>:"/\\|?*]', base), base
    check_both(sql)


def test_target_name_longer_than_a_sysname_is_refused():
    # a DECLARE @v sysname would cut it to 128 characters: a restore into another name
    with pytest.raises(UsageError, match="128"):
        render_tsql(_plan(), ScriptOptions(target_name="$(" + "x" * 140, data_dir="D:\\R"))
    # SQL Server counts UTF-16 code units: 100 emoji are 100 characters but 200 units (robustness review)
    with pytest.raises(UsageError, match="UTF-16"):
        render_tsql(_plan(), ScriptOptions(target_name="O'" + "\U0001F600" * 100, data_dir="D:\\R"))
    render_tsql(_plan(), ScriptOptions(target_name="O'" + "\U0001F600" * 63, data_dir="D:\\R"))  # 128 units


# -- 3. case-only rename -----------------------------------------------------------------------------
def test_target_differing_only_by_case_is_an_in_place_restore():
    files = (DatabaseFile("HR", r"E:\Data\HR.mdf"), DatabaseFile("HR_log", r"F:\Logs\HR_log.ldf", "L"))
    sql = render_tsql(_plan(files, tail=True), ScriptOptions(target_name="hr"))
    assert "BACKUP LOG [HR] TO DISK = N'$(TailFile)' WITH NORECOVERY" in sql
    assert "MOVE N'HR' TO N'E:\\Data\\HR.mdf'" in sql and "warning: restoring under a new name" not in sql


# -- 4. STOPAT never later than asked -------------------------------------------------------------
@pytest.mark.parametrize(("ms", "written"), [
    (0, ""), (250, ".250"), (1, ".000"), (3, ".000"), (4, ".003"), (5, ".003"), (7, ".007"), (9, ".007"),
    (10, ".010"), (999, ".997"), (996, ".993")])
def test_stopat_is_floored_to_a_datetime_tick(ms, written):
    lit = datetime_literal_text(f"2026-01-05 10:10:00.{ms:03d}" if ms else "2026-01-05 10:10:00", sep="T")
    assert lit == f"2026-01-05T10:10:00{written}"
    if written:  # what SQL Server reads (nearest 1/300 s) is never after the asked time
        tick = round(int(written[1:]) * 300 / 1000)
        assert tick * 1000 / 300 <= ms


def test_stopat_and_after_in_scripts_never_round_later():
    f, lg = full("10:00", 100, 120), log("10:15", 110, 150)
    at = datetime(2026, 1, 5, 10, 10, 0, 999000)
    sql = render_tsql(plan_restore(history(f, lg), "db", RecoveryTarget.at(at), PlanOptions(tail="never")))
    assert "STOPAT = '2026-01-05T10:10:00.997'" in sql and ".999" not in sql.split("-- warning")[-1].split(":On")[1]
    marks = (LogMark("db", "M1", LSN(130), when("10:10")),)
    after = datetime(2026, 1, 5, 10, 5, 0, 5000)
    plan = plan_restore(history(f, lg, marks=marks), "db", RecoveryTarget.at_mark("M1", after), PlanOptions())
    assert "STOPATMARK = N'M1' AFTER '2026-01-05T10:05:00.003'" in render_tsql(plan)


def test_rds_stopat_never_rounds_later(sales_plan: Plan) -> None:
    steps = tuple(replace(s, stop=replace(s.stop, value=s.stop.value + ".999")) if s.stop else s for s in sales_plan.steps)
    plan = replace(sales_plan, steps=steps, target_time=None)
    sql = render_rds(plan, RdsOptions(target_name="Sales_restored"))
    assert "@stopat = N'2026-11-18 14:37:00.997'" in sql and "14:37:00.999'" not in sql


# -- 5. the copy's tail step says what it does ---------------------------------------------------
def test_copy_tail_step_header_says_copy_only():
    sql = render_tsql(_plan(tail=True), ScriptOptions(target_name="HRcopy", data_dir="D:\\R"))
    head = sql.split("\nBACKUP LOG", 1)[0].rsplit("-- Step 1:", 1)[1]
    assert "COPY_ONLY" in head and "WITH NORECOVERY" not in head
    sql = render_tsql(_plan(tail=True))
    assert "WITH NORECOVERY first" in sql.split("\nBACKUP LOG", 1)[0].rsplit("-- Step 1:", 1)[1]


def test_s3_virtual_host_credential_is_the_host_not_the_object():
    f = full("10:00", 100, 120, files=("s3://bucket.s3.us-east-1.amazonaws.com/db.bak",))
    sql = render_tsql(plan_restore(history(f), "db", RecoveryTarget.latest(), PlanOptions(tail="never")))
    assert "CREATE CREDENTIAL [s3://bucket.s3.us-east-1.amazonaws.com] WITH IDENTITY = 'S3 Access Key'" in sql


# -- 6. go-sqlcmd lexing ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["O'Brien", 'say "hi"', "a--b", "c/*d", "e*/f", "x]; DROP DATABASE y; --"])
def test_odd_source_names_keep_every_go_under_go_sqlcmd(name):
    plan = _plan((DatabaseFile("m", f"E:\\Data\\{name}.mdf"), DatabaseFile("l", r"F:\Logs\l.ldf", "L")), name, tail=True)
    for opts in (ScriptOptions(), ScriptOptions(target_name=name + '"2', data_dir="D:\\R")):
        sql = render_tsql(plan, opts)
        check_both(sql)
        assert "BACKUP LOG [" + name.replace("]", "]]") + "]" not in sql or not re.search(r"['\"]|--|/\*", name)


@pytest.mark.parametrize("path", ["D:\\undo\\", "D:\\it\\'s.bak", "D:\\a\\''b\\"])
def test_backslash_before_a_quote_survives_old_go_sqlcmd(path):
    plan = _plan(tail=True)
    sql = render_tsql(plan, ScriptOptions(standby=path, tail_file=path + '"'))
    check_both(sql)
    files = (DatabaseFile("m", "E:\\Data\\'m.mdf"), DatabaseFile("l", "F:\\Logs\\l\\", "L"))
    check_both(render_tsql(_plan(files), ScriptOptions(data_dir="D:\\R")))
    b = Batch()
    assert b.literal("C:\\x\\") == "@v1" and b.declarations == ["DECLARE @v1 nvarchar(4000) = N'C:\\x' + NCHAR(92);"]


# -- 7. hostile command-line options ------------------------------------------------------------------
FRAGMENTS = ["\n", "\r", "$(", "$(x)", "$", "(", ")", ":r ", ":!! ", "!!", "GO", "go 5", "]", "[", "'", '"',
             "--", "/*", "*/", ";", "x", " ", "\t", "\u2028", "\x85", "\\", "/", ":", "é", "DROP", "TargetDb",
             "..", "*"]
hostile = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=hostile, path=hostile, logical=hostile, mark=hostile, target=hostile, directory=hostile)
def test_hostile_history_values_lex_the_same_for_every_sqlcmd(name, path, logical, mark, target, directory):
    files = (DatabaseFile(logical, f"E:\\{path}\\{name}.mdf", "D"), DatabaseFile(logical + "L", f"F:\\{path}", "L"))
    f = full("10:00", 100, 120, name=name, files=(f"\\\\b\\{path}",), db_files=files, server_name=path,
             has_backup_checksums=True)
    lg = log("10:15", 110, 150, name=name, files=(f"https://a.blob.core.windows.net/{path}", f"s3://{path}"),
             media_family_count=2)
    h = history(f, lg, marks=(LogMark(name, "m" + mark, LSN(130), when("10:10")),))
    for t, tail in ((RecoveryTarget.at(when("12:00")), "auto"), (RecoveryTarget.at_mark("m" + mark, when("10:05")), "never")):
        plan = plan_restore(h, name, t, PlanOptions(tail=tail))
        for opts in (ScriptOptions(), ScriptOptions(target_name=target, data_dir=directory, log_dir=directory + "\\",
                                                    standby=directory, tail_file=directory, replace=True)):
            try:
                sql = render_tsql(plan, opts)
            except UsageError as exc:
                assert exc.code == "MOVE_ONTO_SOURCE" or "128" in exc.message
                continue
            check_both(sql)


@pytest.fixture(scope="module")
def cli_history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("cli")
    header = list(REQUIRED) + ["family_guid", "time_zone", "position"]
    fam, fu = "11111111-1111-4111-8111-111111111111", "aaaaaaaa-0000-4000-8000-00000000000a"
    rows = [["HR", fu, "D", "100", "120", "110", "0", "2026-01-05 09:59", "2026-01-05 10:00", r"X:\b\full.bak", fam, "0", "1"],
            ["HR", "aaaaaaaa-0000-4000-8000-00000000000b", "L", "110", "150", "110", "110", "2026-01-05 10:14",
             "2026-01-05 10:15", r"X:\b\log.trn", fam, "0", "1"]]
    hist = d / "h.csv"
    hist.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    bf = d / "bf.csv"
    bf.write_text("backup_set_uuid,logical_name,physical_name,file_type\n"
                  f"{fu},HR,E:\\Data\\HR.mdf,D\n{fu},HR_log,F:\\Logs\\HR_log.ldf,L\n", encoding="utf-8")
    return hist, bf


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(target=hostile, data_dir=hostile, log_dir=hostile, tail_file=hostile, standby=hostile, latest=st.booleans())
def test_hostile_command_line_options_never_reach_sqlcmd(cli_history, capsys, target, data_dir, log_dir, tail_file,
                                                        standby, latest):
    hist, bf = cli_history
    argv = ["script", "--history", str(hist), "--backup-files", str(bf), "--database", "HR",
            *(["--latest", "--tail", "never"] if latest else ["--at", "2026-01-05 12:00:00"]),
            f"--target-name={target}", f"--data-dir={data_dir}", f"--log-dir={log_dir}", f"--tail-file={tail_file}",
            f"--standby={standby}"]
    code = main(argv)
    out, _ = capsys.readouterr()
    assert code in (0, 2)
    if code == 0:
        check_both(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(target=hostile, kms=hostile, label=hostile)
def test_hostile_rds_values_never_reach_sqlcmd(sales_plan: Plan, target, kms, label):
    # the fixture is the same for every example: hypothesis may reuse it
    opts = RdsOptions(target_name="T" + target, kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/" + kms)
    plan = replace(sales_plan, database_name=label, warnings=(label,))
    try:
        sql = render_rds(plan, opts)
    except (UsageError, NotRecoverable):
        return
    check_rds_script(sql)


def check_rds_script(sql: str) -> None:
    """One batch, no sqlcmd command, no $(...) at all, under every lexer."""
    assert "$(" not in sql and "\r" not in sql
    for line in sql.split("\n"):
        assert not _COMMAND.match(line), line
    for escapes in (False, True):
        batches, found = go_sqlcmd_batches(sql, escapes)
        assert len(batches) == 1 and found == []
    for line in sql.split("\n"):  # every literal closes on its line (SSMS view)
        code = "" if line.lstrip().startswith("--") else re.sub(r"N?'(?:[^']|'')*'", "S", line)
        assert "'" not in code, line
    assert all(len(ln.splitlines() or [""]) == 1 for ln in sql.split("\n")), "a Unicode line break in the script"


def test_rds_refuses_a_kms_arn_with_a_trailing_newline(sales_plan: Plan) -> None:
    with pytest.raises(UsageError):
        render_rds(sales_plan, RdsOptions(target_name="S2", kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k\n"))
    with pytest.raises(UsageError):
        render_rds(sales_plan, RdsOptions(target_name="S2", instance_region="us-east-1\n"))
