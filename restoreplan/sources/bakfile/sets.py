"""Assemble backup-set rows (msdb column names) from decoded MTF blocks and SCIN records."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, fields
from datetime import datetime

from restoreplan.sources.bakfile.mtf import Block
from restoreplan.sources.bakfile.scin import Scin, guid_from, utf16_at
from restoreplan.sources.bakfile.source import FormatProblem

SSET_MIN = 0x74  # fixed part up to the end of the BackupSetGUID at +0x64
ESET_SET_NUMBER = 78
MAX_FAMILIES = 64  # BACKUP ... TO at most 64 devices
# The first (MSCI) and final (MSLS) SCIN copies were byte-identical on all 93 sample sets except
# for these fields; every other field is read from both and must agree (a cheap integrity check,
# since the MTF checksums cover only block and stream headers, not the SCIN record itself).
SCIN_FINAL_ONLY = frozenset({"backup_finish_date", "backup_size"})

ROW_KEYS: tuple[str, ...] = (
    "backup_set_uuid",
    "type",
    "first_lsn",
    "last_lsn",
    "checkpoint_lsn",
    "database_backup_lsn",
    "differential_base_lsn",
    "differential_base_guid",
    "first_recovery_fork_guid",
    "last_recovery_fork_guid",
    "fork_point_lsn",
    "family_guid",
    "database_name",
    "server_name",
    "machine_name",
    "database_creation_date",
    "backup_start_date",
    "backup_finish_date",
    "position",
    "media_family_count",
    "family_sequence_number",
    "mirror",
    "physical_device_name",
    "software_major_version",
    "is_compressed",
    "backup_size",
    "compressed_backup_size",
    "has_backup_checksums",
    "recovery_model",
    "is_copy_only",
    "media_set_guid",
)


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """TAPE block / RAID stream facts shared by every set in a file."""

    media_set_guid: str | None
    family_count: int | None
    family_sequence: int | None


@dataclass(frozen=True, slots=True)
class SsetInfo:
    """What the SSET block holds: the set's position, GUID and kind."""

    offset: int
    position: int
    backup_set_uuid: str
    attributes: int
    software_major: int


@dataclass(slots=True)
class PendingSet:
    """A backup set while its blocks are being read."""

    sset: SsetInfo
    machine_name: str | None = None
    first: Scin | None = None
    final: Scin | None = None
    final_offset: int | None = None  # file offset of the final SCIN copy (for messages)
    notes: list[str] = field(default_factory=list)


def parse_raid(data: bytes, where: int) -> MediaInfo:
    """TAPE block RAID stream: MediaSetGUID, FamilyCount (+20), FamilySequenceNumber (+24)."""
    if len(data) < 26:
        raise FormatProblem("RAID stream is too short", where)
    count, seq = struct.unpack_from("<H2xH", data, 20)
    if not 1 <= count <= MAX_FAMILIES or not 1 <= seq <= count:
        raise FormatProblem(
            f"impossible media family numbers in the RAID stream: family {seq} of {count}", where
        )
    return MediaInfo(guid_from(data, 0), count, seq)


def parse_sset(block: Block) -> SsetInfo:
    """SSET: attributes (+52), data set number = Position (+62), BackupSetGUID (+0x64)."""
    f = block.fixed
    if len(f) < SSET_MIN:
        raise FormatProblem("SSET block fixed part is too short", block.offset)
    (attributes,) = struct.unpack_from("<I", f, 52)
    (position,) = struct.unpack_from("<H", f, 62)
    guid = guid_from(f, 0x64)
    if guid is None:
        raise FormatProblem("SSET block has no backup set GUID", block.offset + 0x64)
    if position == 0:
        raise FormatProblem("SSET block has position 0", block.offset + 62)
    return SsetInfo(block.offset, position, guid, attributes, f[93])


def parse_volb_machine(block: Block) -> str | None:
    """VOLB: machine name (MTF tape address at +64, offset from the block start)."""
    f = block.fixed
    if len(f) < 68:
        raise FormatProblem("VOLB block fixed part is too short", block.offset)
    try:
        return utf16_at(f, 64)
    except FormatProblem as exc:
        raise FormatProblem(f"VOLB machine name: {exc.message}", block.offset + 64) from None


