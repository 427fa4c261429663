"""Confirmed defects of the RDS emitter, each pinned by a test.

4. a striped (or ``*``-named) LOG backup is refused: rds_restore_log takes one file per call (D.3)
5. SQL Server backup encryption (certificate / asymmetric key) is refused: @kms_master_key_arn is
   RDS's own S3-object encryption, which msdb does not show
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from restoreplan.cli.main import main
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.model import BackupType, MediaFile
from restoreplan.core.plan import Action, Plan
from restoreplan.emit.rds import RdsOptions, natively_encrypted, render_rds
from restoreplan.sources.load import sample_history_path

OPTS = RdsOptions(target_name="Sales_restored")
KMS = "arn:aws:kms:us-east-1:123456789012:key/k1"


def _with_log(plan: Plan, index: int = 0, **changes: object) -> Plan:
    """The plan with its index-th log step's set changed."""
    logs = [i for i, s in enumerate(plan.steps) if s.action is Action.RESTORE_LOG]
    i = logs[index]
    bs = plan.steps[i].backup
    assert bs is not None
    steps = list(plan.steps)
    steps[i] = replace(steps[i], backup=bs.evolve(**changes))
    return replace(plan, steps=tuple(steps))


def test_striped_log_is_refused(sales_plan: Plan) -> None:
    striped = (MediaFile("arn:aws:s3:::prod-backups/Sales/log_1.trn", 1), MediaFile("arn:aws:s3:::prod-backups/Sales/log_2.trn", 2))
    plan = _with_log(sales_plan, files=striped, media_family_count=2)
    with pytest.raises(NotRecoverable) as info:
        render_rds(plan, OPTS)
    assert info.value.code == "RDS_STRIPED_LOG" and info.value.exit_code == 3
    assert "striped over 2 files" in info.value.message and "one file per call" in info.value.hint


def test_log_key_with_a_star_is_refused(sales_plan: Plan) -> None:
    plan = _with_log(sales_plan, files=(MediaFile("arn:aws:s3:::prod-backups/Sales/log*.trn", 1),))
    with pytest.raises(NotRecoverable) as info:
        render_rds(plan, OPTS)
    assert info.value.code == "RDS_STRIPED_LOG" and "contains '*'" in info.value.message


def test_striped_full_still_uses_one_wildcard_arn(sales_plan: Plan) -> None:
    full = sales_plan.steps[0].backup
    assert full is not None and full.type is BackupType.FULL
    files = (MediaFile("arn:aws:s3:::prod-backups/Sales/full1-of-2.bak", 1), MediaFile("arn:aws:s3:::prod-backups/Sales/full2-of-2.bak", 2))
    steps = (replace(sales_plan.steps[0], backup=full.evolve(files=files, media_family_count=2)),) + sales_plan.steps[1:]
    sql = render_rds(replace(sales_plan, steps=steps), OPTS)
    assert "@s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/full*'" in sql
    assert sql.count("exec msdb.dbo.rds_restore_log") == sum(s.action is Action.RESTORE_LOG for s in sales_plan.steps)


@pytest.mark.parametrize("columns", [
    {"key_algorithm": "aes_256", "encryptor_type": "CERTIFICATE", "encryptor_thumbprint": "0xABCDEF"},
    {"key_algorithm": "AES_256", "encryptor_type": "ASYMMETRIC KEY"},
    {"encryptor_thumbprint": "0x01"},
])
def test_native_backup_encryption_is_refused_with_or_without_kms(sales_plan: Plan, columns: dict[str, str]) -> None:
    plan = _with_log(sales_plan, 1, **columns)
    for opts in (OPTS, replace(OPTS, kms_key_arn=KMS)):
        with pytest.raises(NotRecoverable) as info:
            render_rds(plan, opts)
        assert info.value.code == "RDS_NATIVE_ENCRYPTED" and info.value.exit_code == 3
        assert "SQL Server backup encryption" in info.value.message


def test_no_encryption_is_not_encryption(sales_plan: Plan) -> None:
    plan = _with_log(sales_plan, 0, key_algorithm="NO_Encryption", encryptor_type="NO_Encryption")
    log = [s.backup for s in plan.steps if s.action is Action.RESTORE_LOG][0]
    assert log is not None and not natively_encrypted(log)
    sql = render_rds(plan, OPTS)
    assert "kms_master_key_arn" not in sql
    # the objects' KMS encryption is invisible in msdb: --kms-key-arn goes on every restore call
    sql = render_rds(plan, replace(OPTS, kms_key_arn=KMS))
    restores = sum(s.backup is not None for s in plan.steps)
    assert sql.count(f"@kms_master_key_arn = N'{KMS}'") == restores


def _csv(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path / "h.csv"
    with open(sample_history_path(), newline="", encoding="utf-8") as src, open(out, "w", newline="", encoding="utf-8") as dst:
        r = csv.DictReader(src)
        w = csv.DictWriter(dst, fieldnames=r.fieldnames or [])
        w.writeheader()
        for row in r:
            if row["database_name"] == "Sales":
                name = row["physical_device_name"].replace("/", "\\").rsplit("\\", 1)[-1]
                row["physical_device_name"] = f"arn:aws:s3:::prod-backups/Sales/{name}"
                change(row)
            w.writerow(row)
    return out


def test_cli_refuses_encrypted_with_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def encrypt(row: dict[str, str]) -> None:
        row.update(key_algorithm="aes_256", encryptor_type="CERTIFICATE", encryptor_thumbprint="0xABCDEF")

    argv = ["script", "--dialect", "rds", "--database", "Sales", "--history", str(_csv(tmp_path, encrypt)),
            "--at", "2026-11-17 22:50:00", "--tail", "never", "--target-name", "Sales2", "--kms-key-arn", KMS]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 3 and out == "" and "SQL Server backup encryption" in err
