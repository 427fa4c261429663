"""Immutable values: backup sets, their media, database files, and marks."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from restoreplan.core.lsn import LSN


class BackupType(StrEnum):
    """msdb.dbo.backupset.type letters (restore-rules A.1)."""

    FULL = "D"
    DIFF = "I"
    LOG = "L"
    FILE = "F"
    FILE_DIFF = "G"
    PARTIAL = "P"
    PARTIAL_DIFF = "Q"

    @property
    def is_data(self) -> bool:
        return self in (BackupType.FULL, BackupType.DIFF)

    @property
    def plannable(self) -> bool:
        """F/G/P/Q are recognised but not planned automatically (restore-rules B.9)."""
        return self in (BackupType.FULL, BackupType.DIFF, BackupType.LOG)

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    BackupType.FULL: "full",
    BackupType.DIFF: "differential",
    BackupType.LOG: "log",
    BackupType.FILE: "file",
    BackupType.FILE_DIFF: "file differential",
    BackupType.PARTIAL: "partial",
    BackupType.PARTIAL_DIFF: "partial differential",
}

_OFFSETS: dict[int, timedelta] = {}
DEVICE_TYPE_VIRTUAL = 7
DEVICE_TYPE_URL = 9


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One physical device of a media set: a family (stripe) and a mirror of it."""

    physical_device_name: str
    family_sequence_number: int = 1
    mirror: int = 0
    device_type: int | None = None


@dataclass(frozen=True, slots=True)
class DatabaseFile:
    """A database file inside a backup (msdb.dbo.backupfile): what MOVE needs."""

    logical_name: str
    physical_name: str
    file_type: str = "D"  # D data, L log, F full-text, S filestream


@dataclass(frozen=True, slots=True)
class LogMark:
    """A named mark (msdb.dbo.logmarkhistory)."""

    database_name: str
    mark_name: str
    lsn: LSN
    mark_time: datetime
    description: str | None = None


@dataclass(frozen=True, slots=True)
class RestoreEvent:
    """A restore into a database (msdb.dbo.restorehistory, restore-rules A.6): one after the
    database's last backup leaves it on a state no backup records (rules-notes item 14)."""

    database_name: str  # destination_database_name
    restore_date: datetime  # when it finished, server-local
    restore_type: str  # D database, I differential, L log, F file, G filegroup, P page, R revert; ? unknown
    recovery: bool | None = None  # WITH RECOVERY (None: not recorded)
    stop_at: datetime | None = None
    server_name: str | None = None  # the server whose msdb recorded it (None: not known)


@dataclass(frozen=True, slots=True)
class BackupTraits:
    """What a backup set shares with its neighbours: the database and server it came from, the
    recovery model and fork it ran in, its options and flags, the shape of its media set.

    A never-purged history repeats these a million times, so one value is shared by every set
    that has them (sources build each distinct one once); BackupSet exposes each as its own.
    """

    database_name: str
    server_name: str | None = None
    machine_name: str | None = None
    family_guid: str | None = None
    database_guid: str | None = None
    database_creation_date: datetime | None = None
    first_recovery_fork_guid: str | None = None
    last_recovery_fork_guid: str | None = None
    fork_point_lsn: LSN | None = None
    time_zone: int | None = None
    recovery_model: str | None = None
    is_copy_only: bool = False
    is_snapshot: bool = False
    is_damaged: bool = False
    has_bulk_logged_data: bool = False
    begins_log_chain: bool = False
    has_incomplete_metadata: bool = False
    has_backup_checksums: bool = False
    is_password_protected: bool = False
    key_algorithm: str | None = None
    encryptor_thumbprint: str | None = None
    encryptor_type: str | None = None
    software_major_version: int | None = None
    media_family_count: int | None = None
    mirror_count: int | None = None
    # derived once per traits value: every time key and every chain step asks for them
    utc_offset: timedelta | None = field(init=False, compare=False, repr=False)
    """server-local minus UTC, from time_zone"""
    spans_fork: bool = field(init=False, compare=False, repr=False)
    """the backup starts on one recovery fork and ends on another"""
    is_simple: bool = field(init=False, compare=False, repr=False)
    """taken under the SIMPLE recovery model"""
    lineage_key: str = field(init=False, compare=False, repr=False)
    """the lineage (restore-rules B.7.3): family_guid, else database_guid, else name + creation"""

    def __post_init__(self) -> None:
        tz, first, last = self.time_zone, self.first_recovery_fork_guid, self.last_recovery_fork_guid
        object.__setattr__(self, "utc_offset", None if tz is None else _offset(tz))
        object.__setattr__(self, "spans_fork", first is not None and last is not None and first != last)
        object.__setattr__(self, "is_simple", (self.recovery_model or "").upper() == "SIMPLE")
        object.__setattr__(self, "lineage_key", _lineage_key(self))


