"""Byte sources: a local file or anything with ``size`` and ``read_range`` (an S3 object)."""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable


class FormatProblem(Exception):
    """The file content does not make sense at ``offset`` (data, not a programming error)."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def describe(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte offset {self.offset:#x} = {self.offset})"


@runtime_checkable
class RangeReader(Protocol):
    """What the reader needs from a file: its size and ranged reads."""

    @property
    def size(self) -> int: ...

    def read_range(self, offset: int, length: int) -> bytes: ...


class LocalFile:
    """A local file read with ``os.pread`` (no whole-file reads)."""

    __slots__ = ("_fd", "size")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            self.size = os.fstat(self._fd).st_size
        except OSError:
            os.close(self._fd)
            raise

    def read_range(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def close(self) -> None:
        os.close(self._fd)


class BytesSource:
    """An in-memory buffer as a RangeReader."""

    __slots__ = ("_data", "size")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def read_range(self, offset: int, length: int) -> bytes:
        return self._data[offset : offset + length]


class ChunkCache:
    """Reads aligned chunks from a RangeReader, keeps a few, counts bytes fetched."""

    __slots__ = ("_src", "_chunk", "_cache", "_max_chunks", "bytes_read", "requests", "size")

    def __init__(self, src: RangeReader, chunk: int = 64 * 1024, max_chunks: int = 8) -> None:
        self._src = src
        self._chunk = chunk
        self._cache: dict[int, bytes] = {}
        self._max_chunks = max_chunks
        self.bytes_read = 0
        self.requests = 0
        self.size = int(src.size)

    def _fetch(self, offset: int, length: int) -> bytes:
        """One ranged read that must return exactly ``length`` bytes (OSError otherwise).

        A source that returns more (a server that ignores the Range header and sends the whole
        object) or fewer bytes (a file that shrank while being read) would otherwise be parsed at
        the wrong offsets and misreported as a damaged or truncated backup.
        """
        data = self._src.read_range(offset, length)
        self.bytes_read += len(data)
        self.requests += 1
        if len(data) != length:
            raise OSError(
                f"asked for {length} bytes at offset {offset} of a {self.size}-byte file, got "
                f"{len(data)}: the file changed while being read, or the server ignored the range "
                "request"
            )
        return bytes(data)

    def _get(self, index: int) -> bytes:
        data = self._cache.get(index)
        if data is None:
            start = index * self._chunk
            length = min(self._chunk, self.size - start)
            data = self._fetch(start, length) if length > 0 else b""
            if len(self._cache) >= self._max_chunks:
                self._cache.pop(next(iter(self._cache)))
            self._cache[index] = data
        return data

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer at the end of the file)."""
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        end = min(offset + length, self.size)
        parts: list[bytes] = []
        pos = offset
        while pos < end:
            index = pos // self._chunk
            data = self._get(index)
            lo = pos - index * self._chunk
            hi = min(len(data), end - index * self._chunk)
            if hi <= lo:
                break  # the source returned less than its size promised
            parts.append(data[lo:hi])
            pos += hi - lo
        return b"".join(parts)

    def read_exact(self, offset: int, length: int, what: str) -> bytes:
        """Exactly ``length`` bytes or a FormatProblem naming where the file ends."""
        data = self.read(offset, length)
        if len(data) != length:
            raise FormatProblem(
                f"file ends inside {what} ({length} bytes needed, {len(data)} available, "
                f"file size {self.size})",
                offset,
            )
        return data

    def read_direct(self, offset: int, length: int) -> bytes:
        """One uncached ranged read (for large tail windows)."""
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b""
        return self._fetch(offset, length)
