"""The objects of a top-level JSON array, decoded one at a time.

``json.loads`` of an msdb export of a million rows holds the whole text and a dict per row at
once (about five times the file's size); decoding element by element keeps only a block of
text and the row being parsed. Numbers with a fraction or an exponent stay text, as in
``load_json``: LSNs never pass through float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

from restoreplan.core.errors import InputError

BLOCK = 1 << 20  # characters read at a time
LONGEST = 1 << 26  # a record this long that still does not decode is bad, not incomplete
_SPACE = re.compile(r"[ \t\n\r]*")


class DuplicateKey(ValueError):
    """A JSON object naming one key twice (json.loads would keep the last silently)."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook: the object, or DuplicateKey when a key is given twice."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return obj


_DECODER = json.JSONDecoder(parse_float=str, object_pairs_hook=unique_keys)


class _Text:
    """A window on a text stream: the unread part of the last blocks, and its line number."""

    __slots__ = ("buf", "pos", "line", "stream", "origin", "block")

    def __init__(self, head: str, stream: TextIO, origin: str, block: int, line: int) -> None:
        self.buf, self.pos, self.line = head, 0, line
        self.stream, self.origin, self.block = stream, origin, block

    def more(self) -> bool:
        """Append the next block (dropping what was read); False at the end of the stream."""
        block = self.stream.read(self.block)
        if not block:
            return False
        self.line += self.buf.count("\n", 0, self.pos)
        self.buf, self.pos = self.buf[self.pos :] + block, 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), without consuming it."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def value(self) -> Any:
        """Decode the value at the current place; an incomplete one reads further blocks."""
        while True:
            try:
                value, self.pos = _DECODER.raw_decode(self.buf, self.pos)
                return value
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos < LONGEST and self.more():
                    continue
                raise self.error(exc.msg, exc.pos) from None
            except (ValueError, RecursionError) as exc:  # a huge number, deep nesting
                at = self.line + self.buf.count("\n", 0, self.pos)
                raise beyond_limits(f"{self.origin}, line {at}", exc) from None

    def error(self, msg: str, pos: int | None = None) -> InputError:
        at = self.pos if pos is None else pos
        line = self.line + self.buf.count("\n", 0, at)
        return InputError(f"{self.origin}: not valid JSON ({msg} at line {line})")


def beyond_limits(where: str, exc: Exception) -> InputError:
    """A JSON value Python will not decode: a number of thousands of digits, or nesting
    deeper than the interpreter's recursion limit; or an object naming a key twice. None
    belongs in a history export."""
    if isinstance(exc, DuplicateKey):
        return InputError(
            f"{where}: the key {exc.args[0]!r} appears twice in one object",
            hint="which value is meant cannot be told; export the history again",
        )
    what = (
        "nested too deeply"
        if isinstance(exc, RecursionError)
        else "a number with too many digits" if "digits" in str(exc) else str(exc)
    )
    return InputError(
        f"{where}: not valid JSON for a history ({what})",
        hint="export the history again (LSNs have at most 25 digits)",
    )


def array_objects(
    head: str, stream: TextIO, origin: str, block: int | None = None, *, line: int = 1
) -> Iterator[dict[str, Any]]:
    """The objects of the array that ``head`` (then ``stream``) holds, one at a time, reading
    ``block`` characters at a time (default BLOCK); ``head`` begins on line ``line``."""
    text = _Text(head, stream, origin, block or BLOCK, line)
    if text.peek() != "[":
        raise text.error("expecting '['")
    text.pos += 1
    if text.peek() == "]":
        text.pos += 1
    else:
        while True:
            if text.peek() != "{":
                raise InputError(f"{origin}: expected a JSON list of objects")
            yield text.value()
            sep = text.peek()
            if sep == "]":
                text.pos += 1
                break
            if sep != ",":
                raise text.error("expecting ',' delimiter" if sep else "unterminated list")
            text.pos += 1
    if text.peek():
        raise text.error("extra data")
