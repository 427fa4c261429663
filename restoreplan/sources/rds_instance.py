"""Amazon RDS instance-level recovery: automated backups (PITR) and snapshots (restore-rules D.6).

Inputs are the saved JSON of ``aws rds describe-db-instances``, ``describe-db-snapshots`` and
optionally ``describe-db-instance-automated-backups`` (or the same calls made live with boto3).
Everything here is pure except :func:`fetch_live`. Times are UTC.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from restoreplan.core.errors import InputError, NotRecoverable, UsageError
from restoreplan.sources import values as v

_IDENT = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)$")


def _utc(raw: Any) -> datetime | None:
    """An AWS timestamp (ISO text with Z/offset, or a datetime) -> naive UTC."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        dt = raw
    else:
        s = str(raw).strip()
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            raise InputError(f"not an AWS timestamp: {raw!r}") from None
    if not v.in_range(dt):
        raise InputError(f"AWS timestamp {raw!r} is {v.RANGE_TEXT}")
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def _z(dt: datetime | None) -> str | None:
    return None if dt is None else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _z_ms(dt: datetime) -> str:
    """UTC text for --restore-time: milliseconds (floored) when T has a fraction of a second.

    Dropping the fraction would move T earlier, below an EarliestRestorableTime that has one.
    """
    if dt.microsecond == 0:
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _items(value: Any, key: str, what: str) -> list[dict[str, Any]]:
    """The list under ``key`` of a describe-... output (or the list itself); every item an object."""
    items = value.get(key, []) if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InputError(f"the {what} JSON: {key} is not a list of objects", hint=f"aws rds {what} --output json")
    return items


def _retention_days(instance: dict[str, Any]) -> int:
    raw = instance.get("BackupRetentionPeriod")
    if raw is None or raw == "":
        return 0
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise InputError(f"the describe-db-instances JSON: BackupRetentionPeriod {raw!r} is not a number of days") from None
    if not 0 <= days <= 35:
        raise InputError(f"the describe-db-instances JSON: BackupRetentionPeriod {days} is not 0-35 days")
    return days


def _same_incarnation(instance: dict[str, Any], item: dict[str, Any]) -> bool:
    """False when both name a DbiResourceId and they differ (an older instance of the same identifier)."""
    mine, theirs = instance.get("DbiResourceId"), item.get("DbiResourceId")
    return not (mine and theirs and str(mine).lower() != str(theirs).lower())


def _snapshot_time(s: dict[str, Any]) -> datetime | None:
    """When the snapshot's data is from: OriginalSnapshotCreateTime (kept by copies), else SnapshotCreateTime."""
    return _utc(s.get("OriginalSnapshotCreateTime")) or _utc(s.get("SnapshotCreateTime"))


def load_json_file(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})",
                         hint="save the output of aws rds describe-... --output json") from None
    except (ValueError, RecursionError) as exc:  # not UTF-8, a number of thousands of digits, deep nesting
        raise InputError(f"{path}: not a describe output ({type(exc).__name__}: {str(exc)[:80]})",
                         hint="save the output of aws rds describe-... --output json") from None


def _instances(describe: Any) -> list[dict[str, Any]]:
    """The instances of a describe-db-instances output, each with its DBInstanceIdentifier."""
    hint = "aws rds describe-db-instances --output json"
    if isinstance(describe, dict) and "DBInstances" in describe:
        items = describe["DBInstances"]
        if not isinstance(items, list):
            raise InputError("the describe-db-instances JSON: DBInstances is not a list", hint=hint)
    elif isinstance(describe, dict) and "DBInstanceIdentifier" in describe:
        items = [describe]
    elif isinstance(describe, list):
        items = describe
    else:
        raise InputError("the describe-db-instances JSON has no DBInstances", hint=hint)
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not str(item.get("DBInstanceIdentifier") or "").strip():
            raise InputError(f"the describe-db-instances JSON: instance {n} has no DBInstanceIdentifier", hint=hint)
    return list(items)


