"""Review 3: rds-pitr window edges, incarnations, malformed describe JSON; rds-tlog duplicates and times."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from restoreplan.core.errors import InputError
from restoreplan.sources import rds_instance as ri
from restoreplan.sources import rds_tlog as rt
from tests.rds.test_tlog import T0, manifest_rows

DATA = Path(__file__).parent / "data"
DESCRIBE = json.loads((DATA / "describe_db_instances.json").read_text())
SNAPS = json.loads((DATA / "describe_db_snapshots.json").read_text())


def _describe(**extra: object) -> dict[str, object]:
    d = json.loads(json.dumps(DESCRIBE))
    d["DBInstances"][0].update(extra)
    return d


def test_restore_time_keeps_milliseconds_inside_a_fractional_earliest() -> None:
    auto = {"DBInstanceAutomatedBackups": [{"DBInstanceIdentifier": "prod-sql", "RestoreWindow": {
        "EarliestTime": "2026-11-11T03:20:00.400Z", "LatestTime": "2026-11-18T20:10:00Z"}}]}
    d = ri.decide_pitr(DESCRIBE, SNAPS, "prod-sql", datetime(2026, 11, 11, 3, 20, 0, 600000), "x-copy", auto)
    assert d.method == "pitr"
    assert d.argv[d.argv.index("--restore-time") + 1] == "2026-11-11T03:20:00.600Z"


def test_retained_backups_of_an_older_instance_do_not_give_the_window() -> None:
    auto = {"DBInstanceAutomatedBackups": [
        {"DBInstanceIdentifier": "prod-sql", "DbiResourceId": "db-OLD", "Status": "retained",
         "RestoreWindow": {"EarliestTime": "2026-01-01T00:00:00Z", "LatestTime": "2026-01-05T00:00:00Z"}},
        {"DBInstanceIdentifier": "prod-sql", "DbiResourceId": "db-NEW", "Status": "active",
         "RestoreWindow": {"EarliestTime": "2026-11-11T03:20:00Z", "LatestTime": "2026-11-18T20:10:00Z"}}]}
    d = ri.decide_pitr(_describe(DbiResourceId="db-NEW"), SNAPS, "prod-sql", datetime(2026, 11, 17), "x-copy", auto)
    assert d.method == "pitr" and d.window.earliest == datetime(2026, 11, 11, 3, 20)


def test_snapshot_of_an_older_instance_with_the_same_name_is_not_chosen() -> None:
    snaps = {"DBSnapshots": [
        {"DBSnapshotIdentifier": "old-incarnation", "DBInstanceIdentifier": "prod-sql", "DbiResourceId": "db-OLD",
         "SnapshotType": "manual", "SnapshotCreateTime": "2026-10-30T00:00:00Z", "Status": "available"},
        {"DBSnapshotIdentifier": "mine", "DBInstanceIdentifier": "prod-sql", "DbiResourceId": "db-NEW",
         "SnapshotType": "manual", "SnapshotCreateTime": "2026-10-20T00:00:00Z", "Status": "available"}]}
    d = ri.decide_pitr(_describe(DbiResourceId="db-NEW"), snaps, "prod-sql", datetime(2026, 11, 1), "x-copy")
    assert d.method == "snapshot" and d.snapshot_id == "mine"


def test_copied_snapshot_is_dated_by_its_original_time() -> None:
    snaps = {"DBSnapshots": [
        {"DBSnapshotIdentifier": "copy-of-old", "DBInstanceIdentifier": "prod-sql", "SnapshotType": "manual",
         "SnapshotCreateTime": "2026-10-30T00:00:00Z", "OriginalSnapshotCreateTime": "2026-09-01T00:00:00Z",
         "Status": "available"},
        {"DBSnapshotIdentifier": "october", "DBInstanceIdentifier": "prod-sql", "SnapshotType": "manual",
         "SnapshotCreateTime": "2026-10-15T00:00:00Z", "Status": "available"}]}
    d = ri.decide_pitr(DESCRIBE, snaps, "prod-sql", datetime(2026, 11, 1), "x-copy")
    assert d.snapshot_id == "october"


def test_snapshot_without_identifier_is_skipped() -> None:
    snaps = {"DBSnapshots": [{"SnapshotCreateTime": "2026-10-01T00:00:00Z", "Status": "available"}]}
    with pytest.raises(Exception, match="no available snapshot"):
        ri.decide_pitr(DESCRIBE, snaps, "prod-sql", datetime(2026, 10, 5), "x-copy")


def test_default_target_of_a_63_character_identifier_is_new() -> None:
    ident = "a" * 63
    d = ri.decide_pitr(_describe(DBInstanceIdentifier=ident), None, ident, datetime(2026, 11, 17))
    target = d.argv[d.argv.index("--target-db-instance-identifier") + 1]
    assert target != ident and len(target) <= 63 and target.endswith("-restored-202611170000")


@pytest.mark.parametrize("snaps, auto, extra", [
    ({"DBSnapshots": "abc"}, None, {}),
    ({"DBSnapshots": ["abc"]}, None, {}),
    (None, {"DBInstanceAutomatedBackups": ["x"]}, {}),
    (None, {"DBInstanceAutomatedBackups": [{"DBInstanceIdentifier": "prod-sql", "RestoreWindow": "x"}]}, {}),
    (None, None, {"BackupRetentionPeriod": "seven"}),
])
def test_malformed_describe_json_is_an_input_error(snaps: object, auto: object, extra: dict[str, object]) -> None:
    with pytest.raises(InputError):
        ri.decide_pitr(_describe(**extra), snaps, "prod-sql", datetime(2026, 11, 17), "x-copy", auto)


def test_duplicate_manifest_rows_are_one_entry() -> None:
    rows = manifest_rows(4)
    entries = rt.parse_manifest(rows + [rows[1]], "m")
    report = rt.check_tlogs(entries, as_of=T0 + timedelta(days=1))
    assert report.ok and not report.findings and len(report.entries) == 4
    out = rt.tlog_rows(entries, prefix_arn="arn:aws:s3:::b/p")
    assert len({r["backup_set_uuid"] for r in out}) == len(out) == 4


def test_conflicting_duplicate_seq_is_reported_as_such() -> None:
    rows = manifest_rows(3)
    other = dict(rows[1], backup_file_epoch=int(rows[1]["backup_file_epoch"]) + 1)  # type: ignore[call-overload]
    report = rt.check_tlogs(rt.parse_manifest([*rows, other], "m"), as_of=T0 + timedelta(days=1))
    codes = [f.code for f in report.findings]
    assert "DUPLICATE_SEQ" in codes and "SEQ_GAP" not in codes and not report.ok


def test_time_exported_in_local_time_is_flagged() -> None:
    rows = manifest_rows(2)
    rows[0]["backup_file_time_utc"] = (T0 + timedelta(minutes=5) - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M:%S")
    report = rt.check_tlogs(rt.parse_manifest(rows, "m"), as_of=T0 + timedelta(days=1))
    assert [f.code for f in report.findings] == ["TIME_MISMATCH"]
    assert "-5.00 h" in report.findings[0].message


def test_implausible_time_is_an_input_error_not_an_overflow() -> None:
    rows = manifest_rows(1)
    rows[0]["backup_file_time_utc"] = "9999-12-31 23:59:59"
    with pytest.raises(InputError, match="not a plausible time|outside the dates restoreplan reads"):
        rt.parse_manifest(rows, "m")
