"""Parsing of single cell values as real exports write them.

Every parser strips the cell once and checks for a null once: these run for every cell of
histories with millions of rows, so the common spellings take the short path (a canonical
GUID is returned as it is; an ISO date goes straight to ``datetime.fromisoformat``) and the
general path (``uuid.UUID``, the non-ISO date forms) only sees the unusual ones.

Dates must be whole (year, month and day; the time is optional) and must not be read two ways:
ISO forms are read as they are; ``dd.mm.yyyy`` is day-first (no culture writes dots month
first); ``a/b/yyyy`` and ``a-b-yyyy`` are read only when the order is clear (a part above 12,
or the order decided once for a whole file: ``date_order``), else refused with a hint to
export ISO dates; a month written as a word is read by dateutil, but only when the year (four
digits), the month and the day are all in the text, never filled in from today.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from dateutil import parser as dateutil_parser

_NULLS = frozenset({"", "null", "none"})
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f"})
_FRACTION = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})\.(\d+)$")
_GUID_CHARS = frozenset("0123456789abcdef-")
# a/b/yyyy, a.b.yyyy, a-b-yyyy, then an optional time (h:mm[:ss[.f]] [AM|PM])
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?\s*([AaPp]\.?[Mm]\.?)?)?$"
)
# yyyy/mm/dd and yyyy.mm.dd (year first: unambiguous), then the same optional time
_YEAR_FIRST = re.compile(
    r"^(\d{4})([./])(\d{1,2})\2(\d{1,2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?\s*([AaPp]\.?[Mm]\.?)?)?$"
)
_MONTH_WORD = re.compile(
    r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?![a-z])"
)
_YEAR4 = re.compile(r"(?<!\d)\d{4}(?!\d)")
# an ISO date and time with its offset after a space ("2026-11-08 22:00:00.000 +05:00")
_SPACED_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T][\d:.]+)\s+([+-]\d{2}:?\d{2}|Z)$")
_ISO_HINT = (
    "export dates as ISO text (yyyy-mm-dd hh:mm:ss; in T-SQL CONVERT(varchar(23), col, 121))"
)
# two defaults that differ in every date field: what dateutil fills in differs between them
_DEFAULT_A = datetime(2001, 1, 1)
_DEFAULT_B = datetime(2002, 2, 2)


class ValueProblem(ValueError):
    """A cell that does not parse; the caller adds file, row and column."""


class ColumnProblem(ValueProblem):
    """A value that parses alone but not with the rest of its row (a time with an offset and
    no time_zone to convert it): names its column, since the cell parsers find no fault."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def is_null(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip().lower() in _NULLS)