def pick_instance(describe: Any, instance_id: str | None) -> dict[str, Any]:
    found = _instances(describe)
    if instance_id:
        match = [d for d in found if str(d.get("DBInstanceIdentifier", "")).lower() == instance_id.lower()]
        if not match:
            names = ", ".join(str(d.get("DBInstanceIdentifier")) for d in found) or "(none)"
            raise UsageError(f"instance {instance_id!r} is not in the describe-db-instances output", hint=f"instances: {names}")
        return match[0]
    if not found:
        raise InputError("the describe-db-instances JSON holds no instance", hint="aws rds describe-db-instances --output json")
    if len(found) != 1:
        names = ", ".join(str(d["DBInstanceIdentifier"]) for d in found)
        raise UsageError("--instance is required: the describe output holds several instances", hint=f"instances: {names}")
    return found[0]


def _snapshots(snapshots: Any) -> list[dict[str, Any]]:
    if snapshots is None:
        return []
    if not isinstance(snapshots, dict | list):
        raise InputError("the describe-db-snapshots JSON has no DBSnapshots")
    return list(_items(snapshots, "DBSnapshots", "describe-db-snapshots"))


def _restore_window(automated: Any, instance: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The RestoreWindow of this instance's own automated backups (not a retained one of an older
    instance that had the same identifier: DbiResourceId decides; an active one wins)."""
    if not automated:
        return None, None
    instance_id = str(instance.get("DBInstanceIdentifier", ""))
    items = _items(automated, "DBInstanceAutomatedBackups", "describe-db-instance-automated-backups")
    mine = [a for a in items if str(a.get("DBInstanceIdentifier", "")).lower() == instance_id.lower()
            and a.get("RestoreWindow") and _same_incarnation(instance, a)]
    mine.sort(key=lambda a: str(a.get("Status", "")).lower() != "active")
    for a in mine:
        w = a["RestoreWindow"]
        if not isinstance(w, dict):
            raise InputError("the describe-db-instance-automated-backups JSON: RestoreWindow is not an object")
        return _utc(w.get("EarliestTime")), _utc(w.get("LatestTime"))
    return None, None


@dataclass(frozen=True, slots=True)
class Window:
    """The instance's point-in-time window: [earliest, latest] (UTC)."""

    earliest: datetime | None
    latest: datetime | None
    earliest_source: str  # RestoreWindow | oldest automated snapshot | retention estimate | unknown

    def contains(self, t: datetime) -> bool:
        return self.earliest is not None and self.latest is not None and self.earliest <= t <= self.latest


def restore_window(instance: dict[str, Any], snapshots: Any = None, automated: Any = None) -> Window:
    """EarliestRestorableTime (RestoreWindow, else the oldest automated snapshot, else latest − retention)."""
    ident = str(instance.get("DBInstanceIdentifier", ""))
    early, late = _restore_window(automated, instance)
    latest = late or _utc(instance.get("LatestRestorableTime"))
    if early is not None:
        return Window(early, latest, "RestoreWindow")
    retention = _retention_days(instance)
    if retention == 0:
        return Window(None, None, "automated backups disabled (BackupRetentionPeriod 0)")
    autos = [_utc(s.get("SnapshotCreateTime")) for s in _snapshots(snapshots)
             if str(s.get("SnapshotType", "")).lower() == "automated" and s.get("Status", "available") == "available"
             and str(s.get("DBInstanceIdentifier", ident)).lower() == ident.lower() and _same_incarnation(instance, s)]
    autos_known = [a for a in autos if a is not None]
    if autos_known:
        return Window(min(autos_known), latest, "oldest automated snapshot")
    if latest is not None:
        created = _utc(instance.get("InstanceCreateTime"))
        est = latest - timedelta(days=retention)
        if created is not None and created > est:
            est = created
        return Window(est, latest, "estimate: LatestRestorableTime minus the retention period")
    return Window(None, None, "unknown")


