"""Compressed backups: the ``MSSQLBAK`` container of MS-XCA LZ77+Huffman (MS_XPRESS) records.

Only the records that hold metadata are read: the first one (SSET, VOLB, MSCI with the first
SCIN copy) and the last descriptor records near the end of the file (MSLS, the final copy),
found by scanning a window at the tail for record headers.
"""

from __future__ import annotations

import struct

from restoreplan.sources.bakfile import mtf
from restoreplan.sources.bakfile.scin import parse_scin
from restoreplan.sources.bakfile.sets import (
    PendingSet,
    build_row,
    eset_set_number,
    parse_sset,
    parse_volb_machine,
)
from restoreplan.sources.bakfile.source import BytesSource, ChunkCache, FormatProblem

RECORD_HEADER = 28
FIRST_RECORD = 0x600
SFMB_OFFSET = 0x400
XPRESS_KIND = 0x21
DATA_EXTENT = 0x80  # high byte of a 64 KiB data record
TAIL_WINDOWS = (32 * 1024, 256 * 1024, 4 * 1024 * 1024)
SCIN_READ = 2048
# Between the last record and the closing SFMB: 533 bytes in the SQL Server 2014 sample (a small
# trailer and zero padding). Anything much larger is not the end of this backup (e.g. another
# backup file appended to it).
MAX_TRAILER = 4096


def _decompress(payload: bytes, where: int) -> bytes:
    from dissect.util.compression import lzxpress_huffman

    try:
        return lzxpress_huffman.decompress(payload)
    except Exception as exc:  # third-party decoder on damaged input: any failure is data
        raise FormatProblem(
            f"LZ77+Huffman record does not decompress ({type(exc).__name__})", where
        ) from None


def _record_header(hdr: bytes, where: int) -> tuple[int, int]:
    kind, clen = struct.unpack_from("<HH", hdr, 0)
    if kind & 0xFF != XPRESS_KIND:
        raise FormatProblem(
            f"unsupported compression: record kind {kind:#06x} is not MS_XPRESS "
            "(QAT_DEFLATE, ZSTD and other formats are not supported)",
            where,
        )
    if clen == 0:
        raise FormatProblem("compressed record of length 0", where)
    return kind, clen


def _blocks_in(buf: bytes, start: int = 0) -> list[mtf.Block]:
    """The DBLKs that lie completely inside a decompressed buffer, from ``start``."""
    out: list[mtf.Block] = []
    r = ChunkCache(BytesSource(buf), chunk=max(1, len(buf)), max_chunks=1)
    try:
        for block in mtf.iter_blocks(r, start):
            out.append(block)
    except FormatProblem:
        pass  # the buffer ends inside a data stream: every block before it is complete
    return out


def _head(r: ChunkCache) -> tuple[PendingSet, bytes]:
    head = r.read_exact(0, FIRST_RECORD + RECORD_HEADER, "the compressed file header")
    major, minor = struct.unpack_from("<II", head, 8)
    if (major, minor) != (2, 3):
        raise FormatProblem(f"unsupported MSSQLBAK container version {major}.{minor}", 8)
    sfmb = head[SFMB_OFFSET : SFMB_OFFSET + mtf.DBLK_HEADER]
    if sfmb[:4] != b"SFMB" or mtf.xor16(sfmb) != 0:
        raise FormatProblem("no valid SFMB block in the compressed file header", SFMB_OFFSET)
    hdr = head[FIRST_RECORD:]
    _kind, clen = _record_header(hdr, FIRST_RECORD)
    payload = r.read_exact(FIRST_RECORD + RECORD_HEADER, clen, "the first compressed record")
    out = _decompress(payload, FIRST_RECORD)
    blocks = _blocks_in(out)
    if not blocks or blocks[0].kind != "SSET":
        raise FormatProblem(
            "the first compressed record does not start with an SSET block", FIRST_RECORD
        )
    pending = PendingSet(parse_sset(blocks[0]))
    src = ChunkCache(BytesSource(out), chunk=max(1, len(out)), max_chunks=1)
    for block in blocks[1:]:
        if block.kind == "VOLB":
            pending.machine_name = parse_volb_machine(block)
        elif block.kind == "MSCI":
            stream = block.stream("MQCI")
            if stream is None:
                raise FormatProblem("MSCI block without MQCI stream", FIRST_RECORD)
            data = mtf.read_stream_data(src, stream, SCIN_READ)
            pending.first = parse_scin(data, FIRST_RECORD)
            break
    if pending.first is None:
        raise FormatProblem("no MSCI metadata block in the first compressed record", FIRST_RECORD)
    return pending, hdr[8:20]


