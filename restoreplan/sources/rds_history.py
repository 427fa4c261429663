"""Amazon RDS for SQL Server history: native backups in S3, rds_task_status exports, tlog copies.

* Native backups (``rds_backup_database``) are ordinary backup files in S3; their headers are read
  by the backup-file reader; this module adds RDS's ``name{i}-of-{N}`` naming checks (D.1).
* ``rds_task_status`` exports (CSV/JSON) cross-check what was taken and when (D.3).
* Transaction-log copies (``rds_tlog_backup_copy_to_S3``) live under
  ``{prefix}/{db_id}.{family_guid}/{db_id}.{family_guid}.{seq}.{epoch}``; an export of
  ``rds_fn_list_tlog_backup_metadata`` is their manifest. They become canonical log rows so the
  normal planner plans with them (D.5).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from restoreplan.core.errors import InputError, UsageError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet
from restoreplan.sources import values as v
from restoreplan.sources.tabular import read_records

COPY_WINDOW = timedelta(days=7)  # only the last 7 days are listable/copyable (D.5)
_EARLIEST, _LATEST = datetime(2000, 1, 1), datetime(9000, 1, 1)  # keeps window and offset arithmetic in range
_UNIX = datetime(1970, 1, 1)
_NS = uuid.UUID("6f2b8f5e-2d57-4e0c-9f49-5d1c1f0e7a11")  # backup_set_uuid namespace for tlog copies
_TLOG_KEY = re.compile(
    r"(?:^|/)(?P<db_id>\d+)\.(?P<guid>[0-9A-Fa-f-]{36})/(?P=db_id)\.(?P=guid)\.(?P<seq>\d+)\.(?P<epoch>\d+)$"
)
_PART = re.compile(r"^(?P<stem>.*?)(?P<i>\d+)-of-(?P<n>\d+)(?P<ext>\.[^/]*)?$")

Lister = Callable[[str], list[tuple[str, int]]]  # s3://bucket/prefix -> [(key, size)]

MANIFEST_COLUMNS = ("db_name", "db_id", "family_guid", "rds_backup_seq_id", "backup_file_epoch",
                    "backup_file_time_utc", "starting_lsn", "ending_lsn", "is_log_chain_broken",
                    "file_size_bytes", "Error")


def export_queries_text() -> str:
    """The queries a DBA runs on the RDS instance to produce the exports restoreplan reads."""
    return """-- restoreplan: exports for Amazon RDS for SQL Server (run each, save the result as CSV or JSON)
-- Replace MyDatabase with the database name. Nothing here changes the instance.

-- 1. Transaction-log backup metadata: the manifest of tlog copies (restoreplan rds-tlog --manifest FILE).
--    Only the last 7 days are listed. Save it right after rds_tlog_backup_copy_to_S3 so it
--    describes exactly the copied objects.
SELECT * FROM msdb.dbo.rds_fn_list_tlog_backup_metadata('MyDatabase')
ORDER BY rds_backup_seq_id;

-- Where the copies go (the prefix given to rds_tlog_copy_setup):
exec rdsadmin.dbo.rds_show_configuration @name = 'target_s3_arn_for_tlog_copy';

-- 2. Native backup/restore and tlog-copy tasks (kept 36 days): a cross-check of what was taken and when
--    (restoreplan rds-tlog --task-status FILE).
exec msdb.dbo.rds_task_status @db_name = 'MyDatabase';
-- or every database: SELECT * FROM msdb.dbo.rds_fn_task_status(NULL, 0);