def instance_summary(describe_json: Any, snapshots_json: Any = None, automated_json: Any = None,
                     instance_id: str | None = None) -> dict[str, Any]:
    """Retention, backup window, earliest/latest restorable time and snapshots (for audit)."""
    inst = pick_instance(describe_json, instance_id)
    ident = str(inst.get("DBInstanceIdentifier"))
    win = restore_window(inst, snapshots_json, automated_json)
    snaps = [s for s in _snapshots(snapshots_json)
             if str(s.get("DBInstanceIdentifier", ident)).lower() == ident.lower()]
    times = sorted(t for t in (_utc(s.get("SnapshotCreateTime")) for s in snaps) if t is not None)
    return {
        "instance": ident,
        "engine": inst.get("Engine"),
        "engine_version": inst.get("EngineVersion"),
        "region": _region_of(inst),
        "backup_retention_days": _retention_days(inst),
        "preferred_backup_window": inst.get("PreferredBackupWindow"),
        "preferred_maintenance_window": inst.get("PreferredMaintenanceWindow"),
        "multi_az": bool(inst.get("MultiAZ")),
        "storage_encrypted": bool(inst.get("StorageEncrypted")),
        "earliest_restorable_utc": _z(win.earliest),
        "earliest_source": win.earliest_source,
        "latest_restorable_utc": _z(win.latest),
        "snapshots": len(snaps),
        "oldest_snapshot_utc": _z(times[0]) if times else None,
        "newest_snapshot_utc": _z(times[-1]) if times else None,
    }


def _region_of(inst: dict[str, Any]) -> str | None:
    arn = str(inst.get("DBInstanceArn") or "")
    parts = arn.split(":")
    if len(parts) > 4 and parts[3]:
        return parts[3]
    az = str(inst.get("AvailabilityZone") or "")
    return az[:-1] if az and az[-1].isalpha() else None


@dataclass(frozen=True, slots=True)
class PitrDecision:
    """How to get the instance back as of T: PITR inside the window, else the newest snapshot before T."""

    instance: str
    at_utc: datetime
    method: str  # "pitr" | "snapshot"
    window: Window
    argv: tuple[str, ...]
    reason: str
    snapshot_id: str | None = None
    snapshot_time: datetime | None = None

    @property
    def command(self) -> str:
        return " ".join(shlex.quote(a) for a in self.argv)

    def to_json(self) -> dict[str, Any]:
        return {
            "instance": self.instance, "at_utc": _z(self.at_utc), "method": self.method,
            "inside_window": self.method == "pitr",
            "earliest_restorable_utc": _z(self.window.earliest), "earliest_source": self.window.earliest_source,
            "latest_restorable_utc": _z(self.window.latest), "snapshot": self.snapshot_id,
            "snapshot_time_utc": _z(self.snapshot_time), "reason": self.reason, "argv": list(self.argv),
            "command": self.command,
        }


def check_identifier(name: str) -> None:
    """RDS DB instance identifier rules: 1-63 letters, digits, hyphens; a letter first; no -- or trailing -."""
    if not _IDENT.match(name):
        raise UsageError(f"{name!r} is not a valid DB instance identifier",
                         hint="1-63 letters, digits or hyphens, starting with a letter, no '--', not ending in '-'")


