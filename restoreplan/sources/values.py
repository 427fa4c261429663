"""Parsing of single cell values as real exports write them."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from dateutil import parser as dateutil_parser

_NULLS = frozenset({"", "null", "none"})
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f"})
_FRACTION = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})\.(\d+)$")


class ValueProblem(ValueError):
    """A cell that does not parse; the caller adds file, row and column."""


def is_null(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip().lower() in _NULLS)


def text(raw: object) -> str | None:
    if is_null(raw):
        return None
    return str(raw).strip()


def parse_bool(raw: object) -> bool | None:
    if is_null(raw):
        return None
    if isinstance(raw, bool):
        return raw
    s = str(raw).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueProblem(f"not a bit: {raw!r} (expected 0/1/True/False)")


def parse_int(raw: object) -> int | None:
    if is_null(raw):
        return None
    if isinstance(raw, bool):
        raise ValueProblem(f"not a number: {raw!r}")
    if isinstance(raw, int):
        return raw
    s = str(raw).strip()
    if s.endswith(".0"):
        s = s[:-2]
    try:
        return int(s)
    except ValueError:
        raise ValueProblem(f"not a whole number: {raw!r}") from None


def parse_guid(raw: object) -> str | None:
    """Normalise a uniqueidentifier to lowercase canonical form."""
    if is_null(raw):
        return None
    s = str(raw).strip().strip("{}")
    try:
        return str(uuid.UUID(s))
    except ValueError:
        raise ValueProblem(f"not a GUID: {raw!r}") from None


def parse_datetime(raw: object) -> datetime | None:
    """Parse a naive datetime as msdb exports print it (with or without fractions)."""
    if is_null(raw):
        return None
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=None) if raw.tzinfo is None else raw
    s = str(raw).strip()
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
