"""The SCIN record (SQL Server backup metadata at the start of an MQCI stream) and value codecs."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from datetime import datetime

from restoreplan.sources.bakfile.source import FormatProblem

SCIN_MIN_LEN = 0x120  # the last field used (+0x110 GUID) ends here
BACKUP_TYPES = frozenset("DIL")
FLAG_CHECKSUMS = 0x10


def lsn_from(buf: bytes, off: int) -> int:
    """A 10-byte on-disk LSN (u32 VLF, u32 block, u16 slot) as its numeric(25,0) integer."""
    vlf, block, slot = struct.unpack_from("<IIH", buf, off)
    return vlf * 10**15 + block * 10**5 + slot


def guid_from(buf: bytes, off: int) -> str | None:
    """A .NET-ordered GUID as lowercase canonical text; None when all zero."""
    raw = buf[off : off + 16]
    if len(raw) != 16:
        raise FormatProblem("GUID outside the record", off)
    if raw == bytes(16):
        return None
    return str(uuid.UUID(bytes_le=raw))


def mtf_date(buf: bytes, off: int) -> datetime | None:
    """The MTF 5-byte packed date (year 14 bits, month 4, day 5, hour 5, minute 6, second 6)."""
    raw = buf[off : off + 5]
    if len(raw) != 5:
        raise FormatProblem("date outside the record", off)
    v = int.from_bytes(raw, "big")
    if v == 0:
        return None
    year, month, day = v >> 26, (v >> 22) & 0xF, (v >> 17) & 0x1F
    hour, minute, second = (v >> 12) & 0x1F, (v >> 6) & 0x3F, v & 0x3F
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise FormatProblem(f"invalid packed date {raw.hex()}", off) from None


def utf16_at(buf: bytes, desc_off: int, base: int = 0) -> str | None:
    """A (u16 size, u16 offset-from-``base``) UTF-16LE string; None when empty."""
    size, rel = struct.unpack_from("<HH", buf, desc_off)
    if size == 0:
        return None
    start = base + rel
    raw = buf[start : start + size]
    if len(raw) != size or size % 2:
        raise FormatProblem(f"string ({size} bytes at +{rel:#x}) outside its record", desc_off)
    try:
        return raw.decode("utf-16-le").rstrip("\x00") or None
    except UnicodeDecodeError:
        raise FormatProblem("string is not valid UTF-16", desc_off) from None


@dataclass(frozen=True, slots=True)
class Scin:
    """The decoded SCIN fields (offsets: docs of the backup file format, section 2)."""

    flags: int
    software_major: int
    software_minor: int
    software_build: int
    first_lsn: int
    last_lsn: int
    checkpoint_lsn: int
    database_backup_lsn: int
    database_creation_date: datetime | None
    backup_start_date: datetime | None
    backup_finish_date: datetime | None
    backup_type: str
    backup_size: int
    database_name: str | None
    server_name: str | None
    fork_lsn: int
    fork_guid: str | None
    previous_fork_lsn: int
    previous_fork_guid: str | None
    family_guid: str | None
    differential_base_lsn: int
    differential_base_guid: str | None


def parse_scin(buf: bytes, where: int) -> Scin:
    """Decode the SCIN record at the start of ``buf``; ``where`` is its file offset (for errors)."""
    if buf[:4] != b"SCIN":
        raise FormatProblem(
            f"MQCI stream does not start with a SCIN record ({buf[:4].hex()})", where
        )
    if len(buf) < 8:
        raise FormatProblem("SCIN record is cut short", where)
    (length,) = struct.unpack_from("<I", buf, 4)
    if length < SCIN_MIN_LEN or length > len(buf):
        raise FormatProblem(
            f"SCIN record length {length} is out of range ({SCIN_MIN_LEN}..{len(buf)})", where
        )
    rec = buf[:length]
    try:
        letter = chr(rec[0x57])
        if letter not in BACKUP_TYPES:
            raise FormatProblem(f"unsupported backup type letter {letter!r} in SCIN", 0x57)
        (flags,) = struct.unpack_from("<I", rec, 0x08)
        build, minor, major = struct.unpack_from("<HBB", rec, 0x18)
        (size,) = struct.unpack_from("<Q", rec, 0x60)
        return Scin(
            flags=flags,
            software_major=major,
            software_minor=minor,
            software_build=build,
            first_lsn=lsn_from(rec, 0x20),
            last_lsn=lsn_from(rec, 0x2A),
            checkpoint_lsn=lsn_from(rec, 0x34),
            database_backup_lsn=lsn_from(rec, 0x3E),
            database_creation_date=mtf_date(rec, 0x48),
            backup_start_date=mtf_date(rec, 0x4D),
            backup_finish_date=mtf_date(rec, 0x52),
            backup_type=letter,
            backup_size=size,
            database_name=utf16_at(rec, 0x68),
            server_name=utf16_at(rec, 0x6C),
            fork_lsn=lsn_from(rec, 0x90),
            fork_guid=guid_from(rec, 0x9C),
            previous_fork_lsn=lsn_from(rec, 0xAC),
            previous_fork_guid=guid_from(rec, 0xB8),
            family_guid=guid_from(rec, 0xE0),
            differential_base_lsn=lsn_from(rec, 0x104),
            differential_base_guid=guid_from(rec, 0x110),
        )
    except FormatProblem as exc:
        raise FormatProblem(exc.message, where + (exc.offset or 0)) from None
    except struct.error:
        raise FormatProblem("SCIN record is cut short", where) from None
