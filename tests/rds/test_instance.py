"""Instance-level recovery: PITR window, snapshot fallback, shell-quoted commands, boto3 via Stubber."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from pathlib import Path

import pytest

from restoreplan.cli.main import main
from restoreplan.core.errors import NotRecoverable, UsageError
from restoreplan.sources import rds_instance as ri

DATA = Path(__file__).parent / "data"
DESCRIBE = json.loads((DATA / "describe_db_instances.json").read_text())
SNAPS = json.loads((DATA / "describe_db_snapshots.json").read_text())


def test_summary() -> None:
    s = ri.instance_summary(DESCRIBE, SNAPS)
    assert s["backup_retention_days"] == 7
    assert s["preferred_backup_window"] == "03:00-03:30"
    assert s["latest_restorable_utc"] == "2026-11-18T20:10:00Z"
    assert s["earliest_restorable_utc"] == "2026-11-11T03:05:00Z"
    assert s["earliest_source"] == "oldest automated snapshot"
    assert s["region"] == "us-east-1" and s["snapshots"] == 5
    s2 = ri.instance_summary(DESCRIBE, None, {"DBInstanceAutomatedBackups": [
        {"DBInstanceIdentifier": "prod-sql", "RestoreWindow": {"EarliestTime": "2026-11-11T03:20:00Z",
                                                                "LatestTime": "2026-11-18T20:10:00Z"}}]})
    assert s2["earliest_restorable_utc"] == "2026-11-11T03:20:00Z" and s2["earliest_source"] == "RestoreWindow"
    s3 = ri.instance_summary(DESCRIBE)
    assert s3["earliest_restorable_utc"] == "2026-11-11T20:10:00Z" and s3["earliest_source"].startswith("estimate")


def test_inside_window_gives_pitr_command() -> None:
    d = ri.decide_pitr(DESCRIBE, SNAPS, "prod-sql", datetime(2026, 11, 18, 19, 37), "prod-sql-copy")
    assert d.method == "pitr"
    assert d.argv == ("aws", "rds", "restore-db-instance-to-point-in-time", "--source-db-instance-identifier", "prod-sql",
                      "--target-db-instance-identifier", "prod-sql-copy", "--restore-time", "2026-11-18T19:37:00Z",
                      "--region", "us-east-1")
    assert shlex.split(d.command) == list(d.argv)


def test_outside_window_uses_newest_snapshot_before() -> None:
    d = ri.decide_pitr(DESCRIBE, SNAPS, "prod-sql", datetime(2026, 10, 3), "old-copy")
    assert d.method == "snapshot" and d.snapshot_id == "before-upgrade"
    assert "before the earliest restorable time" in d.reason
    d2 = ri.decide_pitr(DESCRIBE, SNAPS, "prod-sql", datetime(2026, 9, 15), "old-copy")
    assert d2.snapshot_id == "pre release 'v2'"
    assert "'pre release '\"'\"'v2'\"'\"''" in d2.command  # shlex.quote
    assert shlex.split(d2.command)[6] == "pre release 'v2'"
    # after the window with no newer snapshot: PITR to LatestRestorableTime (minutes lost), not
    # the week-old snapshot (days lost)
    d3 = ri.decide_pitr(DESCRIBE, SNAPS, "prod-sql", datetime(2026, 11, 19), "new-copy")
    assert d3.method == "pitr" and "after LatestRestorableTime" in d3.reason and "TARGET CHANGED" in d3.reason
    assert d3.snapshot_id is None and "--restore-time" in d3.command


def test_no_snapshot_before_is_not_recoverable() -> None:
    with pytest.raises(NotRecoverable, match="no available snapshot"):
        ri.decide_pitr(DESCRIBE, SNAPS, "prod-sql", datetime(2025, 1, 1), "x")


@pytest.mark.parametrize("bad", ["1abc", "a--b", "a-", "has space", "x" * 64, "prod-sql"])
def test_bad_target_identifier(bad: str) -> None:
    with pytest.raises(UsageError):
        ri.decide_pitr(DESCRIBE, SNAPS, "prod-sql", datetime(2026, 11, 18, 19, 37), bad)


def test_live_calls_through_stubber() -> None:
    boto3 = pytest.importorskip("boto3")
    from botocore.stub import Stubber

    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    recorded = json.loads((DATA / "describe_db_instances.json").read_text())
    for inst in recorded["DBInstances"]:
        for k in ("InstanceCreateTime", "LatestRestorableTime"):
            inst[k] = datetime.fromisoformat(inst[k].replace("Z", "+00:00"))
    snaps = json.loads((DATA / "describe_db_snapshots.json").read_text())["DBSnapshots"]
    for s in snaps:
        s["SnapshotCreateTime"] = datetime.fromisoformat(s["SnapshotCreateTime"].replace("Z", "+00:00"))
    with Stubber(client) as stub:
        stub.add_response("describe_db_instances", recorded, {"DBInstanceIdentifier": "prod-sql"})
        stub.add_response("describe_db_snapshots", {"DBSnapshots": snaps[:2], "Marker": "m1"}, {"DBInstanceIdentifier": "prod-sql"})
        stub.add_response("describe_db_snapshots", {"DBSnapshots": snaps[2:]}, {"DBInstanceIdentifier": "prod-sql", "Marker": "m1"})
        stub.add_client_error("describe_db_instance_automated_backups", "AccessDenied")
        describe, snapshots, automated = ri.fetch_live("prod-sql", client=client)
        stub.assert_no_pending_responses()
    assert len(snapshots["DBSnapshots"]) == 5 and automated == {}
    d = ri.decide_pitr(describe, snapshots, "prod-sql", datetime(2026, 11, 18, 19, 37), "copy-1")
    assert d.method == "pitr" and d.window.earliest == datetime(2026, 11, 11, 3, 5)


def test_cli_rds_pitr(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["rds-pitr", "--instance", "prod-sql", "--describe-json", str(DATA / "describe_db_instances.json"),
            "--snapshots-json", str(DATA / "describe_db_snapshots.json"), "--target-instance", "prod-sql-copy"]
    assert main(args + ["--at", "2026-11-18 14:37:00-05:00"]) == 0
    out = capsys.readouterr().out
    assert "aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier prod-sql " \
           "--target-db-instance-identifier prod-sql-copy --restore-time 2026-11-18T19:37:00Z --region us-east-1" in out
    assert main(args + ["--at", "2026-10-03T00:00:00Z", "--format", "json"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert j["method"] == "snapshot" and j["inside_window"] is False and j["snapshot"] == "before-upgrade"
    assert main(args + ["--at", "2020-01-01T00:00:00Z"]) == 3
    assert "no available snapshot" in capsys.readouterr().err


def test_live_describe_failures_are_one_line_errors() -> None:
    """An AccessDenied or an unreachable endpoint is an InputError naming the instance, not a
    botocore traceback (robustness review)."""
    boto3 = pytest.importorskip("boto3")
    from botocore.stub import Stubber

    from restoreplan.core.errors import InputError

    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        stub.add_client_error("describe_db_instances", "AccessDenied", "not allowed")
        with pytest.raises(InputError, match="cannot describe RDS instance 'prod-sql': AccessDenied: not allowed"):
            ri.fetch_live("prod-sql", client=client)


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000, "1" * 5000])
def test_a_describe_json_python_cannot_decode_is_an_input_error(tmp_path: Path, text: str) -> None:
    from restoreplan.core.errors import InputError

    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="not a describe output"):
        ri.load_json_file(str(path))