def decide_pitr(describe_json: Any, snapshots_json: Any, instance_id: str | None, at: datetime,
                target_instance: str | None = None, automated_json: Any = None,
                region: str | None = None) -> PitrDecision:
    """PITR when T is in [earliest, latest]; after the window, PITR to LatestRestorableTime unless a
    snapshot was taken after it (and at or before T); before the window, the newest available
    snapshot taken at or before T."""
    at_utc = _utc(at)
    assert at_utc is not None
    inst = pick_instance(describe_json, instance_id)
    ident = str(inst["DBInstanceIdentifier"])
    suffix = f"-restored-{at_utc:%Y%m%d%H%M}"
    target = target_instance or ident[:63 - len(suffix)].rstrip("-") + suffix
    check_identifier(target)
    if target.lower() == ident.lower():
        raise UsageError("the target instance must be new: PITR and snapshot restores always create a new instance",
                         hint="choose another --target-instance")
    win = restore_window(inst, snapshots_json, automated_json)
    region = region or _region_of(inst)
    tail = ["--region", region] if region else []
    if win.contains(at_utc):
        argv = ("aws", "rds", "restore-db-instance-to-point-in-time", "--source-db-instance-identifier", ident,
                "--target-db-instance-identifier", target, "--restore-time", _z_ms(at_utc), *tail)
        reason = (f"{_z_ms(at_utc)} is inside the restorable window [{_z(win.earliest)}, {_z(win.latest)}] "
                  f"(earliest from {win.earliest_source})")
        return PitrDecision(ident, at_utc, "pitr", win, argv, reason)
    if win.latest is not None and at_utc > win.latest:
        why = f"{_z_ms(at_utc)} is after LatestRestorableTime {_z_ms(win.latest)} (logs reach S3 every 5 minutes)"
    elif win.earliest is not None:
        why = f"{_z_ms(at_utc)} is before the earliest restorable time {_z_ms(win.earliest)} ({win.earliest_source})"
    else:
        why = f"the instance has no point-in-time window ({win.earliest_source})"
    created = _utc(inst.get("InstanceCreateTime"))
    snaps = []
    for s in _snapshots(snapshots_json):
        if str(s.get("DBInstanceIdentifier", ident)).lower() != ident.lower():
            continue
        if s.get("Status", "available") != "available" or not str(s.get("DBSnapshotIdentifier") or "").strip():
            continue
        if not _same_incarnation(inst, s) and (created is None or at_utc >= created):
            continue  # an older instance of the same name: not this instance's data at T
        t = _snapshot_time(s)
        if t is not None and t <= at_utc:
            snaps.append((t, str(s.get("DBSnapshotIdentifier")), s))
    newest = max(snaps, key=lambda x: x[0]) if snaps else None
    if win.latest is not None and at_utc > win.latest and (newest is None or newest[0] <= win.latest):
        # after the window, with no snapshot newer than its end: the point nearest before T is
        # LatestRestorableTime itself (minutes of loss), not an older snapshot (days)
        argv = ("aws", "rds", "restore-db-instance-to-point-in-time", "--source-db-instance-identifier", ident,
                "--target-db-instance-identifier", target, "--restore-time", _z_ms(win.latest), *tail)
        reason = (f"TARGET CHANGED: {why}; restoring to LatestRestorableTime {_z_ms(win.latest)}, the nearest "
                  "restorable point before it (a later point becomes restorable as logs reach S3: run again)")
        return PitrDecision(ident, at_utc, "pitr", win, argv, reason)
    if newest is None:
        raise NotRecoverable(f"{why}, and no available snapshot of {ident} was taken at or before it",
                             hint="choose a time inside the window", code="RDS_NO_SNAPSHOT")
    t, snap_id, _ = newest
    argv = ("aws", "rds", "restore-db-instance-from-db-snapshot", "--db-instance-identifier", target,
            "--db-snapshot-identifier", snap_id, *tail)
    reason = f"{why}; the newest snapshot before it is {snap_id} taken {_z(t)} (changes after it are lost)"
    return PitrDecision(ident, at_utc, "snapshot", win, argv, reason, snap_id, t)


def fetch_live(instance_id: str, *, profile: str | None = None, region: str | None = None,
               client: Any = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """describe-db-instances, describe-db-snapshots and describe-db-instance-automated-backups via boto3."""
    if client is None:
        try:
            import boto3
        except ImportError:
            raise UsageError("live RDS calls need boto3", hint="pip install 'restoreplan[s3]', or pass --describe-json") from None
    try:
        return _fetch(instance_id, client or boto3.session.Session(profile_name=profile, region_name=region).client("rds"))
    except Exception as exc:
        try:
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise exc from None
        if not isinstance(exc, (BotoCoreError, ClientError, ValueError)):
            raise
        from restoreplan.sources.s3 import _describe

        raise InputError(f"cannot describe RDS instance {instance_id!r}: {_describe(exc)}",
                         hint="check --profile, --region, the network and the rds:Describe* permissions, "
                              "or pass --describe-json") from None


def _fetch(instance_id: str, client: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    describe = client.describe_db_instances(DBInstanceIdentifier=instance_id)
    snaps: list[dict[str, Any]] = []
    marker = None
    while True:
        kwargs: dict[str, Any] = {"DBInstanceIdentifier": instance_id}
        if marker:
            kwargs["Marker"] = marker
        page = client.describe_db_snapshots(**kwargs)
        snaps.extend(page.get("DBSnapshots", []))
        marker = page.get("Marker")
        if not marker:
            break
    try:
        automated = client.describe_db_instance_automated_backups(DBInstanceIdentifier=instance_id)
    except Exception:  # noqa: BLE001 - optional: older permissions may not allow it
        automated = {}
    return dict(describe), {"DBSnapshots": snaps}, dict(automated)
