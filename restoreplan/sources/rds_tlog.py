"""Amazon RDS for SQL Server transaction-log copies (``rds_tlog_backup_copy_to_S3``).

Copies live under ``{prefix}/{db_id}.{family_guid}/{db_id}.{family_guid}.{seq}.{epoch}``; an export
of ``rds_fn_list_tlog_backup_metadata`` is their manifest. ``check_tlogs`` checks the chain, the
flags and the 7-day copy window; ``tlog_rows`` makes them canonical log rows so the normal
planner plans with them (D.5).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from restoreplan.core.errors import InputError, UsageError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet
from restoreplan.sources import values as v
from restoreplan.sources.rds_history import Finding, Lister, cell, split_s3_url
from restoreplan.sources.tabular import read_records

COPY_WINDOW = timedelta(days=7)  # only the last 7 days are listable/copyable (D.5)
_EARLIEST, _LATEST = datetime(2000, 1, 1), datetime(9000, 1, 1)  # keeps window and offset arithmetic in range
_UNIX = datetime(1970, 1, 1)
_NS = uuid.UUID("6f2b8f5e-2d57-4e0c-9f49-5d1c1f0e7a11")  # backup_set_uuid namespace for tlog copies
_TLOG_KEY = re.compile(
    r"(?:^|/)(?P<db_id>\d+)\.(?P<guid>[0-9A-Fa-f-]{36})/(?P=db_id)\.(?P=guid)\.(?P<seq>\d+)\.(?P<epoch>\d+)$"
)
MANIFEST_COLUMNS = ("db_name", "db_id", "family_guid", "rds_backup_seq_id", "backup_file_epoch",
                    "backup_file_time_utc", "starting_lsn", "ending_lsn", "is_log_chain_broken",
                    "file_size_bytes", "Error")


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


def parse_manifest(records: Iterable[Mapping[str, Any]], origin: str) -> list[TlogEntry]:
    """Rows of rds_fn_list_tlog_backup_metadata -> TlogEntry values (checked)."""
    out: list[TlogEntry] = []
    for n, row in enumerate(records, start=1):
        where = f"{origin}, row {n}"
        try:
            missing = [c for c in MANIFEST_COLUMNS[:8] if v.is_null(cell(row, c))]
            if missing:
                raise InputError(f"{where}: missing {', '.join(missing)}",
                                 hint="export SELECT * FROM msdb.dbo.rds_fn_list_tlog_backup_metadata('db')")
            epoch = v.parse_int(cell(row, "backup_file_epoch"))
            db_id = v.parse_int(cell(row, "db_id"))
            seq = v.parse_int(cell(row, "rds_backup_seq_id"))
            when = v.parse_datetime(cell(row, "backup_file_time_utc"))
            guid = v.parse_guid(cell(row, "family_guid"))
            assert epoch is not None and db_id is not None and seq is not None and when is not None and guid
            if when.tzinfo is not None:
                when = when.astimezone(UTC).replace(tzinfo=None)
            if not _EARLIEST <= when <= _LATEST:
                raise InputError(f"{where}: backup_file_time_utc {when:%Y-%m-%d %H:%M:%S} is not a plausible time")
            out.append(TlogEntry(
                db_name=v.text(cell(row, "db_name")) or "",
                db_id=db_id, family_guid=guid, seq_id=seq, epoch=epoch, time_utc=when,
                starting_lsn=LSN.parse(str(cell(row, "starting_lsn"))),
                ending_lsn=LSN.parse(str(cell(row, "ending_lsn"))),
                is_log_chain_broken=bool(v.parse_bool(cell(row, "is_log_chain_broken"))),
                file_size_bytes=v.parse_int(cell(row, "file_size_bytes")),
                error=v.text(cell(row, "Error")),
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


def list_tlog_objects(url: str, lister: Lister) -> list[TlogKey]:
    """The tlog-copy objects under a prefix (other objects are ignored)."""
    out = []
    for key, size in lister(url):
        parsed = parse_tlog_key(key, size)
        if parsed is not None:
            out.append(parsed)
    return sorted(out, key=lambda k: (k.family_guid, k.seq_id))