def _cell(raw: object) -> str | None:
    """The stripped text of a cell, or None when the cell is null (None, '', NULL, None).

    A JSON array or object is no single value: refused, never turned into its Python text.
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        s = raw.strip()
        if len(s) <= 4 and s.lower() in _NULLS:
            return None
        if not s.isascii() and not utf8_ok(s):  # a lone surrogate (JSON "\ud800"): no script or report holds it
            raise ValueProblem(f"{_short(raw)} holds a lone UTF-16 surrogate, which is no character")
        return s
    if isinstance(raw, (list, dict, tuple, set)):
        kind = "an object" if isinstance(raw, dict) else "a list"
        raise ValueProblem(f"{kind} where a single value belongs: {_short(raw)}")
    return str(raw).strip()


def utf8_ok(s: str) -> bool:
    """Can UTF-8 write it (no lone surrogate)?"""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 80 else text[:77] + "..."


def text(raw: object) -> str | None:
    return _cell(raw)


def parse_database_name(raw: object) -> str | None:
    """A database name as SQL Server stores it: leading whitespace is part of the name (sqlcmd
    pads text on the right only), and stripping it would make the script restore over the
    database of the name without it. Trailing spaces go (padding; SQL Server ignores them when
    it compares names)."""
    s = _cell(raw)  # nulls and lone surrogates as for any text
    if s is not None and isinstance(raw, str) and raw[:1].isspace():
        return raw.rstrip(" ")
    return s


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
    # int() also reads "1_000" and non-ASCII digits ("١٢"): no export writes those, so they
    # are refused rather than read as a number the cell may not mean
    if not s.isascii() or "_" in s:
        raise ValueProblem(f"not a whole number: {raw!r}")
    try:
        return int(s)
    except ValueError:
        raise ValueProblem(f"not a whole number: {raw!r}") from None


def ranged_int(
    name: str, low: int, high: int | None = None, *, also: int | None = None
) -> Callable[[object], int | None]:
    """parse_int, refusing a value below ``low`` or above ``high`` (``also`` is allowed too)."""
    span = f"{low}..{high}" if high is not None else f"{low} or more"
    if also is not None:
        span += f", or {also}"

    def parse(raw: object) -> int | None:
        n = parse_int(raw)
        if n is None or n == also or (n >= low and (high is None or n <= high)):
            return n
        raise ValueProblem(f"{name} {n} is out of range (expected {span})")

    parse.__name__ = f"parse_{name.replace(' ', '_')}"
    parse.low, parse.high, parse.also = low, high, also  # type: ignore[attr-defined]
    return parse


# msdb's types: position int, family_sequence_number and mirror tinyint (64 stripes and 4 mirrors
# at most: restore-rules A.2)
parse_position = ranged_int("position", 1, 2**31 - 1)
parse_family = ranged_int("family sequence number", 1, 64)
parse_mirror = ranged_int("mirror", 0, 3)
# msdb time_zone: 15-minute units from UTC-12:00 to UTC+14:00; 127 means unknown
parse_time_zone = ranged_int("time zone", -48, 56, also=127)


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


EARLIEST = datetime(1753, 1, 1)  # SQL Server's datetime (msdb's type) begins here
LATEST = datetime(9999, 12, 29, 23, 59, 59, 999999)  # two days short of its end: UTC offsets still fit


def in_range(when: datetime) -> bool:
    """Within the dates msdb can hold, two days' margin at the top (a time-zone shift of a later
    date has no datetime to land on)."""
    return EARLIEST <= when.replace(tzinfo=None) <= LATEST


RANGE_TEXT = ("outside the dates restoreplan reads (1753-01-01 .. 9999-12-29: a UTC offset must still "
              "fit the last days of 9999)")


def parse_datetime(raw: object, order: str | None = None, *, bounded: bool = True) -> datetime | None:
    """A whole date (year, month, day) with an optional time, as exports print it, within the
    dates msdb can hold (``in_range``).

    ISO forms first (with or without fractions, up to 7 digits). ``order`` ("dmy" or "mdy")
    is the day/month order of ``a/b/yyyy`` cells decided once for a whole file
    (``date_order``); without it only a cell whose order is clear is read. A time with an
    offset keeps it (callers that need server-local naive times use ``parse_local_datetime``).
    """
    when = _parse_datetime(raw, order)
    if when is not None and bounded and not in_range(when):
        raise ValueProblem(f"{_short(raw)} is {RANGE_TEXT}")
    return when


def _parse_datetime(raw: object, order: str | None) -> datetime | None:
    if isinstance(raw, datetime):
        return raw  # naive stays naive; an aware value keeps its offset
    s = _cell(raw)
    if s is None:
        return None
    try:
        when = datetime.fromisoformat(s)
    except ValueError:
        pass
    else:
        if "W" in s or "w" in s:  # an ISO week date: "2026-W45" has no day
            return _week_date(s, when, raw)
        return when
    m = _FRACTION.match(s)
    if m:  # SQL Server datetime2(7) prints 7 fractional digits
        try:
            return datetime.fromisoformat(f"{m.group(1)}.{m.group(2)[:6].ljust(6, '0')}")
        except ValueError:
            pass
    m = _SPACED_OFFSET.match(s)
    if m:
        return _parse_datetime(m.group(1) + m.group(2), None)
    m = _NUMERIC_DATE.match(s)
    if m:
        return _numeric(m, raw, order)
    m = _YEAR_FIRST.match(s)
    if m:
        return _numeric(m, raw, "ymd")
    return _worded(s, raw)


class DateReader:
    """parse_datetime for one stream of inputs (a SetBuilder's): the ``a/b/yyyy`` cells whose
    order is clear must all show the same order; a cell showing the other is refused, since
    the input would otherwise be read day-first in some rows and month-first in others.
    Ambiguous cells are refused by parse_datetime itself."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: tuple[str, str] | None = None  # (order, the cell that showed it)

    def __call__(self, raw: object) -> datetime | None:
        when = parse_datetime(raw)
        if when is not None and type(raw) is str and not raw.lstrip()[:4].isdigit():
            m = _NUMERIC_DATE.match(raw.strip())
            if m and m.group(2) != "." and m.group(1) != m.group(3):
                order = _clear_order(int(m.group(1)), int(m.group(3)))
                if self.seen is None:
                    self.seen = (order, raw)  # type: ignore[assignment]
                elif order != self.seen[0]:
                    first = {self.seen[0]: self.seen[1], order: raw}
                    raise ValueProblem(
                        f"the dates mix day-first {first['dmy']!r} and month-first "
                        f"{first['mdy']!r}; {_ISO_HINT}"
                    )
        return when


def parse_local_datetime(raw: object) -> datetime | None:
    """parse_datetime for server-local times (msdb's): a time with an offset is refused."""
    when = parse_datetime(raw)
    if when is not None and when.tzinfo is not None:
        raise ValueProblem(aware_message(raw))
    return when


def aware_message(raw: object) -> str:
    return (
        f"{raw!r} has a time-zone offset, but msdb times are server-local without one "
        "(and no time_zone is known to convert it): export the times as msdb stores them, "
        "CONVERT(varchar(23), col, 121)"
    )


def to_server_local(when: datetime, time_zone: int | None) -> datetime | None:
    """An aware time as the server's naive wall-clock time, from msdb's ``time_zone``
    (15-minute units; None or 127: unknown, and then None)."""
    if time_zone is None or time_zone == 127:
        return None
    offset = when.utcoffset() or timedelta(0)
    return when.replace(tzinfo=None) - offset + timedelta(minutes=15 * time_zone)


def _week_date(s: str, when: datetime, raw: object) -> datetime:
    date_part = s.split("T")[0].split(" ")[0].replace("-", "")
    if len(date_part) == 8:  # yyyyWwwd: the day of the week is given
        return when
    raise ValueProblem(f"not a whole date: {raw!r} (an ISO week without its day)")


def _numeric(m: re.Match[str], raw: object, order: str | None) -> datetime:
    a, sep, b, year = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    if order == "ymd":
        year, month, day = int(m.group(1)), int(m.group(3)), int(m.group(4))
    elif sep == "." and order is None:
        day, month = a, b  # dd.mm.yyyy: day first in every culture that writes dots
    else:
        order = order or _clear_order(a, b)
        if order is None:
            raise ValueProblem(
                f"ambiguous date {raw!r}: {m.group(1)} and {m.group(3)} could each be the day "
                f"or the month; {_ISO_HINT}"
            )
        day, month = (a, b) if order == "dmy" else (b, a)
    hour = int(m.group(5) or 0)
    minute, second = int(m.group(6) or 0), int(m.group(7) or 0)
    micro = int((m.group(8) or "0")[:6].ljust(6, "0"))
    ampm = m.group(9)
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueProblem(f"not a date and time: {raw!r} (hour {hour} with {ampm})")
        hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError as exc:
        raise ValueProblem(f"not a date and time: {raw!r} ({exc})") from None


def _clear_order(a: int, b: int) -> str | None:
    if a > 12 >= b:
        return "dmy"
    if b > 12 >= a:
        return "mdy"
    if a == b:
        return "dmy"  # 05/05/2026 reads the same either way
    return None


def date_order(cells: Iterable[object]) -> str | None:
    """The day/month order ("dmy" or "mdy") of a file's ``a/b/yyyy`` (and ``a-b-yyyy``)
    dates, decided once from the cells whose order is clear; None when no cell tells.
    Cells that contradict each other are refused: the file mixes two orders."""
    seen: dict[str, str] = {}
    for raw in cells:
        if not isinstance(raw, str):
            continue
        m = _NUMERIC_DATE.match(raw.strip())
        if m is None or m.group(2) == ".":
            continue
        order = _clear_order(int(m.group(1)), int(m.group(3)))
        if order is not None and int(m.group(1)) != int(m.group(3)):
            seen.setdefault(order, raw)
    if len(seen) > 1:
        raise ValueProblem(
            f"the dates mix day-first {seen['dmy']!r} and month-first {seen['mdy']!r}; "
            + _ISO_HINT
        )
    return next(iter(seen), None)


def _worded(s: str, raw: object) -> datetime:
    """A date with its month as a word ("Nov  8 2026 10:00PM", "8 November 2026"): read only
    when the year, the month and the day are all written."""
    bad = ValueProblem(f"not a date and time: {raw!r} (expected yyyy-mm-dd hh:mm:ss)")
    if not (_MONTH_WORD.search(s) and _YEAR4.search(s)):
        raise bad
    try:
        first = dateutil_parser.parse(s, default=_DEFAULT_A)
        second = dateutil_parser.parse(s, default=_DEFAULT_B)
    except (ValueError, OverflowError):
        raise bad from None
    if first.date() != second.date():
        raise ValueProblem(f"not a whole date: {raw!r} (year, month and day are all needed)")
    return first
