"""Parsing of single cell values as real exports write them.

Every parser strips the cell once and checks for a null once: these run for every cell of
histories with millions of rows, so the common spellings take the short path (a canonical
GUID is returned as it is; an ISO date goes straight to ``datetime.fromisoformat``) and the
general path (``uuid.UUID``, dateutil) only sees the unusual ones.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from dateutil import parser as dateutil_parser

_NULLS = frozenset({"", "null", "none"})
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f"})
_FRACTION = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})\.(\d+)$")
_GUID_CHARS = frozenset("0123456789abcdef-")


class ValueProblem(ValueError):
    """A cell that does not parse; the caller adds file, row and column."""


def is_null(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip().lower() in _NULLS)


def _cell(raw: object) -> str | None:
    """The stripped text of a cell, or None when the cell is null (None, '', NULL, None)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        s = raw.strip()
        if len(s) <= 4 and s.lower() in _NULLS:
            return None
        return s
    return str(raw).strip()


def text(raw: object) -> str | None:
    return _cell(raw)


def parse_bool(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    s = _cell(raw)
    if s is None:
        return None
    s = s.lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueProblem(f"not a bit: {raw!r} (expected 0/1/True/False)")


def parse_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        raise ValueProblem(f"not a number: {raw!r}")
    if isinstance(raw, int):
        return raw
    s = _cell(raw)
    if s is None:
        return None
    if s.endswith(".0"):
        s = s[:-2]
    try:
        return int(s)
    except ValueError:
        raise ValueProblem(f"not a whole number: {raw!r}") from None


def _is_canonical_guid(s: str) -> bool:
    """Already what ``str(uuid.UUID(s))`` would return: 8-4-4-4-12 lowercase hex digits."""
    return (
        len(s) == 36
        and s[8] == s[13] == s[18] == s[23] == "-"
        and s.count("-") == 4
        and _GUID_CHARS.issuperset(s)
    )


def parse_guid(raw: object) -> str | None:
    """Normalise a uniqueidentifier to lowercase canonical form."""
    s = _cell(raw)
    if s is None:
        return None
    s = s.strip("{}")
    if _is_canonical_guid(s):
        return s
    try:
        return str(uuid.UUID(s))
    except ValueError:
        raise ValueProblem(f"not a GUID: {raw!r}") from None


def parse_datetime(raw: object) -> datetime | None:
    """Parse a naive datetime as msdb exports print it (with or without fractions)."""
    if isinstance(raw, datetime):
        return raw  # naive stays naive; an aware value keeps its offset
    s = _cell(raw)
    if s is None:
        return None
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        pass
    m = _FRACTION.match(s)
    if m:  # SQL Server datetime2(7) prints 7 fractional digits
        try:
            return datetime.fromisoformat(f"{m.group(1)}.{m.group(2)[:6].ljust(6, '0')}")
        except ValueError:
            pass
    try:
        return dateutil_parser.parse(s)
    except (ValueError, OverflowError):
        raise ValueProblem(f"not a date and time: {raw!r}") from None
