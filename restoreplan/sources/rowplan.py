"""How the rows of one input are parsed into canonical values: a row at a time, or a chunk of
rows a column at a time.

A parsed row is a pair. ``own`` is a tuple of the values that change from one backup set to the
next (OWN order: its GUID, ids, dates, sizes, LSNs, and the media file's device last).
``template`` holds the others (database, type, GUIDs, forks, flags, the differential base,
family and mirror numbers): they repeat from row to row as a group, so their cells are one key,
parsed once into a template that later rows share.

The chunk path converts whole columns with C conversions (``int``, ``datetime.fromisoformat``,
one pattern match over a column of GUIDs) and takes its keys with ``zip``; it accepts a column
only where the result is exactly what the cell-by-cell parsers return, and otherwise hands the
column to them. A chunk with a cell that does not parse is parsed again a row at a time, so
errors name their row and column exactly as before.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import groupby, repeat
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupType
from restoreplan.sources import values as v
from restoreplan.sources.columns import REQUIRED

_TYPES = {t.value for t in BackupType}


def parse_lsn(raw: object) -> LSN | None:
    if type(raw) is int:  # exact already (msdb over ODBC)
        return LSN(raw)
    if isinstance(raw, str):
        s = raw.strip()
        if s.isdigit() and s.isascii() and len(s) <= 25:  # the decimal form msdb prints
            return LSN(int(s))
    if v.is_null(raw):
        return None
    if isinstance(raw, float):
        raise v.ValueProblem(f"LSN {raw!r} arrived as a floating-point number and lost digits")
    try:
        return LSN.parse(raw if isinstance(raw, int) else str(raw))
    except InputError as exc:
        raise v.ValueProblem(exc.message) from None


def parse_type(raw: object) -> BackupType:
    s = v.text(raw)
    if s is None or s.upper() not in _TYPES:
        raise v.ValueProblem(f"unknown backup type {raw!r} (expected D, I, L, F, G, P or Q)")
    return BackupType(s.upper())


# Per row, in the order of ``own``: the backup set's columns, then its media file's (a stripe
# or mirror is a row of its own).
OWN: dict[str, Callable[[object], Any]] = {
    "backup_set_uuid": v.parse_guid,
    "backup_set_id": v.parse_int,
    "media_set_id": v.parse_int,
    "backup_start_date": v.parse_datetime,
    "backup_finish_date": v.parse_datetime,
    "backup_size": v.parse_int,
    "compressed_backup_size": v.parse_int,
    "last_valid_restore_time": v.parse_datetime,
    "first_lsn": parse_lsn,
    "last_lsn": parse_lsn,
    "checkpoint_lsn": parse_lsn,
    "physical_device_name": v.text,
    "family_sequence_number": v.parse_family,
    "mirror": v.parse_mirror,
    "device_type": v.parse_int,
}
# Shared by neighbouring sets, in the order of a template.
SHARED: dict[str, Callable[[object], Any]] = {
    "database_name": v.parse_database_name,
    "type": parse_type,
    "database_backup_lsn": parse_lsn,
    "position": v.parse_position,
    "differential_base_lsn": parse_lsn,
    "differential_base_guid": v.parse_guid,
    "server_name": v.text,
    "machine_name": v.text,
    "family_guid": v.parse_guid,
    "database_guid": v.parse_guid,
    "database_creation_date": v.parse_datetime,
    "first_recovery_fork_guid": v.parse_guid,
    "last_recovery_fork_guid": v.parse_guid,
    "fork_point_lsn": parse_lsn,
    "time_zone": v.parse_time_zone,
    "recovery_model": v.text,
    "is_copy_only": v.parse_bool,
    "is_snapshot": v.parse_bool,
    "is_damaged": v.parse_bool,
    "has_bulk_logged_data": v.parse_bool,
    "begins_log_chain": v.parse_bool,
    "has_incomplete_metadata": v.parse_bool,
    "has_backup_checksums": v.parse_bool,
    "is_password_protected": v.parse_bool,
    "key_algorithm": v.text,
    "encryptor_thumbprint": v.text,
    "encryptor_type": v.text,
    "software_major_version": v.parse_int,
    "media_family_count": v.parse_int,
    "mirror_count": v.parse_int,
}
OWN_SLOT = {name: i for i, name in enumerate(OWN)}
SHARED_SLOT = {name: i for i, name in enumerate(SHARED)}
N_OWN_SET = len(OWN) - 4  # own[:N_OWN_SET] describe the backup set, the rest its media file
PARSERS: dict[str, Callable[[object], Any]] = {**OWN, **SHARED}

# Values unique to one backup set are parsed directly; the LSNs and the shared columns repeat
# and go through a memo per parser (the first_lsn of a log is the previous log's last_lsn).
_UNMEMOISED = frozenset(OWN) - {
    "first_lsn", "last_lsn", "checkpoint_lsn", "family_sequence_number", "mirror", "device_type"
}
_MEMO_LIMIT = 1 << 16  # entries per memo; a memo starts afresh when full

# Cells whose equal values always parse alike (1 == 1.0 == True, Decimal("1") == Decimal("1.0")
# and aware datetimes equal across zones do not): only these may be part of a template's key.
_KEY_TYPES = frozenset({str, int, bool, type(None)})
_CHUNK_KEY_TYPES = _KEY_TYPES | {datetime}  # naive ones: a chunk's columns are checked
_GUIDS = re.compile(r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n)*")
_MISSING = object()
_NONE = type(None)
_REQUIRED_OWN = tuple(OWN_SLOT[name] for name in REQUIRED if name in OWN_SLOT)
_REQUIRED_SHARED = tuple(SHARED_SLOT[name] for name in REQUIRED if name in SHARED_SLOT)
_OWN_DATES = tuple(
    (OWN_SLOT[name], name)
    for name in ("backup_start_date", "backup_finish_date", "last_valid_restore_time")
)
_CREATION, _TIME_ZONE = SHARED_SLOT["database_creation_date"], SHARED_SLOT["time_zone"]
_TZINFO = operator.attrgetter("tzinfo")


class Memo:
    """Parse a text once: parsers are pure and return immutable values, so results are shared.

    Only ``str`` cells are memoised (1, 1.0 and True are equal dict keys but parse differently);
    a cell that fails to parse is never stored, so errors are raised as before.
    """

    __slots__ = ("parse", "seen")

    def __init__(self, parse: Callable[[object], Any]) -> None:
        self.parse = parse
        self.seen: dict[str, Any] = {}

    def __call__(self, raw: object) -> Any:
        if type(raw) is not str:
            return self.parse(raw)
        value = self.seen.get(raw, _MISSING)
        return self.first_time(raw) if value is _MISSING else value

    def first_time(self, raw: str) -> Any:
        value = self.parse(raw)
        if len(self.seen) >= _MEMO_LIMIT:
            self.seen.clear()
        self.seen[raw] = value
        return value


def readers() -> dict[str, Callable[[object], Any]]:
    """One reader per column, sharing a memo between columns of the same kind."""
    memos: dict[Callable[[object], Any], Memo] = {}
    dates = v.DateReader()  # one day/month order for all the dates it reads
    out: dict[str, Callable[[object], Any]] = {}
    for name, parse in PARSERS.items():
        if parse is v.parse_datetime:
            parse = dates
        out[name] = parse if name in _UNMEMOISED else memos.setdefault(parse, Memo(parse))
    return out


class Template:
    """The shared values of a group of rows, and what the builder makes of them once."""

    __slots__ = ("values", "made")

    def __init__(self, values: list[Any]) -> None:
        self.values = values
        self.made: Any = None  # the builder's cache (the BackupTraits of these values)


class NotFast(Exception):
    """A chunk the column-at-a-time path leaves to the row-at-a-time one."""


# -- column conversions: the same values the cell parsers return, or NotFast -------------------
def _uniform(col: Sequence[Any]) -> type | None:
    types = set(map(type, col))
    return types.pop() if len(types) == 1 else None


def _kind(col: Sequence[Any]) -> type | None:
    """The one type of a column's cells other than None (NoneType when all are None; None when
    they are of several types)."""
    types = set(map(type, col))
    if len(types) > 1:
        types.discard(_NONE)
    return types.pop() if len(types) == 1 else None


def _ints(col: Sequence[Any], read: Callable[[object], Any]) -> list[Any]:
    kind = _uniform(col)
    if kind is str:
        if not any(col):
            return [None] * len(col)
        joined = "".join(col)
        if joined.isascii() and "_" not in joined:  # what parse_int refuses, int() reads
            try:
                return list(map(int, col))  # parse_int is int() on the stripped text
            except ValueError:
                pass
    elif _kind(col) in (int, _NONE):  # values already (msdb over ODBC)
        return list(col)
    return list(map(read, col))


def _dates(col: Sequence[Any], read: Callable[[object], Any]) -> list[Any]:
    kind = _uniform(col)
    if kind is str:
        if not any(col):
            return [None] * len(col)
        for cells in _as_sent_then_stripped(col):
            try:
                out = list(map(datetime.fromisoformat, cells))  # parse_datetime's first try
            except ValueError:
                continue
            # a time with an offset (converted with the row's time_zone, or refused) and an
            # ISO week without its day (refused) are the row parser's
            if any(map(_TZINFO, out)) or "W" in (joined := "".join(cells)) or "w" in joined:
                raise NotFast
            if not (v.in_range(min(out)) and v.in_range(max(out))):
                raise NotFast  # the row parser names the date outside msdb's range
            return out
    elif _kind(col) in (datetime, _NONE):
        if not _naive(col):
            raise NotFast
        present = [d for d in col if d is not None]
        if present and not (v.in_range(min(present)) and v.in_range(max(present))):
            raise NotFast
        return list(col)
    out = list(map(read, col))
    if not _naive(out):
        raise NotFast
    return out


def _ranged(parse: Callable[[object], Any]) -> Callable[..., list[Any]]:
    """_ints, then the range ``parse`` allows (an out-of-range value: the row parser's)."""
    low, high = parse.low, parse.high  # type: ignore[attr-defined]

    def convert(col: Sequence[Any], read: Callable[[object], Any]) -> list[Any]:
        out = _ints(col, read)
        try:  # C passes: the usual column holds no null
            lowest, highest = min(out), max(out) if high is not None else None
        except TypeError:  # None among the numbers
            lowest = None
        if lowest is None:  # (a column of one None passes min without a comparison)
            present = [n for n in out if n is not None]
            lowest, highest = min(present, default=low), max(present, default=low)
        if lowest < low or (high is not None and highest is not None and highest > high):
            raise NotFast
        return out

    return convert


def _as_sent_then_stripped(col: Sequence[str]) -> Iterator[Sequence[str]]:
    """A column of texts as it came, then without the padding sqlcmd puts around cells."""
    yield col
    stripped = list(map(str.strip, col))
    if stripped != col:
        yield stripped


def _naive(col: Sequence[Any]) -> bool:
    """No cell of a column of datetimes (and Nones) carries a time zone."""
    return not any(c.tzinfo for c in col if c is not None)


def canonical_guids(texts: Sequence[str]) -> list[str] | None:
    """The texts in lower case when each is then a canonical GUID (what parse_guid returns for
    them), else None: one pattern match over the whole column."""
    lines = "\n".join(texts).lower()
    if len(lines) == 37 * len(texts) - 1 and _GUIDS.fullmatch(lines + "\n"):
        return lines.split("\n")
    return None


def decimal_lsns(texts: Sequence[str]) -> bool:
    """Each text is 1 to 25 ASCII digits: msdb's decimal LSN, which parse_lsn reads with int()."""
    digits = "".join(texts)
    return (
        digits.isdigit()
        and digits.isascii()
        and min(map(len, texts)) > 0
        and max(map(len, texts)) <= 25
    )


def _guids(col: Sequence[Any], read: Callable[[object], Any]) -> list[Any]:
    if _uniform(col) is str:
        for cells in _as_sent_then_stripped(col):
            guids = canonical_guids(cells)
            if guids is not None:
                return guids
    return list(map(read, col))


def _texts(col: Sequence[Any], read: Callable[[object], Any]) -> list[Any]:
    if _uniform(col) is str:
        stripped = list(map(str.strip, col))
        # no null spelling ('', 'null', 'none') is that long; a lone surrogate is the row parser's
        if min(map(len, stripped)) > 4 and ((joined := "".join(stripped)).isascii() or v.utf8_ok(joined)):
            return stripped
    return list(map(read, col))


def _read_column(read: Callable[[object], Any], cells: Sequence[Any]) -> list[Any]:
    """``read`` of each cell: the cells its memo knows in one C pass, the others one by one."""
    if not isinstance(read, Memo):
        return list(map(read, cells))
    out = list(map(read.seen.get, cells, repeat(_MISSING)))
    for i in [i for i, value in enumerate(out) if value is _MISSING]:
        out[i] = read(cells[i])
    return out


class LsnColumns:
    """LSN columns into shared LSN values (a log's first LSN is the previous one's last)."""

    __slots__ = ("cache",)

    def __init__(self) -> None:
        self.cache: dict[int, LSN] = {}

    def __call__(self, col: Sequence[Any], read: Callable[[object], Any]) -> list[Any]:
        kind = _uniform(col)
        if kind is str:
            for cells in _as_sent_then_stripped(col):
                if decimal_lsns(cells):
                    ints: Iterator[int] = map(int, cells)
                    break
            else:
                return list(map(read, col))
        elif _kind(col) is int:  # exact already (msdb over ODBC); None where the column is null
            values = [n for n in col if n is not None]
            if min(values) < 0 or max(values) >= 10**25:
                return list(map(read, col))
            known = self.known()
            return [None if n is None else known(n) or self.new(n) for n in col]
        else:
            return list(map(read, col))
        numbers = list(ints)
        known = self.known()
        out: list[Any] = list(map(known, numbers))  # a log's first LSN is mostly known already
        for i in [i for i, lsn in enumerate(out) if lsn is None]:
            out[i] = known(numbers[i]) or self.new(numbers[i])  # (a stripe repeats its LSNs)
        return out

    def known(self) -> Callable[[int], LSN | None]:
        if len(self.cache) >= _MEMO_LIMIT:
            self.cache.clear()
        return self.cache.get

    def new(self, n: int) -> LSN:
        lsn = self.cache[n] = LSN(n)
        return lsn


def _complete(template: Template) -> Template:
    """The template, when no required value is missing from it (else the rows say which)."""
    values = template.values
    for slot in _REQUIRED_SHARED:
        if values[slot] is None:
            raise NotFast
    return template


def _server_local(when: datetime, time_zone: int | None, column: str) -> datetime:
    """An aware time as the server-local wall clock msdb stores (ColumnProblem when the
    row's time_zone is unknown)."""
    local = v.to_server_local(when, time_zone)
    if local is None:
        raise v.ColumnProblem(column, v.aware_message(when.isoformat(sep=" ")))
    return local


def _local_own(own: tuple[Any, ...], time_zone: int | None) -> tuple[Any, ...]:
    out = list(own)
    for slot, name in _OWN_DATES:
        when = out[slot]
        if when is not None and when.tzinfo is not None:
            out[slot] = _server_local(when, time_zone, name)
    return tuple(out)


def _local_creation(values: list[Any]) -> list[Any]:
    when = values[_CREATION]
    if when is not None and when.tzinfo is not None:
        values[_CREATION] = _server_local(when, values[_TIME_ZONE], "database_creation_date")
    return values


class RowPlan:
    """How the rows of one input (one set of columns) are parsed.

    ``typed``: cells are values (ints, datetimes, bools...) rather than texts; a template key
    then also holds the cells' types, so that 1 and True are different keys.
    """

    def __init__(
        self,
        columns: Sequence[str],
        readers: Mapping[str, Callable[[object], Any]],
        *,
        typed: bool = False,
        lsns: LsnColumns | None = None,
    ) -> None:
        # msdb's names are case-insensitive: the header is normalised once, here
        # (check_header refuses a name repeated in any case)
        columns = [str(name).lower() for name in columns]
        self.columns = tuple(columns)
        index = {name: i for i, name in enumerate(columns)}
        self.cells = [(i, name, readers[name]) for i, name in enumerate(columns) if name in PARSERS]
        self.own = [(index.get(name), name, readers[name]) for name in OWN]
        self.shared = [
            (i, SHARED_SLOT[name], readers[name]) for i, name, _ in self.cells if name in SHARED
        ]
        self.shared_at = tuple(i for i, _, _ in self.shared)
        self.cells_of_key: Callable[[Sequence[Any]], tuple[Any, ...]] = (
            operator.itemgetter(*self.shared_at, 0, 0)  # always a tuple
            if self.shared
            else (lambda row: ())
        )
        self.typed = typed
        self.templates: dict[Any, Template] = {}
        self.typed_templates: dict[tuple[type, ...], dict[Any, Template]] = {}
        lsns = lsns or LsnColumns()
        kinds: dict[Callable[[object], Any], Callable[..., list[Any]]] = {
            v.parse_int: _ints,
            v.parse_datetime: _dates,
            v.parse_guid: _guids,
            v.text: _texts,
            v.parse_family: _ranged(v.parse_family),
            v.parse_mirror: _ranged(v.parse_mirror),
        }
        self.converters = [kinds.get(OWN[name], lsns) for name in OWN]

    # -- a row at a time --------------------------------------------------------------------
    def _key(self, row: Sequence[Any]) -> Any:
        cells = self.cells_of_key(row)
        return (cells, tuple(map(type, cells))) if self.typed else cells

    def _keeps(self, key: Any) -> bool:
        if self.typed:
            return _KEY_TYPES.issuperset(key[1])
        return all(type(cell) is str for cell in key)

    def _template(self, row: Sequence[Any]) -> Template:
        values: list[Any] = [None] * len(SHARED)
        for i, slot, read in self.shared:
            values[slot] = read(row[i])
        return Template(_local_creation(values))

    def parse(self, row: Sequence[Any]) -> tuple[tuple[Any, ...], Template]:
        key = self._key(row)
        try:
            template = self.templates.get(key)
        except TypeError:  # an unhashable cell (it will not parse)
            template = None
        if template is None:
            template = self._template(row)
            if self._keeps(key):
                self._remember(key, template)
        own = tuple(None if i is None else read(row[i]) for i, _, read in self.own)
        for slot, _ in _OWN_DATES:
            when = own[slot]
            if when is not None and when.tzinfo is not None:
                return _local_own(own, template.values[_TIME_ZONE]), template
        return own, template

    def _remember(self, key: Any, template: Template) -> None:
        if len(self.templates) >= _MEMO_LIMIT:
            self.templates.clear()
        self.templates[key] = template

    def first_problem(self, row: Sequence[Any]) -> tuple[str, v.ValueProblem]:
        """The first cell, in the input's column order, that does not parse."""
        for i, name, read in self.cells:
            try:
                read(row[i])
            except v.ValueProblem as exc:
                return name, exc
        raise AssertionError("a row that failed to parse parses")

    # -- a chunk at a time ------------------------------------------------------------------
    def chunk_uuids(self, cols: Sequence[Sequence[Any]]) -> list[Any]:
        """The backup_set_uuid of each row of the columns (NotFast when one does not parse)."""
        i, _, read = self.own[0]
        try:
            return [None] * len(cols[0]) if i is None else _guids(cols[i], read)
        except v.ValueProblem:
            raise NotFast from None

    def chunk_owns(self, cols: Sequence[Sequence[Any]], n: int) -> list[tuple[Any, ...]]:
        """The ``own`` tuple of each of the columns' ``n`` rows (NotFast when a cell does not
        parse: the rows then go through ``parse`` a row at a time)."""
        try:
            own_cols: list[Any] = [
                repeat(None, n) if i is None else convert(cols[i], read)
                for (i, _, read), convert in zip(self.own, self.converters, strict=True)
            ]
        except (v.ValueProblem, InputError):
            raise NotFast from None
        for slot in _REQUIRED_OWN:
            if not all(map(operator.is_not, own_cols[slot], repeat(None))):
                raise NotFast
        return list(zip(*own_cols, strict=True))

    def chunk_templates(self, cols: Sequence[Sequence[Any]], n: int) -> list[Template]:
        """The template of each of a chunk's ``n`` rows, from its columns (the chunk's rows
        transposed); NotFast when a cell does not parse."""
        if not self.shared:
            key: Any = ((), ()) if self.typed else ()
            template = self.templates.get(key) or Template([None] * len(SHARED))
            self._remember(key, template)
            return [_complete(template)] * n
        shared = [cols[i] for i in self.shared_at]
        if self.typed:  # a key holds its cells' types: one type (or None) per column here
            kinds = tuple(map(_kind, shared))
            if not _CHUNK_KEY_TYPES.issuperset(kinds) or not all(
                _naive(col) for col, kind in zip(shared, kinds, strict=True) if kind is datetime
            ):
                return [_complete(self._one_template(row)) for row in zip(*shared, strict=True)]
            templates = self.typed_templates.setdefault(kinds, {})  # type: ignore[arg-type]
        else:
            templates = self.templates
        # neighbouring rows mostly share their template: look each run of equal keys up once,
        # and parse the keys not seen before together, a column at a time
        runs = [(key, len(list(run))) for key, run in groupby(zip(*shared, strict=True))]
        missing = [key for key in dict.fromkeys(key for key, _ in runs) if key not in templates]
        made = dict(zip(missing, self._new_templates(missing), strict=True)) if missing else {}
        for key, template in made.items():
            if len(templates) >= _MEMO_LIMIT:
                templates.clear()
            templates[key] = template
        out: list[Template] = []
        for key, k in runs:
            out += repeat(_complete(made.get(key) or templates[key]), k)
        return out

    def _new_templates(self, keys: list[tuple[Any, ...]]) -> list[Template]:
        """The templates of several keys (shared cells, in ``self.shared`` order), each column
        read through its memo's dict in one C pass; NotFast when a cell does not parse."""
        columns: list[Any] = [repeat(None)] * len(SHARED)  # a column not in the input: None
        try:
            for cells, (_, slot, read) in zip(zip(*keys, strict=True), self.shared, strict=True):
                columns[slot] = _read_column(read, cells)
            # (self.shared is not empty: one column is a list, and ends the zip)
            return [Template(_local_creation(list(values))) for values in zip(*columns, strict=False)]
        except v.ValueProblem:
            raise NotFast from None

    def _one_template(self, cells: Sequence[Any]) -> Template:
        """A template from the shared cells alone (in ``self.shared`` order)."""
        values: list[Any] = [None] * len(SHARED)
        try:
            for cell, (_, slot, read) in zip(cells, self.shared, strict=True):
                values[slot] = read(cell)
            return Template(_local_creation(values))
        except v.ValueProblem:
            raise NotFast from None