def _tail_records(
    window: bytes, base: int, size: int, signature: bytes
) -> list[tuple[int, int, int]]:
    """(offset, kind, compressed length) of record headers found in a tail window."""
    found: list[tuple[int, int, int]] = []
    i = window.find(signature, 8)
    while i != -1:
        at = i - 8
        kind, clen = struct.unpack_from("<HH", window, at)
        end = base + at + RECORD_HEADER + clen
        if (
            kind & 0xFF == XPRESS_KIND
            and clen
            and window[at + 20 : at + 24] == bytes(4)
            and end <= size
        ):
            found.append((base + at, kind, clen))
        i = window.find(signature, i + 1)
    return found


def _closing_sfmb(r: ChunkCache, records_end: int) -> None:
    """The file must end with a raw SFMB block after the last record (as every MTF file does).

    Without it the file was cut in its closing blocks or has bytes appended: not a file SQL Server
    wrote, so it is refused rather than read as complete (its size would also be wrong).
    """
    at = r.size - mtf.ALIGN
    hdr = r.read(at, mtf.DBLK_HEADER) if at >= records_end else b""
    if at - records_end > MAX_TRAILER:
        raise FormatProblem(
            f"{at - records_end} unexplained bytes between the last compressed record (ending at "
            f"{records_end:#x}) and the closing SFMB block: another file appended?",
            records_end,
        )
    if (
        r.size % mtf.ALIGN
        or len(hdr) != mtf.DBLK_HEADER
        or hdr[:4] != b"SFMB"
        or mtf.xor16(hdr) != 0
    ):
        raise FormatProblem(
            "the compressed file does not end with the closing SFMB block after its last record "
            f"(which ends at {records_end:#x}): truncated, or bytes appended",
            max(records_end, at),
        )


def _final_copy(r: ChunkCache, pending: PendingSet, signature: bytes) -> None:
    """Find the last MSLS block (final SCIN) and ESET in the descriptor records at the tail."""
    for window_size in TAIL_WINDOWS:
        base = max(FIRST_RECORD + RECORD_HEADER, r.size - window_size)
        window = r.read_direct(base, r.size - base)
        records = [
            rec
            for rec in _tail_records(window, base, r.size, signature)
            if rec[1] >> 8 < DATA_EXTENT
        ]
        # decompress consecutive descriptor records together: a block may span two of them
        runs: list[tuple[int, bytearray]] = []
        prev_end = -1
        for off, _kind, clen in records:
            payload = window[off - base + RECORD_HEADER : off - base + RECORD_HEADER + clen]
            out = _decompress(payload, off)
            if off == prev_end and runs:
                runs[-1][1].extend(out)
            else:
                runs.append((off, bytearray(out)))
            prev_end = off + RECORD_HEADER + clen
        final = None
        final_at = 0
        sets_seen: set[int] = set()
        for off, buf in runs:
            data = bytes(buf)
            i = data.find(b"MSLS")
            while i != -1:
                if (
                    mtf.xor16(data[i : i + mtf.DBLK_HEADER]) == 0
                    and len(data) >= i + mtf.DBLK_HEADER
                ):
                    blocks = _blocks_in(data[i:])
                    stream = blocks[0].stream("MQCI") if blocks else None
                    if stream is not None:
                        src = ChunkCache(BytesSource(data[i:]), chunk=len(data) - i, max_chunks=1)
                        final = parse_scin(mtf.read_stream_data(src, stream, SCIN_READ), off)
                        final_at = off
                i = data.find(b"MSLS", i + 4)
            j = data.find(b"ESET")
            while j != -1:
                hdr = data[j : j + mtf.DBLK_HEADER]
                if len(hdr) == mtf.DBLK_HEADER and mtf.xor16(hdr) == 0:
                    for block in _blocks_in(data[j:])[:1]:
                        n = eset_set_number(block)
                        if n:
                            sets_seen.add(n)
                j = data.find(b"ESET", j + 4)
        if final is not None and not sets_seen:
            raise FormatProblem(
                "the final metadata copy (MSLS) is there but no end-of-set (ESET) follows: "
                "truncated file",
                r.size,
            )
        if final is not None:
            others = sets_seen - {pending.sset.position}
            if others:
                raise FormatProblem(
                    "this compressed file holds several backup sets (positions "
                    f"{', '.join(str(p) for p in sorted(sets_seen | {pending.sset.position}))}); "
                    "only single-set compressed files are read",
                    r.size - window_size if r.size > window_size else 0,
                )
            pending.final = final
            pending.final_offset = final_at
            _closing_sfmb(r, prev_end)
            return
        if base <= FIRST_RECORD + RECORD_HEADER:
            break
    raise FormatProblem(
        "final metadata copy (MSLS) not found in the compressed records at the end of the file "
        "(truncated?)",
        r.size,
    )


def read_compressed(r: ChunkCache, device: str) -> tuple[list[dict[str, object]], str | None]:
    """Read the one backup set of an MSSQLBAK (MS_XPRESS) file."""
    try:
        pending, signature = _head(r)
        _final_copy(r, pending, signature)
        row = build_row(pending, None, device, compressed=True, file_size=r.size)
    except FormatProblem as exc:
        return [], f"unreadable: {exc.describe()}"
    return [row], None