def eset_set_number(block: Block) -> int | None:
    """ESET: the data set number it closes (+78), when present."""
    if len(block.fixed) < ESET_SET_NUMBER + 2:
        return None
    (n,) = struct.unpack_from("<H", block.fixed, ESET_SET_NUMBER)
    return n


def _fork_fields(s: Scin) -> tuple[str | None, str | None, int | None]:
    """first/last recovery fork GUIDs and fork point.

    The SCIN holds the current fork (its GUID and start LSN) and the previous one. A log backup whose
    range [first_lsn, last_lsn] contains the current fork's start spans both forks; anything else
    lies on the current fork only.
    """
    last = s.fork_guid
    if (
        s.backup_type == "L"
        and s.previous_fork_guid is not None
        and s.fork_lsn
        and s.first_lsn < s.fork_lsn <= s.last_lsn
    ):
        return s.previous_fork_guid, last, s.fork_lsn
    return last, last, None


def build_row(
    pending: PendingSet,
    media: MediaInfo | None,
    device: str,
    *,
    compressed: bool,
    file_size: int,
) -> dict[str, object]:
    """The canonical row for one set of one file, or FormatProblem when it is incomplete."""
    where = pending.sset.offset
    if pending.first is None:
        raise FormatProblem(
            f"backup set at position {pending.sset.position} has no metadata (MSCI/SCIN)", where
        )
    if pending.final is None:
        raise FormatProblem(
            f"backup set at position {pending.sset.position} has no final metadata copy (MSLS); "
            "the backup is incomplete or truncated",
            where,
        )
    first, s = pending.first, pending.final
    final_at = pending.final_offset if pending.final_offset is not None else where
    differ = [
        f.name
        for f in fields(Scin)
        if f.name not in SCIN_FINAL_ONLY and getattr(first, f.name) != getattr(s, f.name)
    ]
    if differ:
        raise FormatProblem(
            f"the two metadata copies (MSCI, MSLS) of the set at position "
            f"{pending.sset.position} disagree on {', '.join(differ)}: the file is damaged",
            final_at,
        )
    start: datetime | None = s.backup_start_date
    finish: datetime | None = s.backup_finish_date
    if start is None or finish is None:
        raise FormatProblem(
            "backup start or finish date is missing in the final metadata", final_at
        )
    if finish < start:
        raise FormatProblem(
            f"backup finish date {finish} is before its start date {start}: damaged metadata",
            final_at,
        )
    if s.database_name is None:
        raise FormatProblem("the database name is missing in the metadata", where)
    first_fork, last_fork, fork_point = _fork_fields(s)
    diff = s.backup_type == "I"
    return {
        "backup_set_uuid": pending.sset.backup_set_uuid,
        "type": s.backup_type,
        "first_lsn": s.first_lsn,
        "last_lsn": s.last_lsn,
        "checkpoint_lsn": s.checkpoint_lsn,
        "database_backup_lsn": s.database_backup_lsn,
        "differential_base_lsn": s.differential_base_lsn
        if diff and s.differential_base_lsn
        else None,
        "differential_base_guid": s.differential_base_guid if diff else None,
        "first_recovery_fork_guid": first_fork,
        "last_recovery_fork_guid": last_fork,
        "fork_point_lsn": fork_point,
        "family_guid": s.family_guid,
        "database_name": s.database_name,
        "server_name": s.server_name,
        "machine_name": pending.machine_name,
        "database_creation_date": s.database_creation_date,
        "backup_start_date": start,
        "backup_finish_date": finish,
        "position": pending.sset.position,
        "media_family_count": media.family_count if media else None,
        "family_sequence_number": media.family_sequence if media else None,
        "mirror": 0,
        "physical_device_name": device,
        "software_major_version": s.software_major or pending.sset.software_major or None,
        "is_compressed": compressed,
        "backup_size": s.backup_size or None,
        "compressed_backup_size": file_size if compressed else None,
        "has_backup_checksums": bool(s.flags & 0x10),
        "recovery_model": None,
        "is_copy_only": None,
        "media_set_guid": media.media_set_guid if media else None,
    }
