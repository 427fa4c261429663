"""Amazon RDS for SQL Server history: native backups in S3, rds_task_status exports, the export queries.

* Native backups (``rds_backup_database``) are ordinary backup files in S3; their headers are read
  by the backup-file reader; this module adds RDS's ``name{i}-of-{N}`` naming checks (D.1).
* ``rds_task_status`` exports (CSV/JSON) cross-check what was taken and when (D.3).
* Transaction-log copies are ``rds_tlog``'s; the S3 helpers and ``Finding`` here serve both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from restoreplan.core.errors import InputError, UsageError
from restoreplan.core.model import BackupSet
from restoreplan.sources import values as v
from restoreplan.sources.tabular import read_records

_PART = re.compile(r"^(?P<stem>.*?)(?P<i>\d+)-of-(?P<n>\d+)(?P<ext>\.[^/]*)?$")

Lister = Callable[[str], list[tuple[str, int]]]  # s3://bucket/prefix -> [(key, size)]


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


def cell(row: Mapping[str, Any], name: str) -> Any:
    """A row's value under a column name, compared case-insensitively (None when absent)."""
    if name in row:
        return row[name]
    low = name.lower()
    for k, val in row.items():
        if str(k).strip().lower() == low:
            return val
    return None


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation about tlog copies or native backups."""

    code: str
    message: str
    seq_id: int | None = None
    severity: str = "error"  # error | warning | info

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "seq_id": self.seq_id}


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
            tid = v.parse_int(cell(row, "task_id"))
            if tid is None:
                raise InputError(f"{origin}, row {n}: task_id is missing",
                                 hint="export exec msdb.dbo.rds_task_status @db_name='db'")
            out.append(RdsTask(
                task_id=tid, task_type=(v.text(cell(row, "task_type")) or "").upper(),
                database_name=v.text(cell(row, "database_name")),
                lifecycle=(v.text(cell(row, "lifecycle")) or "").upper(),
                pct=v.parse_int(cell(row, "% complete")), task_info=v.text(cell(row, "task_info")),
                created_at=v.parse_datetime(cell(row, "created_at")),
                last_updated=v.parse_datetime(cell(row, "last_updated")),
                s3_object_arn=v.text(cell(row, "S3_object_arn")),
                kms_master_key_arn=v.text(cell(row, "KMS_master_key_arn")),
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
