"""Synthetic SQL Server backup files (MTF, and MSSQLBAK with a literal-only XPRESS Huffman encoder).

The layout follows docs of the backup file format: TAPE (RAID stream), SFMB, then per set SSET,
VOLB, MSCI (MQCI with SCIN), MSDA or MSTL, MSLS (final SCIN), SFMB, ESET, ESET, and a final SFMB.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime

ALIGN = 512


def lsn_parts(n: int) -> bytes:
    """numeric(25,0) LSN -> the 10 on-disk bytes."""
    return struct.pack("<IIH", n // 10**15, (n // 10**5) % 10**10, n % 10**5)


def mtf_date(d: datetime | None) -> bytes:
    if d is None:
        return bytes(5)
    v = d.year << 26 | d.month << 22 | d.day << 17 | d.hour << 12 | d.minute << 6 | d.second
    return v.to_bytes(5, "big")


def _xor16(buf: bytes | bytearray) -> int:
    acc = 0
    for (w,) in struct.iter_unpack("<H", bytes(buf)):
        acc ^= w
    return acc


@dataclass
class SetSpec:
    """One backup set to write; LSNs in numeric(25,0) form."""

    backup_type: str = "D"
    database_name: str = "SalesDB"
    server_name: str = "SRV01\\PROD"
    machine_name: str = "SRV01"
    backup_set_guid: uuid.UUID = field(default_factory=uuid.uuid4)
    family_guid: uuid.UUID = uuid.UUID("11111111-2222-3333-4444-555555555555")
    fork_guid: uuid.UUID = uuid.UUID("66666666-7777-8888-9999-aaaaaaaaaaaa")
    first_lsn: int = 34000000006000065
    last_lsn: int = 34000000008800001
    checkpoint_lsn: int = 34000000006000065
    database_backup_lsn: int = 0
    differential_base_lsn: int = 0
    differential_base_guid: uuid.UUID | None = None
    creation: datetime = datetime(2020, 1, 2, 3, 4, 5)
    start: datetime = datetime(2024, 3, 10, 14, 0, 0)
    finish: datetime = datetime(2024, 3, 10, 14, 0, 7)
    software: tuple[int, int, int] = (13, 0, 5081)
    backup_size: int = 2_845_696
    checksums: bool = True
    data_len: int = 8192


def _block(
    kind: bytes, fixed: bytes, streams: list[tuple[bytes, bytes]], *, size: int = 0
) -> bytes:
    """A DBLK (header checksum set) with its streams and a final SPAD to a 512 boundary."""
    first_event = max(52, len(fixed))
    if first_event % 4:
        first_event += 4 - first_event % 4
    hdr = bytearray(first_event)
    hdr[: len(fixed)] = fixed
    hdr[0:4] = kind
    struct.pack_into("<IH", hdr, 4, 0, first_event)
    hdr[10], hdr[11] = 14, 1
    hdr[50:52] = b"\0\0"
    struct.pack_into("<H", hdr, 50, _xor16(hdr[:52]))
    out = bytearray(hdr)
    if size:  # a block without streams (SFMB)
        struct.pack_into("<H", out, 8, size)
        out[50:52] = b"\0\0"
        struct.pack_into("<H", out, 50, _xor16(out[:52]))
        return bytes(out.ljust(size, b"\0"))
    for skind, data in streams:
        out += _stream(skind, data)
        while len(out) % 4:
            out += b"\0"
    pad_start = len(out)
    end = ((pad_start + 22 + ALIGN - 1) // ALIGN) * ALIGN
    out += _stream(b"SPAD", bytes(end - pad_start - 22))
    return bytes(out)


def _stream(kind: bytes, data: bytes) -> bytes:
    sh = bytearray(22)
    sh[0:4] = kind
    struct.pack_into("<Q", sh, 8, len(data))
    struct.pack_into("<H", sh, 20, _xor16(sh[:20]))
    return bytes(sh) + data


def _fixed(kind: bytes, size: int) -> bytearray:
    b = bytearray(size)
    b[0:4] = kind
    return b


def tape_block(media_set_guid: uuid.UUID, family_count: int, family_seq: int) -> bytes:
    raid = bytearray(32)
    raid[0:16] = media_set_guid.bytes_le
    struct.pack_into("<H", raid, 20, family_count)
    struct.pack_into("<H", raid, 24, family_seq)
    return _block(b"TAPE", _fixed(b"TAPE", 0x8C), [(b"RAID", bytes(raid))])


def sfmb_block() -> bytes:
    return _block(b"SFMB", _fixed(b"SFMB", 52), [], size=ALIGN)


def scin_record(s: SetSpec, final: bool) -> bytes:
    names = s.database_name.encode("utf-16-le"), s.server_name.encode("utf-16-le")
    base = 0x1E0
    length = base + sum(len(n) for n in names)
    r = bytearray(length)
    r[0:4] = b"SCIN"
    struct.pack_into("<I", r, 4, length)
    flags = (0x10 if s.checksums else 0) | (0x800 if s.backup_type == "I" else 0)
    struct.pack_into("<I", r, 0x08, flags)
    major, minor, build = s.software
    struct.pack_into("<HBB", r, 0x18, build, minor, major)
    for off, v in ((0x20, s.first_lsn), (0x2A, s.last_lsn), (0x34, s.checkpoint_lsn),
                   (0x3E, s.database_backup_lsn), (0x104, s.differential_base_lsn),
                   (0x90, s.first_lsn)):  # fmt: skip
        r[off : off + 10] = lsn_parts(v)
    r[0x48:0x4D] = mtf_date(s.creation)
    r[0x4D:0x52] = mtf_date(s.start)
    r[0x52:0x57] = mtf_date(s.finish if final else None)
    r[0x57] = ord(s.backup_type)
    struct.pack_into("<Q", r, 0x60, s.backup_size)
    pos = base
    for desc, n in zip((0x68, 0x6C), names, strict=True):
        struct.pack_into("<HH", r, desc, len(n), pos)
        r[pos : pos + len(n)] = n
        pos += len(n)
    r[0x9C:0xAC] = s.fork_guid.bytes_le
    r[0xE0:0xF0] = s.family_guid.bytes_le
    if s.differential_base_guid is not None:
        r[0x110:0x120] = s.differential_base_guid.bytes_le
    return bytes(r) + b"SFGI" + bytes(60)  # what follows SCIN is not decoded


def set_blocks(s: SetSpec, position: int) -> bytes:
    """SSET .. ESET ESET for one set (starting at a 512-aligned offset)."""
    sset = _fixed(b"SSET", 0x90)
    struct.pack_into("<I", sset, 52, 8 if s.backup_type == "I" else 4)
    struct.pack_into("<H", sset, 62, position)
    sset[88:93] = mtf_date(s.start)
    sset[93], sset[94] = s.software[0], s.software[1]
    sset[0x64:0x74] = s.backup_set_guid.bytes_le
    machine = s.machine_name.encode("utf-16-le")
    volb = _fixed(b"VOLB", 0x48 + len(machine))
    struct.pack_into("<HH", volb, 64, len(machine), 0x48)
    volb[0x48 : 0x48 + len(machine)] = machine
    out = bytearray()
    out += _block(b"SSET", sset, [])
    out += _block(b"VOLB", volb, [])
    out += _block(b"MSCI", _fixed(b"MSCI", 0x38), [(b"MQCI", scin_record(s, False))])
    payload = bytes((i * 7) & 0xFF for i in range(s.data_len))
    if s.backup_type in "DI":
        out += _block(b"MSDA", _fixed(b"MSDA", 0x3C), [(b"MQDA", payload), (b"MQDA", b"")])
    out += _block(b"MSTL", _fixed(b"MSTL", 0x250), [(b"MQTL", payload[:4096])])
    out += _block(b"MSLS", _fixed(b"MSLS", 0x38), [(b"MQCI", scin_record(s, True))])
    out += sfmb_block()
    eset = _fixed(b"ESET", 0x58)
    struct.pack_into("<I", eset, 52, 4)
    struct.pack_into("<H", eset, 78, position)
    out += _block(b"ESET", eset, [(b"OTCP", bytes(64))])
    out += _block(b"ESET", _fixed(b"ESET", 0x58), [])
    return bytes(out)


def build_file(
    sets: list[SetSpec],
    *,
    media_set_guid: uuid.UUID | None = None,
    family_count: int = 1,
    family_seq: int = 1,
) -> bytes:
    """An uncompressed MTF backup file holding ``sets`` at positions 1..n."""
    out = bytearray(tape_block(media_set_guid or uuid.uuid4(), family_count, family_seq))
    out += sfmb_block()
    for i, s in enumerate(sets, start=1):
        out += set_blocks(s, i)
        out += sfmb_block()
    return bytes(out)


# --- MSSQLBAK (MS_XPRESS) ---------------------------------------------------------------------


def _words_after(bits: int) -> int:
    """16-bit words the dissect/MS-XCA decoder has read after consuming ``bits`` bits."""
    return 2 + max(0, -(-(bits - 16) // 16))


def _encodable(n: int) -> bool:
    """A literal-only block of n bytes ends exactly when the input is used up."""
    return n > 4 and _words_after(9 * n) > _words_after(9 * (n - 1))


_BITS9 = [f"{b:09b}" for b in range(256)]


def xpress_literals(data: bytes) -> bytes:
    """LZ77+Huffman (MS-XCA 2.2) with every symbol 9 bits long: literals only, no matches."""
    assert _encodable(len(data)) and len(data) <= 65536
    acc = int("".join(_BITS9[b] for b in data), 2)
    nbits = 9 * len(data)
    words = _words_after(nbits)
    acc <<= words * 16 - nbits
    out = bytearray(b"\x99" * 256)
    raw = acc.to_bytes(words * 2, "big")
    out += b"".join(raw[i + 1 : i + 2] + raw[i : i + 1] for i in range(0, len(raw), 2))
    return bytes(out)


def _split(data: bytes, first: int, size: int) -> list[bytes]:
    """Split into encodable pieces of at most the wanted sizes."""
    out: list[bytes] = []
    pos = 0
    want = first
    while pos < len(data):
        left = len(data) - pos
        n = min(want, left)
        while not (_encodable(n) and (n == left or left - n > 64 or _encodable(left - n))):
            n -= 1
        out.append(data[pos : pos + n])
        pos += n
        want = size
    return out


def _record(payload: bytes, signature: bytes, seq: int) -> bytes:
    comp = xpress_literals(payload)
    units = min(0x80, -(-len(payload) // 512))
    hdr = bytearray(28)
    struct.pack_into("<HH", hdr, 0, 0x21 | units << 8, len(comp))
    struct.pack_into("<I", hdr, 4, 0x19E11A30 + seq)
    hdr[8:20] = signature
    struct.pack_into("<I", hdr, 24, zlib.crc32(comp))
    return bytes(hdr) + comp


def build_compressed(
    s: SetSpec, *, signature: bytes = bytes.fromhex("9c120000608175dd01000000")
) -> bytes:
    """A single-set MSSQLBAK file: header, SFMB, XPRESS records, raw SFMB, ESET record, SFMB."""
    body = set_blocks(s, 1)
    eset_at = body.rfind(b"ESET", 0, body.rfind(b"ESET"))
    sfmb_at = eset_at - ALIGN
    main, eset = body[:sfmb_at], body[eset_at:]
    data_at = main.find(b"MSDA") if s.backup_type in "DI" else main.find(b"MSTL")
    tail_at = main.find(b"MSTL")
    head = main[: data_at + 600]
    pieces = [head] + _split(main[data_at + 600 : tail_at], 56000, 56000) + [main[tail_at:]]
    out = bytearray(b"MSSQLBAK" + struct.pack("<II", 2, 3)).ljust(0x400, b"\0")
    out += sfmb_block()
    seq = 0
    for piece in pieces:
        for part in _split(piece, 7000, 56000):
            out += _record(part, signature, seq)
            seq += 1
    out += bytes(-len(out) % ALIGN)
    out += sfmb_block()
    for part in _split(eset, 4000, 56000):
        out += _record(part, signature, seq)
        seq += 1
    out += bytes(-len(out) % ALIGN)
    out += sfmb_block()
    return bytes(out)