-- 3. msdb backup history of native backups made on the instance: run the ordinary export
--    (restoreplan export-query) on the RDS instance; physical_device_name holds the
--    arn:aws:s3:::bucket/key of each native backup file, which is what rds_restore_database needs.
--    Or read the backup files themselves: restoreplan plan --backups s3://bucket/prefix ...
"""


# -- transaction-log copies ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TlogEntry:
    """One row of rds_fn_list_tlog_backup_metadata (and, when copied, its S3 object)."""

    db_name: str
    db_id: int
    family_guid: str
    seq_id: int
    epoch: int
    time_utc: datetime
    starting_lsn: LSN
    ending_lsn: LSN
    is_log_chain_broken: bool = False
    file_size_bytes: int | None = None
    error: str | None = None

    @property
    def object_name(self) -> str:
        """``{db_id}.{family_guid}/{db_id}.{family_guid}.{seq}.{epoch}`` (relative to the copy prefix)."""
        stem = f"{self.db_id}.{self.family_guid}"
        return f"{stem}/{stem}.{self.seq_id}.{self.epoch}"

    @property
    def backup_set_uuid(self) -> str:
        return str(uuid.uuid5(_NS, f"{self.family_guid}.{self.seq_id}.{self.epoch}"))


@dataclass(frozen=True, slots=True)
class TlogKey:
    """What an object key alone tells: db_id, family_guid, sequence id and epoch."""

    key: str
    db_id: int
    family_guid: str
    seq_id: int
    epoch: int
    size: int | None = None

    @property
    def time_utc(self) -> datetime:
        return datetime.fromtimestamp(self.epoch, UTC).replace(tzinfo=None)


def parse_tlog_key(key: str, size: int | None = None) -> TlogKey | None:
    """Parse a tlog-copy object key laid out as RDS writes it; None for any other key."""
    m = _TLOG_KEY.search(key)
    if not m:
        return None
    try:
        guid = str(uuid.UUID(m.group("guid")))
    except ValueError:
        return None
    return TlogKey(key, int(m.group("db_id")), guid, int(m.group("seq")), int(m.group("epoch")), size)


def _key(row: Mapping[str, Any], name: str) -> Any:
    if name in row:
        return row[name]
    low = name.lower()
    for k, val in row.items():
        if str(k).strip().lower() == low:
            return val
    return None


def parse_manifest(records: Iterable[Mapping[str, Any]], origin: str) -> list[TlogEntry]:
    """Rows of rds_fn_list_tlog_backup_metadata -> TlogEntry values (checked)."""
    out: list[TlogEntry] = []
    for n, row in enumerate(records, start=1):
        where = f"{origin}, row {n}"
        try:
            missing = [c for c in MANIFEST_COLUMNS[:8] if v.is_null(_key(row, c))]
            if missing:
                raise InputError(f"{where}: missing {', '.join(missing)}",
                                 hint="export SELECT * FROM msdb.dbo.rds_fn_list_tlog_backup_metadata('db')")
            epoch = v.parse_int(_key(row, "backup_file_epoch"))
            db_id = v.parse_int(_key(row, "db_id"))
            seq = v.parse_int(_key(row, "rds_backup_seq_id"))
            when = v.parse_datetime(_key(row, "backup_file_time_utc"))
            guid = v.parse_guid(_key(row, "family_guid"))
            assert epoch is not None and db_id is not None and seq is not None and when is not None and guid
            if when.tzinfo is not None:
                when = when.astimezone(UTC).replace(tzinfo=None)
            if not _EARLIEST <= when <= _LATEST:
                raise InputError(f"{where}: backup_file_time_utc {when:%Y-%m-%d %H:%M:%S} is not a plausible time")
            out.append(TlogEntry(
                db_name=v.text(_key(row, "db_name")) or "",
                db_id=db_id, family_guid=guid, seq_id=seq, epoch=epoch, time_utc=when,
                starting_lsn=LSN.parse(str(_key(row, "starting_lsn"))),
                ending_lsn=LSN.parse(str(_key(row, "ending_lsn"))),
                is_log_chain_broken=bool(v.parse_bool(_key(row, "is_log_chain_broken"))),
                file_size_bytes=v.parse_int(_key(row, "file_size_bytes")),
                error=v.text(_key(row, "Error")),
            ))
        except v.ValueProblem as exc:
            raise InputError(f"{where}: {exc}") from None
        except InputError as exc:
            if exc.message.startswith(where):
                raise
            raise InputError(f"{where}: {exc.message}", hint=exc.hint) from None
    return sorted(out, key=lambda e: (e.family_guid, e.seq_id))


def read_manifest(path: str) -> list[TlogEntry]:
    """A CSV/JSON export of rds_fn_list_tlog_backup_metadata."""
    return parse_manifest(read_records(path), path)


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation about tlog copies or native backups."""

    code: str
    message: str
    seq_id: int | None = None
    severity: str = "error"  # error | warning | info

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "seq_id": self.seq_id}


