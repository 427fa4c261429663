"""The T-SQL emitter: runnable sqlcmd scripts, and no way for a name or path to escape its quoting."""

from __future__ import annotations

import re

import pytest

from restoreplan.core.model import DatabaseFile, MediaFile
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.emit.quoting import Batch, quote_identifier, split_expression
from restoreplan.emit.tsql import ScriptOptions, render_tsql
from tests.builders import diff, full, history, log, when, with_

EVIL = [
    "x]; DROP DATABASE y; --",
    "O'Brien",
    "a$(evil)b",
    'q"uote',
    "new\nline",
    "tab\tname ",
    "emoji 🚀",
    "$(TargetDb)",
    "]]]",
]


def _plan(name: str = "db", files=None, **kw):
    f = full("10:00", 100, 120, name=name, has_backup_checksums=True,
             db_files=files or (DatabaseFile("db_data", r"E:\Data\db.mdf", "D"), DatabaseFile("db_log", r"F:\Log\db_log.ldf", "L")))
    d = diff("11:00", 200, 220, f, name=name)
    l0 = log("10:30", 110, 210, name=name, size=500)
    l1 = log("11:15", 210, 250, name=name)
    h = history(f, d, l0, l1)
    return plan_restore(h, name, RecoveryTarget.at(when("11:10")), PlanOptions(tail=kw.pop("tail", "never")))


def _strip_quoted(sql: str) -> str:
    body = "\n".join(line for line in sql.splitlines() if not line.startswith(("--", ":")))
    body = re.sub(r"'(?:[^']|'')*'", "''", body)
    return re.sub(r"\[(?:[^\]]|\]\])*\]", "[]", body)


def _sql_strings_and_identifiers_balanced(sql: str) -> None:
    """Every N'...' literal and [...] identifier closes on the same statement (no break-out)."""
    body = "\n".join(line for line in sql.splitlines() if not line.startswith(("--", ":")))
    i = 0
    while i < len(body):
        c = body[i]
        if c == "'":
            j = i + 1
            while True:
                j = body.index("'", j)
                if j + 1 < len(body) and body[j + 1] == "'":
                    j += 2
                    continue
                break
            i = j + 1
            continue
        if c == "[":
            j = i + 1
            while True:
                j = body.index("]", j)
                if j + 1 < len(body) and body[j + 1] == "]":
                    j += 2
                    continue
                break
            i = j + 1
            continue
        assert c not in "]", f"unbalanced identifier near {body[max(0, i - 30):i + 30]!r}"
        i += 1


def test_script_shape():
    sql = render_tsql(_plan())
    assert sql.splitlines()[0].startswith("-- restoreplan")
    assert ":On Error exit" in sql
    assert ':setvar TargetDb "db"' in sql
    assert sql.count("GO") == 4  # full, diff, log, recovery: one statement per batch
    assert "RESTORE DATABASE [$(TargetDb)] FROM DISK = N'/backups/db/" in sql
    assert "WITH FILE = 1" in sql and "NORECOVERY" in sql and "CHECKSUM" in sql
    assert "STOPAT = '2026-01-05T11:10:00'" in sql  # ISO 8601: the same under every SET DATEFORMAT
    assert sql.rstrip().endswith("RESTORE DATABASE [$(TargetDb)] WITH RECOVERY;\nGO")
    assert "MOVE N'db_data' TO N'E:\\Data\\db.mdf'" in sql


def test_relocation_and_rename():
    sql = render_tsql(_plan(), ScriptOptions(target_name="db_copy", data_dir=r"D:\Restore", log_dir=r"L:\Logs", replace=True))
    assert ':setvar TargetDb "db_copy"' in sql
    assert ':setvar DataDir "D:\\Restore"' in sql
    assert "MOVE N'db_data' TO N'$(DataDir)\\db_copy.mdf'" in sql
    assert "MOVE N'db_log' TO N'$(LogDir)\\db_copy_log.ldf'" in sql
    assert "REPLACE" in sql


def test_standby_and_no_recovery():
    assert "WITH STANDBY = N'U:\\undo.bak'" in render_tsql(_plan(), ScriptOptions(standby=r"U:\undo.bak"))
    sql = render_tsql(_plan(), ScriptOptions(no_recovery=True))
    assert not [ln for ln in sql.splitlines() if "WITH RECOVERY" in ln and not ln.startswith("--")]


