"""The RDS script emitter: golden scripts, parsed EXEC calls, and every refusal."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import sqlglot
from sqlglot import expressions as exp

from restoreplan.cli.main import main
from restoreplan.core.errors import NotRecoverable, UsageError
from restoreplan.core.model import MediaFile
from restoreplan.core.plan import Plan
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.emit.rds import RdsOptions, parse_s3_name, render_rds

from .conftest import GOLDEN, s3_plan

OPTS = RdsOptions(target_name="Sales_restored")


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# -- EXEC parsing: sqlglot, and a strict tokenizer as a second opinion -------------------------
_EXEC = re.compile(r"^exec (msdb\.dbo\.rds_\w+)\n((?:    .*\n)*?    .*;)$", re.MULTILINE)


def exec_statements(sql: str) -> list[str]:
    return [m.group(0) for m in _EXEC.finditer(sql)]


def sqlglot_calls(sql: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for stmt in exec_statements(sql):
        tree = sqlglot.parse_one(stmt, read="tsql")
        assert isinstance(tree, exp.Execute), stmt
        params: dict[str, object] = {}
        for eq in tree.expressions:
            assert isinstance(eq, exp.EQ)
            name = eq.this.this.name if isinstance(eq.this, exp.Parameter) else eq.this.sql()
            val = eq.expression
            if isinstance(val, exp.National):
                params[name] = ("N", val.this)
            elif isinstance(val, exp.Literal) and val.is_string:
                params[name] = ("", val.this)
            elif isinstance(val, exp.Literal):
                params[name] = int(val.this)
            else:
                params[name] = ("var", val.sql())
            assert name not in ("",)
        out.append((tree.this.sql(dialect="tsql"), params))
    return out


_TOKEN = re.compile(r"\s*(?:(?P<param>@\w+)\s*=\s*(?:(?P<n>N)?'(?P<s>(?:[^']|'')*)'|(?P<i>\d+)|(?P<var>@\w+))\s*(?P<sep>[,;]))")


def tokenizer_calls(sql: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for stmt in exec_statements(sql):
        head, rest = stmt.split("\n", 1)
        proc = head.split(" ", 1)[1]
        params: dict[str, object] = {}
        pos = 0
        while pos < len(rest):
            m = _TOKEN.match(rest, pos)
            assert m, f"cannot tokenize {rest[pos:]!r}"
            name = m.group("param")[1:]
            if m.group("i") is not None:
                params[name] = int(m.group("i"))
            elif m.group("var") is not None:
                params[name] = ("var", m.group("var"))
            else:
                params[name] = ("N" if m.group("n") else "", m.group("s").replace("''", "'"))
            pos = m.end()
            if m.group("sep") == ";":
                break
        assert rest[pos:].strip() == ""
        out.append((proc, params))
    return out


def test_golden_point_in_time(sales_plan: Plan) -> None:
    sql = render_rds(sales_plan, OPTS)
    golden("sales_pitr.sql", sql)
    calls = sqlglot_calls(sql)
    assert calls == tokenizer_calls(sql)
    assert [c[0] for c in calls] == ["msdb.dbo.rds_restore_database"] + ["msdb.dbo.rds_restore_log"] * 12 + ["msdb.dbo.rds_finish_restore"]
    full = calls[0][1]
    assert full == {
        "restore_db_name": ("N", "Sales_restored"),
        "s3_arn_to_restore_from": ("N", "arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_COPY_ONLY_20261118_120000.bak"),
        "type": ("", "FULL"),
        "with_norecovery": 1,
    }
    for _, p in calls[1:-1]:
        assert p["with_norecovery"] == 1
        assert p["stopat"] == ("N", "2026-11-18 14:37:00")
        assert p["restore_db_name"] == ("N", "Sales_restored")
        assert str(p["s3_arn_to_restore_from"][1]).startswith("arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_")  # type: ignore[index]
    assert calls[-1][1] == {"db_name": ("N", "Sales_restored")}
    # one batch, polling after every call, progress and failure reporting
    assert "\nGO" not in sql
    assert sql.count("FROM msdb.dbo.rds_fn_task_status(NULL, @task_id)") == 14
    assert sql.count("WAITFOR DELAY @poll_delay") == 14
    assert "RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;" in sql
    assert "IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')" in sql
    assert "ISNULL(@task_info, N'(no task_info)')" in sql
    assert "IF DB_ID(N'Sales_restored') IS NOT NULL" in sql
    # the whole script parses as T-SQL statements where sqlglot can (EXEC, SELECT, SET, DECLARE)
    assert "$(" not in sql


def test_golden_striped_full_mirrored_diff_volumes_kms(sample_history) -> None:  # type: ignore[no-untyped-def]
    plan = s3_plan(plan_restore(sample_history, "Sales", RecoveryTarget.at(datetime(2026, 11, 17, 22, 50)),
                                PlanOptions(tail="never")))
    kms = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    sql = render_rds(plan, RdsOptions(target_name="Sales_copy", data_volume="h", log_volume="I:", kms_key_arn=kms,
                                      instance_region="us-east-1"))
    golden("sales_striped_diff.sql", sql)
    calls = sqlglot_calls(sql)
    assert calls == tokenizer_calls(sql)
    full, diff = calls[0][1], calls[1][1]
    assert full["s3_arn_to_restore_from"] == ("N", "arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_20261115_220000_*")
    assert full["data_file_volume"] == ("", "H:") and full["log_file_volume"] == ("", "I:")
    assert full["kms_master_key_arn"] == ("N", kms)
    assert diff["type"] == ("", "DIFFERENTIAL") and diff["with_norecovery"] == 1
    assert "data_file_volume" not in diff
    assert calls[-2][1]["stopat"] == ("N", "2026-11-17 22:50:00")


def test_latest_has_no_stopat_and_no_recovery_leaves_restoring(sample_history) -> None:  # type: ignore[no-untyped-def]
    plan = s3_plan(plan_restore(sample_history, "Sales", RecoveryTarget.latest(), PlanOptions(tail="never")))
    sql = render_rds(plan, RdsOptions(target_name="S2", no_recovery=True))
    calls = sqlglot_calls(sql)
    assert all("stopat" not in p for _, p in calls)
    assert calls[-1][0] == "msdb.dbo.rds_restore_log"
    assert "-- exec msdb.dbo.rds_finish_restore @db_name = N'S2';" in sql


def test_stopat_on_last_log_even_when_plan_has_none(sales_plan: Plan) -> None:
    steps = list(sales_plan.steps)
    steps[-2] = replace(steps[-2], stop=None)
    sql = render_rds(replace(sales_plan, steps=tuple(steps)), OPTS)
    assert tokenizer_calls(sql)[-2][1]["stopat"] == ("N", "2026-11-18 14:37:00")


def test_hostile_names_are_quoted(sales_plan: Plan) -> None:
    name = "Sales $(evil) ]x[ -- ;"
    sql = render_rds(sales_plan, RdsOptions(target_name=name))
    assert "$(" not in sql
    calls = tokenizer_calls(sql)
    var = calls[0][1]["restore_db_name"]
    assert var[0] == "var"  # type: ignore[index]
    decl = re.search(r"DECLARE @v1 sysname = (.*);", sql)
    assert decl and decl.group(1) == "N'Sales $' + N'(evil) ]x[ -- ;'"


def test_mirrored_set_uses_the_s3_mirror(sales_plan: Plan) -> None:
    full = sales_plan.steps[0].backup
    assert full is not None
    disk = MediaFile("D:\\backup\\full.bak", 1, 0, 2)
    s3 = MediaFile("s3://prod-backups/mirror/full.bak", 1, 1, 9)
    steps = (replace(sales_plan.steps[0], backup=replace(full, files=(disk, s3))),) + sales_plan.steps[1:]
    sql = render_rds(replace(sales_plan, steps=steps), OPTS)
    assert tokenizer_calls(sql)[0][1]["s3_arn_to_restore_from"] == ("N", "arn:aws:s3:::prod-backups/mirror/full.bak")


def test_same_name_as_source_is_allowed_with_runtime_guard(sales_plan: Plan) -> None:
    sql = render_rds(sales_plan, RdsOptions(target_name="SALES"))
    assert "IF DB_ID(N'SALES') IS NOT NULL" in sql
    assert "THROW 50002, @msg, 1;" in sql


@pytest.mark.parametrize("name,expected", [
    ("s3://b/k/x.bak", ("b", "k/x.bak", "arn:aws:s3:::b/k/x.bak", None)),
    ("arn:aws:s3:::b/k/x.bak", ("b", "k/x.bak", "arn:aws:s3:::b/k/x.bak", None)),
    ("s3://b.s3.eu-west-1.amazonaws.com/k.bak", ("b", "k.bak", "arn:aws:s3:::b/k.bak", "eu-west-1")),
    ("https://s3.us-west-2.amazonaws.com/b/k.bak", ("b", "k.bak", "arn:aws:s3:::b/k.bak", "us-west-2")),
    ("arn:aws:s3:us-east-2:123456789012:accesspoint/ap1/object/k/x.bak",
     ("ap1", "k/x.bak", "arn:aws:s3:us-east-2:123456789012:accesspoint/ap1/object/k/x.bak", "us-east-2")),
])
def test_parse_s3_names(name: str, expected: tuple[str, str, str, str | None]) -> None:
    ref = parse_s3_name(name)
    assert ref is not None
    assert (ref.bucket, ref.key, ref.arn, ref.region) == expected


@pytest.mark.parametrize("name", ["D:\\b\\x.bak", "\\\\srv\\share\\x.bak", "https://acct.blob.core.windows.net/c/x.bak", "s3://bucketonly"])
def test_parse_non_s3(name: str) -> None:
    assert parse_s3_name(name) is None


# -- refusals: render_rds ------------------------------------------------------------------------
def _with_files(plan: Plan, files: tuple[MediaFile, ...], **changes: object) -> Plan:
    full = plan.steps[0].backup
    assert full is not None
    steps = (replace(plan.steps[0], backup=full.evolve(files=files, **changes)),) + plan.steps[1:]  # type: ignore[arg-type]
    return replace(plan, steps=steps)


def _refusal(plan: Plan, opts: RdsOptions, kind: type[Exception], text: str) -> None:
    with pytest.raises(kind) as info:
        render_rds(plan, opts)
    assert text in str(info.value)


def test_refuses_more_than_ten_files(sales_plan: Plan) -> None:
    files = tuple(MediaFile(f"s3://prod-backups/big/full{i}-of-11.bak", i, 0) for i in range(1, 12))
    _refusal(_with_files(sales_plan, files), OPTS, NotRecoverable, "has 11 files: RDS restores at most 10")


def test_ten_files_is_fine(sales_plan: Plan) -> None:
    files = tuple(MediaFile(f"s3://prod-backups/big/full{i}-of-10.bak", i, 0) for i in range(1, 11))
    sql = render_rds(_with_files(sales_plan, files), OPTS)
    assert tokenizer_calls(sql)[0][1]["s3_arn_to_restore_from"] == ("N", "arn:aws:s3:::prod-backups/big/full*")


def test_refuses_position_above_one(sales_plan: Plan) -> None:
    full = sales_plan.steps[0].backup
    assert full is not None
    _refusal(_with_files(sales_plan, full.files, position=2), OPTS, NotRecoverable, "position 2")


def test_refuses_shared_prefix(sales_plan: Plan) -> None:
    files = (MediaFile("s3://prod-backups/x/full1-of-2.bak", 1), MediaFile("s3://prod-backups/x/full2-of-2.bak", 2))
    plan = _with_files(sales_plan, files)
    opts = replace(OPTS, known_objects=("arn:aws:s3:::prod-backups/x/full1-of-2.bak.old",))
    _refusal(plan, opts, NotRecoverable, "would also match 1 other object")
    other_bucket = replace(OPTS, known_objects=("s3://other/x/full3.bak",))
    assert "full*" in render_rds(plan, other_bucket)


def test_refuses_split_buckets(sales_plan: Plan) -> None:
    files = (MediaFile("s3://a/x/f1.bak", 1), MediaFile("s3://b/x/f2.bak", 2))
    _refusal(_with_files(sales_plan, files), OPTS, NotRecoverable, "several buckets")


def test_refuses_non_s3(sales_plan: Plan) -> None:
    _refusal(_with_files(sales_plan, (MediaFile("D:\\backup\\full.bak"),)), OPTS, NotRecoverable,
             "RDS restores only from Amazon S3 objects")


def test_refuses_other_region(sales_plan: Plan) -> None:
    plan = _with_files(sales_plan, (MediaFile("s3://prod-backups.s3.eu-west-1.amazonaws.com/Sales/full.bak"),))
    _refusal(plan, replace(OPTS, instance_region="us-east-1"), NotRecoverable, "region eu-west-1")
    assert render_rds(plan, replace(OPTS, instance_region="eu-west-1"))


def test_refuses_natively_encrypted_even_with_kms(sales_plan: Plan) -> None:
    # SQL Server backup encryption (a certificate) is not RDS's KMS encryption: refused, key or not
    full = sales_plan.steps[0].backup
    assert full is not None
    plan = _with_files(sales_plan, full.files, encryptor_thumbprint="0xABCD", key_algorithm="aes_256",
                       encryptor_type="CERTIFICATE")
    _refusal(plan, OPTS, NotRecoverable, "SQL Server backup encryption")
    kms = "arn:aws:kms:us-east-1:123456789012:key/k1"
    _refusal(plan, replace(OPTS, kms_key_arn=kms), NotRecoverable, "SQL Server backup encryption")
    # --kms-key-arn (objects encrypted by rds_backup_database, invisible in msdb) goes on every call
    calls = tokenizer_calls(render_rds(sales_plan, replace(OPTS, kms_key_arn=kms)))
    assert all(c[1]["kms_master_key_arn"] == ("N", kms) for c in calls[:-1])


def test_refuses_kms_in_other_region(sales_plan: Plan) -> None:
    _refusal(sales_plan, replace(OPTS, kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/k", instance_region="us-east-1"),
             UsageError, "the KMS key is in eu-west-1")
    _refusal(sales_plan, replace(OPTS, kms_key_arn="not-an-arn"), UsageError, "not a KMS key ARN")


@pytest.mark.parametrize("name,why", [
    ("rdsadminX", "starts with 'rdsadmin'"),
    (" Sales", "starts or ends with a space or tab"),
    ("Sales\t", "starts or ends with a space or tab"),
    ("Sa\nles", "contains a newline"),
    ("Sa\rles", "contains a newline"),  # a carriage return too (mutation review)
    ("O'Brien", "contains a single quote"),
    ("\U0001F600" * 65, "longer than 128 UTF-16 code units"),  # 65 characters, 130 units
])
def test_refuses_forbidden_names(sales_plan: Plan, name: str, why: str) -> None:
    _refusal(sales_plan, RdsOptions(target_name=name), UsageError, why)


def test_refuses_missing_target_name(sales_plan: Plan) -> None:
    _refusal(sales_plan, RdsOptions(), UsageError, "--target-name is required")


def test_refuses_bad_volume(sales_plan: Plan) -> None:
    _refusal(sales_plan, replace(OPTS, data_volume="E:"), UsageError, "not an RDS volume")


# -- refusals through the CLI: exit code and the one line ---------------------------------------
def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


BASE = ["script", "--dialect", "rds", "--database", "Sales"]


def test_cli_happy_path(s3_history_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(BASE + ["--history", str(s3_history_csv), "--at", "2026-11-17 22:50:00",
                                     "--tail", "never", "--target-name", "Sales_copy"], capsys)
    assert code == 0, err
    calls = tokenizer_calls(out)
    assert calls[0][1]["s3_arn_to_restore_from"] == ("N", "arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_20261115_220000_*")
    assert calls[-1][0] == "msdb.dbo.rds_finish_restore"


@pytest.mark.parametrize("extra,code,text", [
    (["--at", "2026-11-18 14:37:00"], 2, "--target-name is required"),
    (["--at", "2026-11-18 14:37:00", "--target-name", "X", "--data-dir", "D:\\d"], 2, "cannot relocate files"),
    (["--at", "2026-11-18 14:37:00", "--target-name", "X", "--log-dir", "L:\\l"], 2, "cannot relocate files"),
    (["--at", "2026-11-18 14:37:00", "--target-name", "X", "--replace"], 2, "no REPLACE"),
    (["--at", "2026-11-18 14:37:00", "--target-name", "X", "--standby", "u.tuf"], 2, "STANDBY"),
    (["--lsn", "70000001496000001", "--target-name", "X"], 2, "cannot stop at an LSN or a mark"),
    (["--mark", "m1", "--target-name", "X"], 2, "cannot stop at an LSN or a mark"),
    (["--before-mark", "m1", "--target-name", "X"], 2, "cannot stop at an LSN or a mark"),
    (["--at", "2026-11-18 14:37:00", "--target-name", "rdsadmin_x"], 2, "starts with 'rdsadmin'"),
    (["--at", "2026-11-18 14:37:00", "--target-name", "X", "--data-volume", "C:"], 2, "not an RDS volume"),
    (["--at", "2026-11-18 14:37:00", "--target-name", "X", "--instance-region", "mars"], 2, "not an AWS region"),
    (["--at", "2099-01-01 00:00:00", "--target-name", "X"], 2, "tail-log backup"),
    (["--at", "2026-11-18 14:37:00", "--target-name", "X", "--tail", "always"], 2, "tail-log backup"),
    (["--at", "2099-01-01 00:00:00", "--target-name", "X", "--tail", "never"], 3, "after the last backup"),
])
def test_cli_refusals(s3_history_csv: Path, capsys: pytest.CaptureFixture[str], extra: list[str], code: int, text: str) -> None:
    got, out, err = run_cli(BASE + ["--history", str(s3_history_csv)] + extra, capsys)
    assert got == code, err
    assert out == ""
    assert text in err
    assert len(err.strip().splitlines()) <= 2


def test_cli_refuses_non_s3_sample(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(BASE + ["--at", "2026-11-18 14:37:00", "--tail", "never", "--target-name", "X"], capsys)
    assert code == 3 and out == ""
    assert "RDS restores only from Amazon S3 objects" in err and "\\\\backup01" in err


def test_cli_refuses_region(s3_history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = s3_history_csv.read_text(encoding="utf-8").replace("s3://prod-backups/", "s3://prod-backups.s3.eu-west-1.amazonaws.com/")
    hist = tmp_path / "regional.csv"
    hist.write_text(text, encoding="utf-8")
    code, out, err = run_cli(BASE + ["--history", str(hist), "--at", "2026-11-18 14:37:00", "--tail", "never",
                                     "--target-name", "X", "--instance-region", "us-east-1"], capsys)
    assert code == 3 and "needs a bucket in the instance's region" in err


def test_cli_striped_prefix_checked_against_history(s3_history_csv: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    lines = s3_history_csv.read_text(encoding="utf-8").splitlines()
    # another database's log stored under a name that shares the striped full's prefix
    extra = next(line for line in lines if line.startswith("HR,") and ",L," in line)
    extra = re.sub(r"s3://[^,]*", "s3://prod-backups/Sales/SQLPROD01_Sales_FULL_20261115_220000_old.bak", extra)
    # a backup set of its own: the same set again with another file would be a conflict
    extra = extra.replace(extra.split(",")[1], "0ddba11e-0000-4000-8000-000000000001")
    hist = tmp_path / "h.csv"
    hist.write_text("\n".join(lines + [extra]) + "\n", encoding="utf-8")
    code, out, err = run_cli(BASE + ["--history", str(hist), "--at", "2026-11-17 22:50:00", "--tail", "never",
                                     "--target-name", "X"], capsys)
    assert code == 3 and "would also match 1 other object" in err