@dataclass(frozen=True, slots=True)
class TlogReport:
    """Chain, window and copy status of a set of tlog backups."""

    entries: tuple[TlogEntry, ...]
    findings: tuple[Finding, ...]
    copied: tuple[int, ...]  # seq ids with an S3 object
    expired: tuple[int, ...]  # no longer copyable (older than the 7-day window)
    expiring: tuple[int, ...]  # copyable now, not for long (within `soon` of leaving the window)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": len(self.entries), "copied": list(self.copied), "expired": list(self.expired),
            "expiring": list(self.expiring), "ok": self.ok, "findings": [f.to_json() for f in self.findings],
        }


def _identity(e: TlogEntry) -> tuple[object, ...]:
    return (e.family_guid, e.seq_id, e.epoch, e.starting_lsn, e.ending_lsn, e.time_utc)


def unique_entries(entries: Iterable[TlogEntry]) -> list[TlogEntry]:
    """The entries without exact repeats (a manifest exported twice into one file), by family then seq."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for e in entries:
        if _identity(e) not in seen:
            seen.add(_identity(e))
            out.append(e)
    return sorted(out, key=lambda e: (e.family_guid, e.seq_id, e.epoch))


def check_tlogs(entries: Sequence[TlogEntry], *, as_of: datetime | None = None,
                objects: Sequence[TlogKey] | None = None, soon: timedelta = timedelta(days=1)) -> TlogReport:
    """LSN continuity between consecutive sequence ids, is_log_chain_broken, errors, the 7-day window.

    ``as_of`` is naive UTC (default: now). ``objects`` are the copied objects when listed.
    """
    now = as_of or datetime.now(UTC).replace(tzinfo=None)
    entries = unique_entries(entries)
    findings: list[Finding] = []
    by_family: dict[str, list[TlogEntry]] = {}
    for e in entries:
        by_family.setdefault(e.family_guid, []).append(e)
    if len(by_family) > 1:
        findings.append(Finding("SEVERAL_FAMILIES", f"the manifest holds {len(by_family)} family_guids "
                                "(the database was restored or recreated): each is a separate chain", severity="warning"))
    for fam in by_family.values():
        fam.sort(key=lambda e: e.seq_id)
        for prev, cur in zip(fam, fam[1:], strict=False):
            if cur.seq_id == prev.seq_id:
                findings.append(Finding("DUPLICATE_SEQ", f"seq {cur.seq_id} is listed twice with different values "
                                        f"(epoch {prev.epoch} / {cur.epoch}, LSNs {prev.starting_lsn}-{prev.ending_lsn} "
                                        f"/ {cur.starting_lsn}-{cur.ending_lsn}): export the manifest again",
                                        cur.seq_id))
                continue
            if cur.seq_id != prev.seq_id + 1:
                findings.append(Finding("SEQ_GAP", f"sequence ids {prev.seq_id} -> {cur.seq_id}: "
                                        f"{cur.seq_id - prev.seq_id - 1} log backup(s) missing from the manifest",
                                        cur.seq_id))
            if cur.starting_lsn != prev.ending_lsn:
                findings.append(Finding("LSN_GAP", f"seq {cur.seq_id} starts at LSN {cur.starting_lsn} but seq "
                                        f"{prev.seq_id} ends at LSN {prev.ending_lsn}: the chain is broken here",
                                        cur.seq_id))
            if cur.time_utc < prev.time_utc:
                findings.append(Finding("TIME_ORDER", f"seq {cur.seq_id} is older than seq {prev.seq_id}",
                                        cur.seq_id, "warning"))
    for e in entries:
        drift = (e.time_utc - _UNIX).total_seconds() - e.epoch
        if abs(drift) >= 1:
            findings.append(Finding("TIME_MISMATCH", f"seq {e.seq_id}: backup_file_time_utc "
                                    f"{e.time_utc:%Y-%m-%d %H:%M:%S} is {drift / 3600:+.2f} h from backup_file_epoch "
                                    f"{e.epoch} (was the time exported in local time?); the epoch is the UTC truth",
                                    e.seq_id, "warning"))
        if e.is_log_chain_broken:
            findings.append(Finding("CHAIN_BROKEN", f"seq {e.seq_id}: is_log_chain_broken = 1 (the chain breaks "
                                    "between it and the previous file; rds_tlog_backup_copy_to_S3 copies it anyway)",
                                    e.seq_id))
        if e.error:
            findings.append(Finding("LIST_ERROR", f"seq {e.seq_id}: {e.error}", e.seq_id))
    expired = tuple(e.seq_id for e in entries if e.time_utc + COPY_WINDOW <= now)
    expiring = tuple(e.seq_id for e in entries if now < e.time_utc + COPY_WINDOW <= now + soon)
    copied: tuple[int, ...] = ()
    if objects is not None:
        have = {(o.family_guid, o.seq_id, o.epoch): o for o in objects}
        copied = tuple(e.seq_id for e in entries if (e.family_guid, e.seq_id, e.epoch) in have)
        for e in entries:
            o = have.get((e.family_guid, e.seq_id, e.epoch))
            if o is None:
                if e.seq_id in expired:
                    findings.append(Finding("NOT_COPIED_EXPIRED", f"seq {e.seq_id} ({e.time_utc:%Y-%m-%d %H:%M:%S}Z) "
                                            "was never copied and is outside the 7-day window: it can no longer be copied",
                                            e.seq_id))
                else:
                    sev = "warning" if e.seq_id in expiring else "info"
                    findings.append(Finding("NOT_COPIED", f"seq {e.seq_id} is not in S3 yet; copy it before "
                                            f"{e.time_utc + COPY_WINDOW:%Y-%m-%d %H:%M:%S}Z", e.seq_id, sev))
            elif o.size is not None and e.file_size_bytes is not None and o.size != e.file_size_bytes:
                findings.append(Finding("SIZE_MISMATCH", f"seq {e.seq_id}: object has {o.size} bytes, the manifest "
                                        f"says {e.file_size_bytes}", e.seq_id))
        known = {(e.family_guid, e.seq_id, e.epoch) for e in entries}
        for o in objects:
            if (o.family_guid, o.seq_id, o.epoch) not in known:
                findings.append(Finding("NO_METADATA", f"object {o.key} is not in the manifest: its LSNs are unknown "
                                        "(read its header, or export the metadata again)", o.seq_id, "warning"))
    else:
        for sid in expiring:
            findings.append(Finding("EXPIRING", f"seq {sid} leaves the 7-day copy window within {soon}", sid, "warning"))
    return TlogReport(tuple(entries), tuple(findings), copied, expired, expiring)


def tlog_rows(entries: Sequence[TlogEntry], *, prefix_arn: str, database_name: str | None = None,
              utc_offset_minutes: int = 0, objects: Sequence[TlogKey] | None = None,
              only_copied: bool = False) -> list[dict[str, Any]]:
    """Canonical log rows (type L) for the planner.

    ``prefix_arn`` is the ``arn:aws:s3:::bucket/prefix`` given to rds_tlog_copy_setup; times are
    UTC shifted by ``utc_offset_minutes`` (the instance's offset), with the matching time_zone.
    A log's start is the previous file's time in the same family (else its own time).
    """
    if utc_offset_minutes % 15:
        raise UsageError("the instance offset must be a multiple of 15 minutes")
    bucket, prefix = split_s3_url(prefix_arn)
    base = f"arn:aws:s3:::{bucket}/" + (prefix.strip("/") + "/" if prefix.strip("/") else "")
    keys = {(o.family_guid, o.seq_id, o.epoch): o for o in objects or ()}
    shift = timedelta(minutes=utc_offset_minutes)
    rows: list[dict[str, Any]] = []
    prev: dict[str, TlogEntry] = {}
    for e in unique_entries(entries):
        before = prev.get(e.family_guid)
        prev[e.family_guid] = e
        obj = keys.get((e.family_guid, e.seq_id, e.epoch))
        if only_copied and obj is None:
            continue
        if e.error:
            continue
        if obj is not None:
            device = _arn_for_key(base, obj.key)
        else:
            device = base + e.object_name
        start = before.time_utc if before is not None and before.seq_id == e.seq_id - 1 else e.time_utc
        rows.append({
            "database_name": database_name or e.db_name,
            "backup_set_uuid": e.backup_set_uuid,
            "type": "L",
            "first_lsn": str(e.starting_lsn),
            "last_lsn": str(e.ending_lsn),
            "checkpoint_lsn": str(e.starting_lsn),
            "database_backup_lsn": "0",
            "backup_start_date": (min(start, e.time_utc) + shift).isoformat(sep=" "),
            "backup_finish_date": (e.time_utc + shift).isoformat(sep=" "),
            "physical_device_name": device,
            "family_guid": e.family_guid,
            "time_zone": utc_offset_minutes // 15,
            "recovery_model": "FULL",
            # the chain breaks before this file even where its LSNs look continuous: the planner
            # then applies it only over a data backup taken after the break
            "begins_log_chain": int(e.is_log_chain_broken),
            "backup_size": e.file_size_bytes,
            "device_type": 9,
            "position": 1,
            "server_name": None,
        })
    return rows


def _arn_for_key(base: str, key: str) -> str:
    """The ARN of a listed key (keys are full keys within the bucket of ``base``)."""
    bucket, _ = split_s3_url(base)
    return f"arn:aws:s3:::{bucket}/{key}"


def needed_tlogs(plan_logs: Iterable[BackupSet], entries: Sequence[TlogEntry]) -> list[TlogEntry]:
    """The manifest entries a plan's log steps use (by backup_set_uuid or LSN range)."""
    by_uuid = {e.backup_set_uuid: e for e in entries}
    by_lsn = {(e.starting_lsn, e.ending_lsn): e for e in entries}
    out = []
    for bs in plan_logs:
        e = by_uuid.get(bs.backup_set_uuid) or by_lsn.get((bs.first_lsn, bs.last_lsn))
        if e is not None:
            out.append(e)
    return out


def _optional_module(name: str) -> Any:
    """A sibling module that may not be in this build (None when absent)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def s3_lister(options: Any = None) -> Lister:
    """List ``s3://bucket/prefix`` with the project's S3 source, or boto3 directly when it is absent."""
    s3mod = _optional_module("restoreplan.sources.s3")
    if s3mod is not None and hasattr(s3mod, "list_objects"):
        def via_module(url: str) -> list[tuple[str, int]]:
            opts = s3mod.S3Options(getattr(options, "profile", None), getattr(options, "region", None),
                                   getattr(options, "endpoint_url", None))
            return [(str(k), int(s)) for k, s in s3mod.list_objects(url, opts)]
        return via_module

    def via_boto3(url: str) -> list[tuple[str, int]]:
        try:
            import boto3
        except ImportError:
            raise UsageError("reading S3 needs boto3", hint="pip install 'restoreplan[s3]'") from None
        bucket, prefix = split_s3_url(url)
        session = boto3.session.Session(profile_name=getattr(options, "profile", None),
                                        region_name=getattr(options, "region", None))
        client = session.client("s3", endpoint_url=getattr(options, "endpoint_url", None))
        out: list[tuple[str, int]] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend((o["Key"], int(o["Size"])) for o in page.get("Contents", []))
        return out
    return via_boto3


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` or ``arn:aws:s3:::bucket/prefix`` -> (bucket, prefix)."""
    u = url.strip()
    if u.startswith("arn:aws:s3:::"):
        rest = u[len("arn:aws:s3:::"):]
    elif u.lower().startswith("s3://"):
        rest = u[5:]
    else:
        raise UsageError(f"{url!r} is not an S3 location", hint="use s3://bucket/prefix or arn:aws:s3:::bucket/prefix")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UsageError(f"{url!r} names no bucket")
    return bucket, prefix


def list_tlog_objects(url: str, lister: Lister) -> list[TlogKey]:
    """The tlog-copy objects under a prefix (other objects are ignored)."""
    out = []
    for key, size in lister(url):
        parsed = parse_tlog_key(key, size)
        if parsed is not None:
            out.append(parsed)
    return sorted(out, key=lambda k: (k.family_guid, k.seq_id))


# -- rds_task_status exports ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RdsTask:
    """One row of rds_task_status."""

    task_id: int
    task_type: str
    database_name: str | None
    lifecycle: str
    pct: int | None = None
    task_info: str | None = None
    created_at: datetime | None = None
    last_updated: datetime | None = None
    s3_object_arn: str | None = None
    kms_master_key_arn: str | None = None


def parse_task_status(records: Iterable[Mapping[str, Any]], origin: str) -> list[RdsTask]:
    out = []
    for n, row in enumerate(records, start=1):
        try:
            tid = v.parse_int(_key(row, "task_id"))
            if tid is None:
                raise InputError(f"{origin}, row {n}: task_id is missing",
                                 hint="export exec msdb.dbo.rds_task_status @db_name='db'")
            out.append(RdsTask(
                task_id=tid, task_type=(v.text(_key(row, "task_type")) or "").upper(),
                database_name=v.text(_key(row, "database_name")),
                lifecycle=(v.text(_key(row, "lifecycle")) or "").upper(),
                pct=v.parse_int(_key(row, "% complete")), task_info=v.text(_key(row, "task_info")),
                created_at=v.parse_datetime(_key(row, "created_at")),
                last_updated=v.parse_datetime(_key(row, "last_updated")),
                s3_object_arn=v.text(_key(row, "S3_object_arn")),
                kms_master_key_arn=v.text(_key(row, "KMS_master_key_arn")),
            ))
        except v.ValueProblem as exc:
            raise InputError(f"{origin}, row {n}: {exc}") from None
    return sorted(out, key=lambda t: t.task_id)


def read_task_status(path: str) -> list[RdsTask]:
    return parse_task_status(read_records(path), path)


def _object_key(name: str) -> str:
    s = name.strip()
    for p in ("arn:aws:s3:::", "s3://"):
        if s.lower().startswith(p):
            return s[len(p):]
    return s


def _matches(pattern: str, name: str) -> bool:
    """rds_backup_database names: ``x*.bak`` with @number_of_files=N becomes ``x1-of-N.bak``..."""
    p, n = _object_key(pattern), _object_key(name)
    if "*" not in p:
        return p == n
    head, tail = p.split("*", 1)
    if not (n.startswith(head) and n.endswith(tail)):
        return False
    middle = n[len(head): len(n) - len(tail)] if tail else n[len(head):]
    return re.fullmatch(r"\d+-of-\d+", middle) is not None


def cross_check_tasks(tasks: Sequence[RdsTask], sets: Sequence[BackupSet]) -> list[Finding]:
    """Backup tasks vs the backup sets found in S3/msdb: what was taken, what is missing, what failed."""
    findings: list[Finding] = []
    devices = [f.physical_device_name for bs in sets for f in bs.files]
    for t in tasks:
        if not t.task_type.startswith("BACKUP_DB"):
            continue
        when = f" at {t.created_at:%Y-%m-%d %H:%M:%S}" if t.created_at else ""
        if t.lifecycle in ("ERROR", "CANCELLED"):
            findings.append(Finding("TASK_FAILED", f"task {t.task_id} ({t.task_type}{when}) ended {t.lifecycle}: "
                                    f"{t.task_info or 'no task_info'}", severity="warning"))
            continue
        if t.lifecycle != "SUCCESS" or not t.s3_object_arn:
            continue
        if not any(_matches(t.s3_object_arn, d) for d in devices):
            findings.append(Finding("BACKUP_MISSING", f"task {t.task_id} ({t.task_type}{when}) wrote "
                                    f"{t.s3_object_arn}, but no backup set in the history is in that object "
                                    "(deleted, moved, or not scanned)"))
    for bs in sets:
        names = [f.physical_device_name for f in bs.files]
        if not any(parse_s3(n) for n in names):
            continue
        if not any(_matches(t.s3_object_arn or "", n) for t in tasks for n in names if t.task_type.startswith("BACKUP_DB")):
            findings.append(Finding("NO_TASK", f"backup set {bs.backup_set_uuid} ({names[0]}) has no rds_task_status "
                                    "row (older than 36 days, or not taken by rds_backup_database on this instance)",
                                    severity="info"))
    return findings


def parse_s3(name: str) -> bool:
    low = name.strip().lower()
    return low.startswith(("s3://", "arn:aws:s3:"))


# -- native backups ------------------------------------------------------------------------------
def check_native_names(sets: Sequence[BackupSet]) -> list[Finding]:
    """RDS multi-file naming (``name{i}-of-{N}``): every part present, N = the family count, ≤ 10 files."""
    findings: list[Finding] = []
    for bs in sets:
        fams = bs.families
        parts = []
        for mirrors in fams.values():
            m = _PART.match(_object_key(mirrors[0].physical_device_name))
            if m:
                parts.append((m.group("stem"), int(m.group("i")), int(m.group("n")), m.group("ext") or ""))
        if len(fams) > 10:
            findings.append(Finding("TOO_MANY_FILES", f"backup set {bs.backup_set_uuid} has {len(fams)} files: RDS "
                                    "restores at most 10"))
        if not parts:
            continue
        stems = {(p[0], p[2], p[3]) for p in parts}
        if len(stems) > 1 or len(parts) != len(fams):
            findings.append(Finding("MIXED_NAMES", f"backup set {bs.backup_set_uuid}: its files do not share one "
                                    "name{i}-of-{N} pattern", severity="warning"))
            continue
        _, total, _ = next(iter(stems))
        have = sorted(p[1] for p in parts)
        if have != list(range(1, total + 1)):
            missing = sorted(set(range(1, total + 1)) - set(have))
            findings.append(Finding("PART_MISSING", f"backup set {bs.backup_set_uuid}: parts {missing} of {total} "
                                    "are missing (rds_backup_database wrote 1-of-N .. N-of-N)"))
        if bs.media_family_count and bs.media_family_count != total:
            findings.append(Finding("PART_COUNT", f"backup set {bs.backup_set_uuid}: names say {total} files but the "
                                    f"header says {bs.media_family_count} families"))
    return findings


def scan_native_backups(url: str, s3_options: Any = None) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Read native backups under ``s3://bucket/prefix`` with the backup-file reader; rows + naming findings."""
    backup_files = _optional_module("restoreplan.sources.backup_files")
    if backup_files is None:
        raise UsageError("reading backup-file headers is not available in this build")
    from restoreplan.sources.canonical import SetBuilder

    scans = backup_files.scan_sources([url], s3=s3_options)
    rows: list[dict[str, Any]] = list(backup_files.rows_for_history(scans))
    findings = [Finding("UNREADABLE", f"{s.name}: {s.error}", severity="warning")
                for s in scans if getattr(s, "error", None)]
    if rows:
        b = SetBuilder()
        b.add_mappings(rows, url)
        findings.extend(check_native_names(b.build()))
    return rows, findings


def rows_to_csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """Canonical rows as CSV (a --history input)."""
    import csv
    import io

    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    return buf.getvalue()


def rows_to_json_text(rows: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), indent=2, default=str) + "\n"