TRAIT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(BackupTraits) if f.init)
"""msdb's columns that BackupTraits holds"""


def _lineage_key(t: BackupTraits) -> str:
    if t.family_guid:
        return t.family_guid
    if t.database_guid:
        return f"database_guid:{t.database_guid}"
    created = t.database_creation_date.isoformat() if t.database_creation_date else "?"
    return f"name:{t.database_name}|created:{created}"


def _offset(tz: int) -> timedelta:
    off = _OFFSETS.get(tz)
    if off is None:
        off = _OFFSETS[tz] = timedelta(minutes=15 * tz)
    return off


@dataclass(frozen=True, slots=True)
class BackupSet:
    """One backup set, every msdb column that matters for planning (restore-rules A.1-A.4).

    The columns that differ from set to set are fields; the ones neighbours share live in
    ``traits`` and read as attributes of the set (``s.database_name``). Build one from msdb's
    column names with ``BackupSet.of``.

    Times are server-local and naive, as msdb stores them; ``time_zone`` (15-minute units,
    None when unknown/127) converts them to UTC.
    """

    backup_set_uuid: str
    type: BackupType
    traits: BackupTraits
    first_lsn: LSN
    last_lsn: LSN
    checkpoint_lsn: LSN
    database_backup_lsn: LSN
    backup_start_date: datetime
    backup_finish_date: datetime
    files: tuple[MediaFile, ...]
    backup_set_id: int | None = None
    media_set_id: int | None = None
    position: int = 1
    differential_base_lsn: LSN | None = None
    differential_base_guid: str | None = None
    last_valid_restore_time: datetime | None = None
    backup_size: int | None = None
    compressed_backup_size: int | None = None
    db_files: tuple[DatabaseFile, ...] = ()

    @classmethod
    def of(cls, **columns: Any) -> BackupSet:
        """A set from msdb's column names, the traits among them included."""
        traits = {k: columns.pop(k) for k in TRAIT_FIELDS if k in columns}
        return cls(traits=BackupTraits(**traits), **columns)

    def evolve(self, **changes: Any) -> BackupSet:
        """A copy with some columns changed, traits included."""
        traits = {k: changes.pop(k) for k in TRAIT_FIELDS if k in changes}
        if traits:
            changes["traits"] = replace(self.traits, **traits)
        return replace(self, **changes)

    # -- the traits, read as the set's own columns ------------------------------------
    @property
    def database_name(self) -> str:
        return self.traits.database_name

    @property
    def server_name(self) -> str | None:
        return self.traits.server_name

    @property
    def machine_name(self) -> str | None:
        return self.traits.machine_name

    @property
    def family_guid(self) -> str | None:
        return self.traits.family_guid

    @property
    def database_guid(self) -> str | None:
        return self.traits.database_guid

    @property
    def database_creation_date(self) -> datetime | None:
        return self.traits.database_creation_date

    @property
    def first_recovery_fork_guid(self) -> str | None:
        return self.traits.first_recovery_fork_guid

    @property
    def last_recovery_fork_guid(self) -> str | None:
        return self.traits.last_recovery_fork_guid

    @property
    def fork_point_lsn(self) -> LSN | None:
        return self.traits.fork_point_lsn

    @property
    def time_zone(self) -> int | None:
        return self.traits.time_zone

    @property
    def recovery_model(self) -> str | None:
        return self.traits.recovery_model

    @property
    def is_copy_only(self) -> bool:
        return self.traits.is_copy_only

    @property
    def is_snapshot(self) -> bool:
        return self.traits.is_snapshot

    @property
    def is_damaged(self) -> bool:
        return self.traits.is_damaged

    @property
    def has_bulk_logged_data(self) -> bool:
        return self.traits.has_bulk_logged_data

    @property
    def begins_log_chain(self) -> bool:
        return self.traits.begins_log_chain

    @property
    def has_incomplete_metadata(self) -> bool:
        return self.traits.has_incomplete_metadata

    @property
    def has_backup_checksums(self) -> bool:
        return self.traits.has_backup_checksums

    @property
    def is_password_protected(self) -> bool:
        return self.traits.is_password_protected

    @property
    def key_algorithm(self) -> str | None:
        return self.traits.key_algorithm

    @property
    def encryptor_thumbprint(self) -> str | None:
        return self.traits.encryptor_thumbprint

    @property
    def encryptor_type(self) -> str | None:
        return self.traits.encryptor_type

    @property
    def software_major_version(self) -> int | None:
        return self.traits.software_major_version

    @property
    def media_family_count(self) -> int | None:
        return self.traits.media_family_count

    @property
    def mirror_count(self) -> int | None:
        return self.traits.mirror_count

    # -- derived facts ---------------------------------------------------------------
    @property
    def size_on_disk(self) -> int:
        """Bytes read by a restore: compressed size when known, else backup_size."""
        return self.compressed_backup_size or self.backup_size or 0

    @property
    def utc_offset(self) -> timedelta | None:
        return self.traits.utc_offset

    @property
    def finish_utc(self) -> datetime | None:
        off = self.traits.utc_offset
        return None if off is None else self.backup_finish_date - off

    @property
    def start_utc(self) -> datetime | None:
        off = self.traits.utc_offset
        return None if off is None else self.backup_start_date - off

    @property
    def is_empty_log(self) -> bool:
        return self.type is BackupType.LOG and self.first_lsn.value == self.last_lsn.value

    @property
    def spans_fork(self) -> bool:
        return self.traits.spans_fork

    @property
    def is_virtual_device(self) -> bool:
        files = self.files
        if len(files) == 1:
            return files[0].device_type == DEVICE_TYPE_VIRTUAL
        return any(f.device_type == DEVICE_TYPE_VIRTUAL for f in files)

    @property
    def is_simple(self) -> bool:
        return self.traits.is_simple

    @property
    def families(self) -> dict[int, tuple[MediaFile, ...]]:
        """Mirrors grouped by family sequence number, lowest mirror first."""
        out: dict[int, list[MediaFile]] = {}
        for f in self.files:
            out.setdefault(f.family_sequence_number, []).append(f)
        return {k: tuple(sorted(v, key=lambda m: m.mirror)) for k, v in sorted(out.items())}

    @property
    def missing_families(self) -> tuple[int, ...]:
        """Family numbers 1..media_family_count with no file recorded (restore error 3132)."""
        count = self.traits.media_family_count
        if not count or (count == 1 and self.files):
            return ()
        present = {f.family_sequence_number for f in self.files}
        return tuple(n for n in range(1, count + 1) if n not in present)

    def devices(self) -> tuple[str, ...]:
        """One device per family, the lowest mirror, in family order (as SMO does).

        Mirrors of one family are interchangeable. The core does not look at disks: a loader that
        checked the files (``--check-files``) keeps only the mirrors it found, so the lowest
        mirror left is one that exists.
        """
        return tuple(mirrors[0].physical_device_name for mirrors in self.families.values())

    @property
    def lineage_key(self) -> str:
        """Lineage identity: family_guid; never the name alone (restore-rules B.7.3)."""
        return self.traits.lineage_key