def test_url_devices_name_the_credential():
    f = with_(full("10:00", 100, 120), files=(MediaFile("https://acct.blob.core.windows.net/c/db_1.bak", 1),
                                               MediaFile("https://acct.blob.core.windows.net/c/db_2.bak", 2)),
              media_family_count=2)
    p = plan_restore(history(f), "db", RecoveryTarget.at(when("10:00")), PlanOptions(tail="never"))
    sql = render_tsql(p)
    assert "URL = N'https://acct.blob.core.windows.net/c/db_1.bak',\n     URL = N'https://acct.blob.core.windows.net/c/db_2.bak'" in sql
    assert "CREATE CREDENTIAL [https://acct.blob.core.windows.net/c]" in sql
    s3 = with_(f, files=(MediaFile("s3://minio.local:9000/bucket/db.bak", 1),), media_family_count=1)
    sql = render_tsql(plan_restore(history(s3), "db", RecoveryTarget.at(when("10:00")), PlanOptions(tail="never")))
    assert "URL = N's3://minio.local:9000/bucket/db.bak'" in sql and "S3 Access Key" in sql


def test_tail_log_script():
    sql = render_tsql(_plan(tail="auto").__class__ and plan_restore(
        history(full("10:00", 100, 120), log("10:15", 110, 150)), "db", RecoveryTarget.at(when("12:00")), PlanOptions()))
    assert "BACKUP LOG [db] TO DISK = N'$(TailFile)' WITH NORECOVERY" in sql
    assert "RESTORE LOG [$(TargetDb)] FROM DISK = N'$(TailFile)' WITH NORECOVERY, STOPAT = '2026-01-05T12:00:00'" in sql
    assert "NO_TRUNCATE" in sql


@pytest.mark.parametrize(("name", "copy"), [("db_copy", True), ("DB", False)])
def test_tail_for_a_copy_leaves_the_source_online(name, copy):
    """A copy under another name must not take the source offline (NORECOVERY) or cut a regular
    log backup out of its chain: its tail is COPY_ONLY. Over itself (names compare
    case-insensitively), NORECOVERY as before."""
    plan = plan_restore(history(full("10:00", 100, 120), log("10:15", 110, 150)), "db",
                        RecoveryTarget.at(when("12:00")), PlanOptions())
    sql = render_tsql(plan, ScriptOptions(target_name=name, data_dir="D:\\R", replace=True))
    backup = next(line for line in sql.splitlines() if line.startswith("BACKUP LOG"))
    assert ("COPY_ONLY" in backup and "NORECOVERY" not in backup) is copy
    assert ("NORECOVERY" in backup) is not copy
    assert "RESTORE LOG [$(TargetDb)] FROM DISK = N'$(TailFile)' WITH NORECOVERY" in sql


@pytest.mark.parametrize("evil", EVIL)
def test_hostile_names_and_paths_stay_names(evil):
    files = (DatabaseFile(evil, f"E:\\{evil}\\{evil}.mdf", "D"), DatabaseFile(evil + "_log", f"F:\\{evil}.ldf", "L"))
    f = full("10:00", 100, 120, name=evil, files=(f"/b/{evil}/full.bak",), db_files=files)
    l1 = log("10:15", 110, 150, name=evil, files=(f"/b/{evil}/log.trn",))
    p = plan_restore(history(f, l1), evil, RecoveryTarget.at(when("10:10")), PlanOptions(tail="never"))
    for opts in (ScriptOptions(), ScriptOptions(target_name=evil + "2", data_dir=f"D:\\{evil}", log_dir=evil, standby=evil)):
        sql = render_tsql(p, opts)
        code = [ln for ln in sql.splitlines() if not ln.startswith("--")]
        # sqlcmd substitutes $(x) anywhere: only our own variables may appear
        for line in code:
            for var in re.findall(r"\$\(([^)]*)\)", line):
                assert var in ("TargetDb", "DataDir", "LogDir", "TailFile"), line
        # a raw control character never reaches a statement line
        assert all("\t" not in ln and "\r" not in ln for ln in code)
        _sql_strings_and_identifiers_balanced(sql)
        # outside literals and identifiers nothing of the name is left to execute
        assert "DROP" not in _strip_quoted(sql)


def test_quote_helpers():
    assert quote_identifier("a]b") == "[a]]b]"
    assert split_expression("a$(b)'c") == "N'a$' + N'(b)''c'"
    b = Batch()
    assert b.literal("it's") == "N'it''s'"
    assert b.literal("x$(y)") == "@v1" and b.declarations == ["DECLARE @v1 nvarchar(4000) = N'x$' + N'(y)';"]
    assert b.identifier("a$(b)") == "@v2"
