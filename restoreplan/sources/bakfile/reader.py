"""Public API: read the headers of one SQL Server backup file (.bak/.trn), offline."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from restoreplan.sources.bakfile import mtf
from restoreplan.sources.bakfile.scin import parse_scin
from restoreplan.sources.bakfile.sets import (
    ESET_SET_NUMBER,
    MediaInfo,
    PendingSet,
    build_row,
    eset_set_number,
    parse_raid,
    parse_sset,
    parse_volb_machine,
)
from restoreplan.sources.bakfile.source import (
    ChunkCache,
    FormatProblem,
    LocalFile,
    RangeReader,
)

MTF_MAGIC = b"TAPE"
COMPRESSED_MAGIC = b"MSSQLBAK"
SCIN_READ = 2048  # the SCIN record is 410-478 bytes in 2008 R2..2016
LOCAL_CHUNK = 16 * 1024
REMOTE_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FileScan:
    """The backup sets read from one file, or why it could not be read."""

    name: str
    sets: tuple[dict[str, object], ...]
    error: str | None
    bytes_read: int


def _scin_of(r: ChunkCache, block: mtf.Block) -> mtf.Stream:
    stream = block.stream("MQCI")
    if stream is None:
        raise FormatProblem(f"{block.kind} block has no MQCI stream", block.offset)
    if stream.encryption:
        raise FormatProblem(
            f"the MQCI stream is encrypted (algorithm {stream.encryption}): header unavailable",
            stream.offset,
        )
    if stream.compression:
        raise FormatProblem(
            f"unsupported compression of the MQCI stream (algorithm {stream.compression})",
            stream.offset,
        )
    return stream


def read_mtf(r: ChunkCache, device: str) -> tuple[list[dict[str, object]], str | None]:
    """Walk an uncompressed MTF file; complete sets plus the first problem met, if any."""
    rows: list[dict[str, object]] = []
    media: MediaInfo | None = None
    pending: PendingSet | None = None
    last_position = 0
    try:
        for block in mtf.iter_blocks(r):
            kind = block.kind
            if kind == "TAPE":
                if block.offset != 0:
                    raise FormatProblem("a second TAPE block", block.offset)
                raid = block.stream("RAID")
                if raid is not None:
                    media = parse_raid(mtf.read_stream_data(r, raid, 32), raid.data_offset)
            elif block.offset == 0:
                raise FormatProblem("the file does not start with a TAPE block", 0)
            elif kind == "SSET":
                if pending is not None:
                    raise FormatProblem(
                        f"a new SSET before the end (ESET) of the set at position "
                        f"{pending.sset.position}",
                        block.offset,
                    )
                pending = PendingSet(parse_sset(block))
                if pending.sset.position <= last_position:
                    raise FormatProblem(
                        f"the set at position {pending.sset.position} follows the set at position "
                        f"{last_position}: positions in one file must increase",
                        block.offset + 62,
                    )
            elif pending is None:
                continue  # SFMB, the second ESET, ...
            elif kind == "VOLB":
                pending.machine_name = parse_volb_machine(block)
            elif kind in ("MSCI", "MSLS"):
                stream = _scin_of(r, block)
                scin = parse_scin(mtf.read_stream_data(r, stream, SCIN_READ), stream.data_offset)
                if kind == "MSCI" and pending.first is None:
                    pending.first = scin
                else:
                    pending.final = scin
                    pending.final_offset = stream.data_offset
            elif kind == "ESET":
                number = eset_set_number(block)
                if number is not None and number != pending.sset.position:
                    raise FormatProblem(
                        f"the SSET block says position {pending.sset.position} but its end-of-set "
                        f"(ESET) block says {number}: damaged header",
                        block.offset + ESET_SET_NUMBER,
                    )
                rows.append(build_row(pending, media, device, compressed=False, file_size=r.size))
                last_position = pending.sset.position
                pending = None
        if pending is not None:
            raise FormatProblem(
                f"file ends inside the backup set at position {pending.sset.position} "
                "(no ESET block): truncated",
                r.size,
            )
        if not rows:
            raise FormatProblem("no backup set (SSET) in the file", 0)
    except FormatProblem as exc:
        return rows, f"unreadable: {exc.describe()}"
    return rows, None


def _read(r: ChunkCache, device: str) -> tuple[list[dict[str, object]], str | None]:
    if r.size == 0:
        return [], "unreadable: empty file"
    head = r.read(0, 16)
    if head.startswith(MTF_MAGIC):
        return read_mtf(r, device)
    if head.startswith(COMPRESSED_MAGIC):
        from restoreplan.sources.bakfile.compressed import read_compressed

        return read_compressed(r, device)
    if len(head) < 4:
        return [], f"unreadable: file of {r.size} bytes is too short for a backup header"
    return [], (
        "unreadable: encrypted or not a SQL Server backup: header unavailable "
        f"(starts with {head[:8].hex()}, neither TAPE nor MSSQLBAK)"
    )


def read_backup_file(path_or_opener: str | os.PathLike[str] | RangeReader, name: str) -> FileScan:
    """Read every backup set's header from one file (local path or ranged-read opener)."""
    local: LocalFile | None = None
    try:
        if isinstance(path_or_opener, str | os.PathLike):
            try:
                local = LocalFile(path_or_opener)
            except OSError as exc:
                return FileScan(name, (), f"unreadable: cannot open: {exc.strerror or exc}", 0)
            r = ChunkCache(local, LOCAL_CHUNK)
        else:
            r = ChunkCache(path_or_opener, REMOTE_CHUNK)
        try:
            rows, error = _read(r, name)
        except OSError as exc:
            rows, error = [], f"unreadable: I/O error: {exc.strerror or exc}"
        except (struct.error, IndexError, ValueError, OverflowError) as exc:
            # a safety net: the parsers check bounds, but never let file content raise
            rows, error = [], f"unreadable: malformed content ({type(exc).__name__}: {exc})"
        return FileScan(name, tuple(rows), error, r.bytes_read)
    finally:
        if local is not None:
            local.close()
