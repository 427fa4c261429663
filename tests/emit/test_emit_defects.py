"""Confirmed defects of the T-SQL emitter and the file check, each pinned by a test.

1. input text in comments, :setvar and literals can never become a sqlcmd command or variable
2. --check-files with mirrored media names the mirror that is on disk
3. MOVE destinations never collide, and never land on the source's own files unasked
6. tape devices are TAPE =, the default tail file name is a valid Windows file name
7. STOPAT / AFTER are ISO 8601 (the same under every SET DATEFORMAT / SET LANGUAGE)
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.cli.main import main
from restoreplan.core.errors import UsageError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import DatabaseFile, LogMark, MediaFile
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.emit.tsql import ScriptOptions, iso_datetime, render_tsql, safe_file_name
from restoreplan.sources.columns import REQUIRED
from restoreplan.sources.load import check_files
from tests.builders import full, history, log, when, with_

OUR_VARS = {"TargetDb", "DataDir", "LogDir", "TailFile"}
# words the emitter itself writes outside literals, identifiers and comments
CODE_WORDS = {
    "RESTORE", "DATABASE", "LOG", "FROM", "DISK", "TAPE", "URL", "WITH", "FILE", "NORECOVERY", "MOVE", "TO",
    "REPLACE", "CHECKSUM", "STATS", "STOPAT", "STOPATMARK", "STOPBEFOREMARK", "AFTER", "RECOVERY", "STANDBY",
    "BACKUP", "COPY_ONLY", "FORMAT", "INIT", "DECLARE", "nvarchar", "sysname", "NCHAR", "N", "GO",
}
_OSQL_COMMANDS = re.compile(r"(?i)(go|ed|reset|quit|exit|!!)(\s|$|\()|!!")


def check_sqlcmd_script(sql: str) -> None:
    """What sqlcmd sees: only our commands, our GOs and our variables; every literal closes on its line."""
    assert "\r" not in sql
    setvars: set[str] = set()
    statements = gos = 0
    for line in sql.split("\n"):
        stripped = line.lstrip(" \t")
        if stripped.startswith(":"):
            m = re.fullmatch(r':setvar (\w+) "([^"$]*)"', stripped)
            assert stripped == ":On Error exit" or (m and m.group(1) in OUR_VARS), f"sqlcmd command: {line!r}"
            if m:
                setvars.add(m.group(1))
            continue
        if _OSQL_COMMANDS.match(stripped):
            assert stripped == "GO", f"sqlcmd command: {line!r}"
            gos += 1
            continue
        if stripped.startswith(("RESTORE ", "BACKUP ")):
            statements += 1
        code = _code_outside_quotes(line)
        words = set(re.findall(r"[A-Za-z_]\w*", re.sub(r"@v\d+", "", code)))
        assert words <= CODE_WORDS, f"{words - CODE_WORDS} outside quotes in {line!r}"
    assert gos == statements, "one GO after every statement, no other"
    for var in re.findall(r"\$\(([^)]*)\)", sql):
        assert var in OUR_VARS and var in setvars, var
    assert sql.count("$(") == len(re.findall(r"\$\((?:TargetDb|DataDir|LogDir|TailFile)\)", sql))


def _code_outside_quotes(line: str) -> str:
    """The line without its '...' literals, [...] identifiers and -- comment; they must close on the line."""
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if line.startswith("--", i):
            break
        assert not line.startswith("/*", i), f"block comment in {line!r}"
        if c in "'[":
            close = "'" if c == "'" else "]"
            j = i + 1
            while True:
                j = line.find(close, j)
                assert j >= 0, f"literal or identifier left open in {line!r}"
                if line.startswith(close * 2, j):
                    j += 2
                    continue
                break
            out.append(" ")
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


# -- 1. sqlcmd injection ------------------------------------------------------------------------
LK_NL = "Pay\n:!! echo PWNED\nGO\nDROP DATABASE master;\n-- "


def test_lineage_key_with_a_newline_stays_in_the_comment():
    # blank family_guid and database_guid: the lineage key holds the database name
    f = full("10:00", 100, 120, name=LK_NL, family_guid=None, database_guid=None)
    lg = log("10:15", 110, 150, name=LK_NL, family_guid=None, database_guid=None)
    plan = plan_restore(history(f, lg), LK_NL, RecoveryTarget.latest(), PlanOptions(tail="never"))
    assert plan.family_guid is None and "\n" in plan.lineage_key
    sql = render_tsql(plan)
    check_sqlcmd_script(sql)
    assert ":!! echo PWNED" not in [ln.strip() for ln in sql.splitlines()]
    evil = "a$(evil)"
    f2 = full("10:00", 100, 120, name=evil, family_guid=None, database_guid=None, server_name="S$(x)")
    sql = render_tsql(plan_restore(history(f2), evil, RecoveryTarget.latest(), PlanOptions(tail="never")))
    check_sqlcmd_script(sql)
    assert "$(evil)" not in sql and "$(x)" not in sql


FRAGMENTS = ["\n", "\r\n", "\r", "$(", "$(x)", "$", "(", ")", ":r ", ":!! ", "!!", "GO", "go 5", "]", "[", "'",
             '"', "--", "/*", "*/", ";", "x", " ", "\t", "\u2028", "\x85", "\x00", "N'", "exit", ":setvar",
             "\\", "/", "é", "DROP", "TargetDb"]
hostile = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=hostile, path=hostile, logical=hostile, mark=hostile, target=hostile, directory=hostile,
       uuid=hostile, blank_guids=st.booleans(), tail=st.booleans())
def test_hostile_text_never_reaches_sqlcmd(name, path, logical, mark, target, directory, uuid, blank_guids, tail):
    guids = {"family_guid": None, "database_guid": None} if blank_guids else {}
    files = (DatabaseFile(logical, f"E:\\{path}\\{name}.mdf", "D"), DatabaseFile(logical + "L", f"F:\\{path}.ldf", "L"),
             DatabaseFile(logical + "2", f"G:\\{path}\\{name}.mdf", "D"))
    f = full("10:00", 100, 120, name=name, files=(f"\\\\b\\{path}\\full.bak",), db_files=files, server_name=path,
             uuid=uuid, has_backup_checksums=True, **guids)
    lg = log("10:15", 110, 150, name=name, files=(f"/b/{path}/log.trn", f"https://a.blob.core.windows.net/{path}/l2"),
             media_family_count=2, **guids)
    mark = "m" + mark
    marks = (LogMark(name, mark, LSN(130), when("10:10")),)
    h = history(f, lg, marks=marks)
    targets = [RecoveryTarget.at(when("10:10")), RecoveryTarget.at_mark(mark, when("10:05"), before=True)]
    if tail:
        targets.append(RecoveryTarget.at(when("12:00")))
    for t in targets:
        plan = plan_restore(h, name, t, PlanOptions(tail="auto" if tail else "never"))
        for opts in (ScriptOptions(), ScriptOptions(replace=True, target_name=target, standby=directory,
                                                    tail_file=directory + "t.trn"),
                     ScriptOptions(target_name=target, data_dir=directory, log_dir=directory + "\\",
                                   no_recovery=True)):
            try:
                sql = render_tsql(plan, opts)
            except UsageError as exc:  # a file left on the source's path under a new name
                assert exc.code == "MOVE_ONTO_SOURCE"
                continue
            check_sqlcmd_script(sql)


# -- 2. mirrored media with --check-files -------------------------------------------------------
def test_check_files_keeps_the_present_mirror_of_each_family():
    f = with_(full("10:00", 100, 120), files=(MediaFile("/m0/f1.bak", 1, 0), MediaFile("/m1/f1.bak", 1, 1),
                                               MediaFile("/m0/f2.bak", 2, 0), MediaFile("/m1/f2.bak", 2, 1)),
              media_family_count=2, mirror_count=2)
    present = {"/m1/f1.bak", "/m0/f2.bak", "/m1/f2.bak"}
    sets, unavailable = check_files([f], present.__contains__)
    assert unavailable == {}
    assert sets[0].devices() == ("/m1/f1.bak", "/m0/f2.bak")  # mirrors are interchangeable per family
    sql = render_tsql(plan_restore(history(*sets), "db", RecoveryTarget.latest(), PlanOptions(tail="never")))
    assert "DISK = N'/m1/f1.bak',\n     DISK = N'/m0/f2.bak'" in sql and "/m0/f1.bak" not in sql
    sets, unavailable = check_files([f], {"/m1/f1.bak"}.__contains__)  # family 2 has no mirror left
    assert "/m0/f2.bak" in unavailable[f.backup_set_uuid] and sets[0] is f


def test_check_files_cli_script_and_json_name_the_file_on_disk(tmp_path: Path, capsys):
    header = list(REQUIRED) + ["family_guid", "time_zone", "position", "family_sequence_number", "mirror",
                               "media_family_count", "mirror_count"]
    fam = "11111111-1111-4111-8111-111111111111"
    m0, m1, lg = tmp_path / "full_m0.bak", tmp_path / "full_m1.bak", tmp_path / "log.trn"
    fu = "aaaaaaaa-0000-4000-8000-00000000000a"
    rows = [
        ["db", fu, "D", "100", "120", "110", "0", "2026-01-05 09:59", "2026-01-05 10:00", str(m0), fam, "0", "1", "1", "0", "1", "2"],
        ["db", fu, "D", "100", "120", "110", "0", "2026-01-05 09:59", "2026-01-05 10:00", str(m1), fam, "0", "1", "1", "1", "1", "2"],
        ["db", "aaaaaaaa-0000-4000-8000-00000000000b", "L", "110", "150", "110", "110", "2026-01-05 10:14",
         "2026-01-05 10:15", str(lg), fam, "0", "1", "1", "0", "1", "1"],
    ]
    hist = tmp_path / "h.csv"
    hist.write_text("\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n", encoding="utf-8")
    m1.write_bytes(b"x")
    lg.write_bytes(b"x")
    assert main(["script", "--history", str(hist), "--latest", "--tail", "never", "--check-files"]) == 0
    out, _ = capsys.readouterr()
    assert f"DISK = N'{m1}'" in out and str(m0) not in out
    assert main(["plan", "--history", str(hist), "--latest", "--tail", "never", "--check-files", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr()[0])
    assert doc["steps"][0]["files"] == [str(m1)]


# -- 3. MOVE collisions and the source's own paths -----------------------------------------------
def _files_plan(files):
    f = full("10:00", 100, 120, name="HR", db_files=files)
    return plan_restore(history(f), "HR", RecoveryTarget.latest(), PlanOptions(tail="never"))


SAME_BASENAME = (DatabaseFile("main", r"E:\Data\payroll.mdf"), DatabaseFile("idx1", r"G:\d1\data.ndf"),
                 DatabaseFile("idx2", r"H:\d2\DATA.ndf"), DatabaseFile("log", r"F:\Logs\payroll_log.ldf", "L"))


def test_same_file_name_from_two_drives_gets_a_unique_destination():
    sql = render_tsql(_files_plan(SAME_BASENAME), ScriptOptions(target_name="HRcopy", data_dir="D:\\R\\"))
    assert "MOVE N'idx1' TO N'$(DataDir)\\data.ndf'" in sql
    assert "MOVE N'idx2' TO N'$(DataDir)\\DATA_2.ndf'" in sql  # Windows names are case-insensitive
    assert "-- MOVE idx2 renamed to DATA_2.ndf: its name is already the destination of idx1 in D:\\R" in sql
    assert "-- warning: MOVE idx2 renamed to DATA_2.ndf" in sql
    assert ':setvar DataDir "D:\\R"' in sql and "\\\\" not in sql  # trailing backslash not doubled
    check_sqlcmd_script(sql)
    # a third file and an existing _2 name: the suffix keeps counting, in file order
    more = SAME_BASENAME + (DatabaseFile("idx3", r"I:\data.ndf"), DatabaseFile("idx4", r"J:\data_2.ndf"))
    sql = render_tsql(_files_plan(more), ScriptOptions(data_dir="D:\\R"))
    dests = re.findall(r"TO N'\$\(DataDir\)\\([^']*)'", sql)
    assert dests == ["payroll.mdf", "data.ndf", "DATA_2.ndf", "payroll_log.ldf", "data_3.ndf", "data_2_2.ndf"]


def test_trailing_separator_of_data_dir_is_not_doubled_without_setvar():
    files = (DatabaseFile("main", r"E:\Data\HR.mdf"), DatabaseFile("log", r"F:\HR_log.ldf", "L"))
    sql = render_tsql(_files_plan(files), ScriptOptions(data_dir="D:\\R$(x)\\", log_dir="/var/opt/logs/"))
    assert "N'D:\\R$' + N'(x)\\HR.mdf'" in sql and "\\\\" not in sql
    assert "MOVE N'log' TO N'$(LogDir)/HR_log.ldf'" in sql and ':setvar LogDir "/var/opt/logs"' in sql


def test_new_name_onto_the_source_files_is_refused_without_replace():
    with pytest.raises(UsageError) as info:
        render_tsql(_files_plan(SAME_BASENAME), ScriptOptions(target_name="HRcopy"))
    assert info.value.code == "MOVE_ONTO_SOURCE" and info.value.exit_code == 2
    assert "main (E:\\Data\\payroll.mdf)" in info.value.message and "--data-dir" in info.value.hint
    sql = render_tsql(_files_plan(SAME_BASENAME), ScriptOptions(target_name="HRcopy", replace=True))
    assert "-- warning: restoring under a new name with --replace, these MOVE targets are the source" in sql
    # names that contain the source name are renamed: nothing to refuse
    ok = (DatabaseFile("HR", r"E:\Data\HR.mdf"), DatabaseFile("HR_log", r"F:\Logs\HR_log.ldf", "L"))
    sql = render_tsql(_files_plan(ok), ScriptOptions(target_name="HRcopy"))
    assert "MOVE N'HR' TO N'E:\\Data\\HRcopy.mdf'" in sql and "warning" not in sql
    assert render_tsql(_files_plan(SAME_BASENAME))  # the same name: an in-place restore, as before


def test_move_onto_source_exits_2_from_the_cli(tmp_path: Path, capsys):
    header = list(REQUIRED) + ["family_guid", "time_zone", "position"]
    fam, fu = "11111111-1111-4111-8111-111111111111", "aaaaaaaa-0000-4000-8000-00000000000a"
    hist = tmp_path / "h.csv"
    hist.write_text(",".join(header) + "\n" + ",".join(
        ["HR", fu, "D", "100", "120", "110", "0", "2026-01-05 09:59", "2026-01-05 10:00", r"X:\b\full.bak", fam, "0", "1"])
        + "\n", encoding="utf-8")
    bf = tmp_path / "bf.csv"
    bf.write_text("backup_set_uuid,logical_name,physical_name,file_type\n"
                  f"{fu},main,E:\\Data\\payroll.mdf,D\n{fu},log,F:\\Logs\\payroll_log.ldf,L\n", encoding="utf-8")
    code = main(["script", "--history", str(hist), "--backup-files", str(bf), "--latest", "--tail", "never",
                 "--target-name", "HRcopy"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "source database's own paths" in err and "payroll.mdf" in err


# -- 6. tape devices, the tail file name ----------------------------------------------------------
def test_tape_devices_are_tape():
    for device_type, path in ((5, r"\\.\Tape0"), (105, r"\\.\TAPE1")):
        f = with_(full("10:00", 100, 120), files=(MediaFile(path, 1, 0, device_type),))
        sql = render_tsql(plan_restore(history(f), "db", RecoveryTarget.latest(), PlanOptions(tail="never")))
        assert f"FROM TAPE = N'{path}'" in sql and "DISK =" not in sql
    # 105 is a permanent backup device: on disk unless its path is a tape drive
    f = with_(full("10:00", 100, 120), files=(MediaFile(r"E:\dev\db.bak", 1, 0, 105),))
    assert "FROM DISK = N'E:\\dev\\db.bak'" in render_tsql(
        plan_restore(history(f), "db", RecoveryTarget.latest(), PlanOptions(tail="never")))


@pytest.mark.parametrize("name", ["a:b", "x\\y/z", "q*?\"<>|", "ctl\x01", "dot."])
def test_default_tail_file_name_is_a_windows_file_name(name):
    h = history(full("10:00", 100, 120, name=name), log("10:15", 110, 150, name=name, files=(r"E:\bk\log.trn",)))
    plan = plan_restore(h, name, RecoveryTarget.at(when("12:00")), PlanOptions())
    sql = render_tsql(plan)
    m = re.search(r"BACKUP LOG .* TO DISK = (N'[^']*'|@v\d+)", sql)
    assert m is not None
    tail = re.search(r':setvar TailFile "([^"]*)"', sql)
    assert tail is not None
    directory, _, file_name = tail.group(1).rpartition("\\")
    assert directory == "E:\\bk" and file_name.endswith("_tail.trn")
    assert not re.search(r'[\x00-\x1f<>:"/\\|?*]', file_name)
    assert safe_file_name("HR_tail.trn") == "HR_tail.trn"


def test_tail_file_is_not_put_next_to_a_tape():
    h = history(full("10:00", 100, 120), log("10:15", 110, 150, files=(r"\\.\Tape0",), media_family_count=1))
    lg = h.all_sets()[-1]
    h = history(h.all_sets()[0], with_(lg, files=(MediaFile(r"\\.\Tape0", 1, 0, 5),)))
    sql = render_tsql(plan_restore(h, "db", RecoveryTarget.at(when("12:00")), PlanOptions()))
    assert ':setvar TailFile "db_tail.trn"' in sql


# -- 7. ISO 8601 times ----------------------------------------------------------------------------
def test_stopat_and_after_are_iso_8601():
    f = full("10:00", 100, 120)
    lg = log("10:15", 110, 150)
    at = datetime(2026, 1, 5, 10, 10, 0, 250000)
    sql = render_tsql(plan_restore(history(f, lg), "db", RecoveryTarget.at(at), PlanOptions(tail="never")))
    assert "STOPAT = '2026-01-05T10:10:00.250'" in sql and "N'2026-01-05 10:10" not in sql
    marks = (LogMark("db", "M1", LSN(130), when("10:10")),)
    plan = plan_restore(history(f, lg, marks=marks), "db", RecoveryTarget.at_mark("M1", when("10:05")), PlanOptions())
    sql = render_tsql(plan)
    assert "STOPATMARK = N'M1' AFTER '2026-01-05T10:05:00'" in sql
    assert iso_datetime("2026-11-19 09:20:00") == "2026-11-19T09:20:00"
    assert iso_datetime("not a time") is None
