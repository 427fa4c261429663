"""Microsoft Tape Format: walk descriptor blocks (DBLKs) and their stream headers.

Every DBLK header and stream header is verified with its XOR-16 checksum; the position of the
next block is always computed from the stream lengths, never assumed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from restoreplan.sources.bakfile.source import ChunkCache, FormatProblem

DBLK_HEADER = 52
STREAM_HEADER = 22
ALIGN = 512
MAX_FIXED_PART = 1024
# Standard MTF descriptor blocks and the SQL Server ones seen in backups.
DBLK_TYPES = frozenset(
    {
        b"TAPE",
        b"SSET",
        b"VOLB",
        b"DIRB",
        b"FILE",
        b"CFIL",
        b"ESPB",
        b"ESET",
        b"EOTM",
        b"SFMB",
        b"MSCI",
        b"MSDA",
        b"MSTL",
        b"MSLS",
    }
)
_U16 = struct.Struct("<H")


def xor16(buf: bytes) -> int:
    """XOR of all little-endian 16-bit words of ``buf`` (0 for a valid MTF header)."""
    n = len(buf) // 2
    acc = 0
    for word in struct.unpack_from(f"<{n}H", buf):
        acc ^= word
    return acc


def _tag_ok(tag: bytes) -> bool:
    return len(tag) == 4 and all(0x41 <= c <= 0x5A for c in tag)


@dataclass(frozen=True, slots=True)
class Stream:
    """One stream header inside a DBLK's stream area."""

    kind: str
    offset: int
    length: int
    encryption: int
    compression: int

    @property
    def data_offset(self) -> int:
        return self.offset + STREAM_HEADER


@dataclass(frozen=True, slots=True)
class Block:
    """A descriptor block: its type, position, fixed part and streams."""

    kind: str
    offset: int
    attributes: int
    fixed: bytes
    streams: tuple[Stream, ...]
    end: int

    def stream(self, kind: str) -> Stream | None:
        return next((s for s in self.streams if s.kind == kind), None)


def _is_block_at(r: ChunkCache, pos: int, start: int, limit: int) -> bool:
    if (pos - start) % ALIGN or pos + DBLK_HEADER > limit:
        return False
    hdr = r.read(pos, DBLK_HEADER)
    return len(hdr) == DBLK_HEADER and hdr[:4] in DBLK_TYPES and xor16(hdr) == 0


def iter_blocks(r: ChunkCache, start: int = 0, end: int | None = None) -> Iterator[Block]:
    """Yield DBLKs from ``start`` until ``end`` (default: end of file); FormatProblem on damage."""
    limit = r.size if end is None else min(end, r.size)
    pos = start
    while pos < limit:
        if pos + DBLK_HEADER > limit:
            raise FormatProblem(
                f"file ends inside a descriptor block header ({limit - pos} bytes left)", pos
            )
        hdr = r.read_exact(pos, DBLK_HEADER, "a descriptor block header")
        tag = hdr[:4]
        if not _tag_ok(tag):
            raise FormatProblem(f"expected a descriptor block, found bytes {tag.hex()}", pos)
        if xor16(hdr) != 0:
            raise FormatProblem(f"{tag.decode()} block header checksum mismatch", pos)
        kind = tag.decode()
        attributes, first_event = struct.unpack_from("<IH", hdr, 4)
        if first_event < DBLK_HEADER:
            raise FormatProblem(
                f"{kind} block: first-stream offset {first_event} is too small", pos
            )
        fixed = r.read_exact(pos, min(first_event, MAX_FIXED_PART), f"the {kind} block")
        streams: list[Stream] = []
        s = pos + first_event
        if s < limit and not _is_block_at(r, s, start, limit):
            while True:
                sh = r.read_exact(s, STREAM_HEADER, f"a stream header of the {kind} block")
                if not _tag_ok(sh[:4]) or xor16(sh) != 0:
                    raise FormatProblem(
                        f"invalid stream header in the {kind} block at {pos:#x} "
                        f"(type bytes {sh[:4].hex()}, checksum {'ok' if xor16(sh) == 0 else 'bad'})",
                        s,
                    )
                skind = sh[:4].decode()
                (length,) = struct.unpack_from("<Q", sh, 8)
                enc, comp = struct.unpack_from("<HH", sh, 16)
                data_end = s + STREAM_HEADER + length
                if data_end > limit:
                    raise FormatProblem(
                        f"stream {skind} of the {kind} block at {pos:#x} claims {length} bytes "
                        f"but the data ends at {limit:#x} (truncated file?)",
                        s,
                    )
                streams.append(Stream(skind, s, length, enc, comp))
                s = (data_end + 3) & ~3
                if skind == "SPAD" or _is_block_at(r, s, start, limit):
                    break
                if s >= limit:
                    raise FormatProblem(f"data ends inside the {kind} block's streams", s)
        if s > limit:
            raise FormatProblem(f"the {kind} block extends past the end of the data", pos)
        if (s - start) % ALIGN and s < limit:
            raise FormatProblem(f"the block after {kind} at {pos:#x} is not 512-aligned", s)
        yield Block(kind, pos, attributes, fixed, tuple(streams), s)
        pos = s


def read_stream_data(r: ChunkCache, stream: Stream, length: int) -> bytes:
    """The first ``length`` bytes (at most the stream's length) of a stream's data."""
    want = min(length, stream.length)
    return r.read_exact(stream.data_offset, want, f"the {stream.kind} stream data")
