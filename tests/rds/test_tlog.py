"""RDS transaction-log copies: manifest, keys in S3 (moto server on loopback), chain, window, planning."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from restoreplan.cli.main import main
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.history import History
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.emit.rds import RdsOptions, render_rds
from restoreplan.sources import rds_history as rh
from restoreplan.sources import rds_tlog as rt
from restoreplan.sources.canonical import SetBuilder

GUID = "9a0c1b7e-3a51-4f60-8d2f-0c6e1d2a4b77"
DB_ID = 5
T0 = datetime(2026, 11, 18, 12, 0, 0)
LSN0 = 40000000010000001


def manifest_rows(n: int = 6, *, broken_at: int | None = None, flag_at: int | None = None) -> list[dict[str, object]]:
    rows = []
    lsn = LSN0
    for i in range(n):
        seq = 100 + i
        start = lsn + (7 if broken_at == seq else 0)
        end = start + 1000000
        when = T0 + timedelta(minutes=5 * (i + 1))
        rows.append({
            "db_name": "Shop", "db_id": DB_ID, "family_guid": GUID.upper(), "rds_backup_seq_id": seq,
            "backup_file_epoch": int((when - datetime(1970, 1, 1)).total_seconds()),
            "backup_file_time_utc": when.strftime("%Y-%m-%d %H:%M:%S.000"), "starting_lsn": str(start),
            "ending_lsn": str(end), "is_log_chain_broken": 1 if flag_at == seq else 0, "file_size_bytes": 2048,
            "Error": "NULL",
        })
        lsn = end
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def full_row(arn: str = "arn:aws:s3:::rds-native/Shop/Shop_full.bak") -> dict[str, object]:
    return {
        "database_name": "Shop", "backup_set_uuid": "11111111-2222-3333-4444-555555555555", "type": "D",
        "first_lsn": str(LSN0 - 5000000), "last_lsn": str(LSN0 + 500), "checkpoint_lsn": str(LSN0 - 100),
        "database_backup_lsn": "0", "backup_start_date": "2026-11-18 11:50:00", "backup_finish_date": "2026-11-18 12:02:00",
        "physical_device_name": arn, "family_guid": GUID, "time_zone": 0, "recovery_model": "FULL", "position": 1,
    }


def test_parse_key_and_object_name() -> None:
    entries = rt.parse_manifest(manifest_rows(2), "m")
    e = entries[0]
    assert e.family_guid == GUID and e.seq_id == 100 and e.time_utc == T0 + timedelta(minutes=5)
    key = f"tlogs/{e.object_name}"
    parsed = rt.parse_tlog_key(key, 2048)
    assert parsed is not None and (parsed.db_id, parsed.family_guid, parsed.seq_id, parsed.epoch) == (DB_ID, GUID, 100, e.epoch)
    assert parsed.time_utc == e.time_utc
    assert rt.parse_tlog_key("tlogs/5.x/5.x.1.2") is None
    assert rt.parse_tlog_key(f"tlogs/6.{GUID}/5.{GUID}.1.2") is None  # db_id must repeat


def test_chain_findings_lsn_gap_flag_and_seq_gap() -> None:
    rows = manifest_rows(6, broken_at=103, flag_at=105)
    del rows[4]  # seq 104 missing
    report = rt.check_tlogs(rt.parse_manifest(rows, "m"), as_of=T0 + timedelta(hours=1))
    codes = [(f.code, f.seq_id) for f in report.findings]
    assert ("LSN_GAP", 103) in codes
    assert ("SEQ_GAP", 105) in codes
    assert ("CHAIN_BROKEN", 105) in codes
    assert not report.ok
    assert rt.check_tlogs(rt.parse_manifest(manifest_rows(4), "m"), as_of=T0 + timedelta(hours=1)).ok


def test_copy_window() -> None:
    entries = rt.parse_manifest(manifest_rows(4), "m")
    as_of = T0 + timedelta(days=7, minutes=12)  # seq 100, 101 are older than 7 days
    report = rt.check_tlogs(entries, as_of=as_of)
    assert report.expired == (100, 101)
    assert report.expiring == (102, 103)
    copied = [rt.TlogKey(f"p/{e.object_name}", e.db_id, e.family_guid, e.seq_id, e.epoch, 2048) for e in entries[1:3]]
    report2 = rt.check_tlogs(entries, as_of=as_of, objects=copied)
    codes = {(f.code, f.seq_id) for f in report2.findings}
    assert ("NOT_COPIED_EXPIRED", 100) in codes
    assert ("NOT_COPIED", 103) in codes
    assert report2.copied == (101, 102)


def test_rows_plan_and_rds_script_with_tlogs() -> None:
    entries = rt.parse_manifest(manifest_rows(6), "m")
    rows = rt.tlog_rows(entries, prefix_arn="arn:aws:s3:::rds-tlogs/copies")
    assert rows[0]["physical_device_name"] == f"arn:aws:s3:::rds-tlogs/copies/{DB_ID}.{GUID}/{DB_ID}.{GUID}.100.{entries[0].epoch}"
    b = SetBuilder()
    b.add_mappings([full_row()], "full")
    b.add_mappings(rows, "tlogs")
    history = History.from_sets(b.build())
    at = T0 + timedelta(minutes=17)
    plan = plan_restore(history, "Shop", RecoveryTarget.at(at), PlanOptions(tail="never"))
    logs = [s.backup for s in plan.steps if s.backup is not None and s.backup.type.value == "L"]
    assert [rt.needed_tlogs([x], entries)[0].seq_id for x in logs if x is not None] == [100, 101, 102, 103]
    sql = render_rds(plan, RdsOptions(target_name="Shop_restored"))
    assert f"@s3_arn_to_restore_from = N'arn:aws:s3:::rds-tlogs/copies/{DB_ID}.{GUID}/{DB_ID}.{GUID}.103." in sql
    assert sql.count("@stopat = N'2026-11-18 12:17:00'") == 4


def test_instance_offset_shifts_times() -> None:
    entries = rt.parse_manifest(manifest_rows(1), "m")
    row = rt.tlog_rows(entries, prefix_arn="s3://b/p", utc_offset_minutes=60)[0]
    assert row["backup_finish_date"] == "2026-11-18 13:05:00" and row["time_zone"] == 4
    with pytest.raises(Exception, match="multiple of 15"):
        rt.tlog_rows(entries, prefix_arn="s3://b/p", utc_offset_minutes=7)


def test_manifest_json_and_missing_column(tmp_path: Path) -> None:
    p = tmp_path / "m.json"
    p.write_text(json.dumps(manifest_rows(2)), encoding="utf-8")
    assert len(rt.read_manifest(str(p))) == 2
    bad = manifest_rows(1)
    del bad[0]["ending_lsn"]
    with pytest.raises(Exception, match="missing ending_lsn"):
        rt.parse_manifest(bad, "m")


def test_task_status_cross_check() -> None:
    tasks = rh.parse_task_status([
        {"task_id": "1", "task_type": "BACKUP_DB", "database_name": "Shop", "% complete": "100", "lifecycle": "SUCCESS",
         "task_info": "", "created_at": "2026-11-18 11:50:00", "S3_object_arn": "arn:aws:s3:::rds-native/Shop/Shop_full.bak"},
        {"task_id": "2", "task_type": "BACKUP_DB", "database_name": "Shop", "% complete": "100", "lifecycle": "SUCCESS",
         "S3_object_arn": "arn:aws:s3:::rds-native/Shop/Shop_gone*.bak"},
        {"task_id": "3", "task_type": "BACKUP_DB_DIFFERENTIAL", "database_name": "Shop", "lifecycle": "ERROR",
         "task_info": "Aborted the task because of a task failure or a concurrent RESTORE_DB request."},
    ], "tasks")
    b = SetBuilder()
    b.add_mappings([full_row()], "full")
    findings = rh.cross_check_tasks(tasks, b.build())
    codes = [f.code for f in findings]
    assert codes == ["BACKUP_MISSING", "TASK_FAILED"]
    assert "Shop_gone*.bak" in findings[0].message


def test_native_naming_checks() -> None:
    b = SetBuilder()
    rows = []
    for i in (1, 2, 4):
        r = full_row(f"arn:aws:s3:::rds-native/Shop/Shop_full{i}-of-4.bak")
        r["family_sequence_number"] = i
        r["media_family_count"] = 4
        rows.append(r)
    b.add_mappings(rows, "x")
    findings = rh.check_native_names(b.build())
    assert [f.code for f in findings] == ["PART_MISSING"]
    assert "[3]" in findings[0].message


def test_export_queries_text() -> None:
    text = rh.export_queries_text()
    assert "SELECT * FROM msdb.dbo.rds_fn_list_tlog_backup_metadata('MyDatabase')" in text
    assert "exec msdb.dbo.rds_task_status @db_name = 'MyDatabase';" in text
    assert "export-query" in text
    assert main(["export-query", "--rds"]) == 0


# -- a real S3-compatible server on loopback --------------------------------------------------
@pytest.fixture()
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    pytest.importorskip("moto")
    from moto.server import ThreadedMotoServer

    for k, val in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, val)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _put_layout(endpoint: str, entries: list[rt.TlogEntry], skip: set[int]) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="rds-tlogs")
    for e in entries:
        if e.seq_id not in skip:
            s3.put_object(Bucket="rds-tlogs", Key=f"copies/{e.object_name}", Body=b"\0" * 2048)
    s3.put_object(Bucket="rds-tlogs", Key="copies/README.txt", Body=b"not a log")


def test_list_tlog_objects_from_s3_server(moto_s3: str) -> None:
    entries = rt.parse_manifest(manifest_rows(5), "m")
    _put_layout(moto_s3, entries, skip={104})
    lister = rh.s3_lister(argparse.Namespace(profile=None, region="us-east-1", endpoint_url=moto_s3))
    objs = rt.list_tlog_objects("s3://rds-tlogs/copies", lister)
    assert [o.seq_id for o in objs] == [100, 101, 102, 103]
    assert all(o.size == 2048 for o in objs)
    report = rt.check_tlogs(entries, as_of=T0 + timedelta(days=1), objects=objs)
    assert report.copied == (100, 101, 102, 103)
    assert [f.code for f in report.findings] == ["NOT_COPIED"]


def test_cli_rds_tlog_then_plan(moto_s3: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = rt.parse_manifest(manifest_rows(5), "m")
    _put_layout(moto_s3, entries, skip=set())
    manifest = write_csv(tmp_path / "manifest.csv", manifest_rows(5))
    rows_out = tmp_path / "tlog_rows.csv"
    code = main(["rds-tlog", "--manifest", str(manifest), "--objects", "s3://rds-tlogs/copies", "--endpoint-url", moto_s3,
                 "--region", "us-east-1", "--as-of", "2026-11-19T00:00:00Z", "--emit-rows", str(rows_out), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"] and out["copied"] == [100, 101, 102, 103, 104]
    full = write_csv(tmp_path / "full.csv", [full_row()])
    code = main(["script", "--dialect", "rds", "--history", str(full), "--history", str(rows_out), "--database", "Shop",
                 "--at", "2026-11-18 12:17:00", "--tail", "never", "--target-name", "Shop2"])
    sql = capsys.readouterr().out
    assert code == 0
    assert sql.count("exec msdb.dbo.rds_restore_log") == 4
    assert "arn:aws:s3:::rds-tlogs/copies/" in sql


def test_cli_rds_tlog_reports_broken_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_csv(tmp_path / "m.csv", manifest_rows(4, broken_at=102))
    code = main(["rds-tlog", "--manifest", str(manifest), "--as-of", "2026-11-19T00:00:00Z"])
    out = capsys.readouterr().out
    assert code == 1
    assert "LSN_GAP" in out and "seq 102" in out


def test_flagged_chain_break_is_not_bridged_by_the_plan() -> None:
    """is_log_chain_broken = 1 on a log whose LSNs still look continuous: the logs from it on
    cannot be restored over the full before it, so no plan may cross it (restore-rules B.2)."""
    entries = rt.parse_manifest(manifest_rows(6, flag_at=104), "m")
    rows = rt.tlog_rows(entries, prefix_arn="arn:aws:s3:::rds-tlogs/copies")
    assert [r["begins_log_chain"] for r in rows] == [0, 0, 0, 0, 1, 0]
    b = SetBuilder()
    b.add_mappings([full_row()], "full")
    b.add_mappings(rows, "tlogs")
    history = History.from_sets(b.build())
    before = plan_restore(history, "Shop", RecoveryTarget.at(T0 + timedelta(minutes=17)), PlanOptions(tail="never"))
    assert len([s for s in before.steps if s.backup is not None]) == 5  # the full and logs 100-103
    with pytest.raises(NotRecoverable):
        plan_restore(history, "Shop", RecoveryTarget.at(T0 + timedelta(minutes=22)), PlanOptions(tail="never"))


def test_an_overlapping_start_is_an_lsn_gap_too() -> None:
    """D.5: a file must start exactly where the previous one ends; one that starts before it
    (an overlap) is no continuation either (mutation review: only a later start was caught)."""
    rows = manifest_rows(3)
    rows[2]["starting_lsn"] = str(int(str(rows[1]["ending_lsn"])) - 85)
    report = rt.check_tlogs(rt.parse_manifest(rows, "m"), as_of=T0)
    assert [f.code for f in report.findings if f.code == "LSN_GAP"] == ["LSN_GAP"]


def test_the_seven_day_window_edge() -> None:
    """D.5: a file exactly 7 days old has left the copy window (expired), one a second younger
    has not."""
    entries = rt.parse_manifest(manifest_rows(2), "m")
    first = entries[0].time_utc
    assert rt.check_tlogs(entries, as_of=first + timedelta(days=7)).expired == (100,)
    assert 100 in rt.check_tlogs(entries, as_of=first + timedelta(days=7) - timedelta(seconds=1)).expiring
