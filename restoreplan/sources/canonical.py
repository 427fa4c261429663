"""Canonical rows (msdb column names, one row per media file) -> BackupSet values.

Histories of never-purged msdb databases hold millions of rows, so the builder keeps its cost
linear and its memory compact: a row is parsed into a list of values in a fixed column order
(no per-row dicts), values that repeat from row to row (database names, GUIDs, flags, the LSN a
log starts at, which is the LSN the previous log ended at) are parsed once and shared through a
small bounded memo, and a set under construction keeps its first row's place as (origin, row)
rather than a formatted string.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, BackupType, DatabaseFile, MediaFile
from restoreplan.sources import values as v
from restoreplan.sources.columns import REQUIRED

_SET_LEVEL_SKIP = {"physical_device_name", "device_type", "family_sequence_number", "mirror"}
_TYPES = {t.value for t in BackupType}


@dataclass(slots=True)
class _Acc:
    """A backup set being assembled from its media-file rows."""

    values: list[Any]  # parsed values in _COLUMNS order (the first row's, filled in by later rows)
    origin: str
    row: int | None
    files: list[MediaFile]

    @property
    def where(self) -> str:
        return _where(self.origin, self.row)


def _where(origin: str, row: int | None) -> str:
    return origin if row is None else f"{origin}, row {row}"


def _problem(origin: str, row: int | None, column: str, exc: Exception) -> InputError:
    return InputError(
        f"{_where(origin, row)}, column {column}: {exc}",
        hint="fix the value or export the history again with `restoreplan export-query`",
    )


def _lsn(raw: object) -> LSN | None:
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


def _type(raw: object) -> BackupType:
    s = v.text(raw)
    if s is None or s.upper() not in _TYPES:
        raise v.ValueProblem(f"unknown backup type {raw!r} (expected D, I, L, F, G, P or Q)")
    return BackupType(s.upper())


_PARSERS: dict[str, Any] = {
    "database_name": v.text,
    "backup_set_uuid": v.parse_guid,
    "type": _type,
    "first_lsn": _lsn,
    "last_lsn": _lsn,
    "checkpoint_lsn": _lsn,
    "database_backup_lsn": _lsn,
    "backup_start_date": v.parse_datetime,
    "backup_finish_date": v.parse_datetime,
    "physical_device_name": v.text,
    "backup_set_id": v.parse_int,
    "media_set_id": v.parse_int,
    "position": v.parse_int,
    "server_name": v.text,
    "machine_name": v.text,
    "family_guid": v.parse_guid,
    "database_guid": v.parse_guid,
    "database_creation_date": v.parse_datetime,
    "differential_base_lsn": _lsn,
    "differential_base_guid": v.parse_guid,
    "first_recovery_fork_guid": v.parse_guid,
    "last_recovery_fork_guid": v.parse_guid,
    "fork_point_lsn": _lsn,
    "time_zone": v.parse_int,
    "last_valid_restore_time": v.parse_datetime,
    "recovery_model": v.text,
    "is_copy_only": v.parse_bool,
    "is_snapshot": v.parse_bool,
    "is_damaged": v.parse_bool,
    "has_bulk_logged_data": v.parse_bool,
    "begins_log_chain": v.parse_bool,
    "has_incomplete_metadata": v.parse_bool,
    "has_backup_checksums": v.parse_bool,
    "is_password_protected": v.parse_bool,
    "backup_size": v.parse_int,
    "compressed_backup_size": v.parse_int,
    "key_algorithm": v.text,
    "encryptor_thumbprint": v.text,
    "encryptor_type": v.text,
    "software_major_version": v.parse_int,
    "device_type": v.parse_int,
    "family_sequence_number": v.parse_int,
    "mirror": v.parse_int,
    "media_family_count": v.parse_int,
    "mirror_count": v.parse_int,
}
_BOOL_FIELDS = {k for k, p in _PARSERS.items() if p is v.parse_bool}
_MODEL_FIELDS = set(BackupSet.__slots__)  # type: ignore[attr-defined]

# A parsed row is a list in this order: the set-level columns first, then the media-file ones.
_COLUMNS: tuple[str, ...] = tuple(k for k in _PARSERS if k not in _SET_LEVEL_SKIP) + tuple(
    k for k in _PARSERS if k in _SET_LEVEL_SKIP
)
_SLOT = {name: i for i, name in enumerate(_COLUMNS)}
_N_SET = len(_PARSERS) - len(_SET_LEVEL_SKIP)  # values[:_N_SET] describe the backup set
_REQUIRED_SLOTS = tuple((_SLOT[name], name) for name in REQUIRED)
_UUID, _DEVICE = _SLOT["backup_set_uuid"], _SLOT["physical_device_name"]
_FAMILY, _MIRROR, _DEVICE_TYPE = (
    _SLOT["family_sequence_number"],
    _SLOT["mirror"],
    _SLOT["device_type"],
)
_SET_FIELDS = _COLUMNS[:_N_SET]  # every one a BackupSet field (checked below)
assert _MODEL_FIELDS.issuperset(_SET_FIELDS)

# Values unique to one backup set are parsed directly; the others repeat from row to row and
# are parsed once per distinct text (memoised per parser, so that the first_lsn of a log shares
# the LSN parsed from the previous log's last_lsn).
_UNIQUE_PER_SET = frozenset({
    "backup_set_uuid", "backup_set_id", "media_set_id", "backup_start_date", "backup_finish_date",
    "physical_device_name", "backup_size", "compressed_backup_size", "last_valid_restore_time",
})  # fmt: skip
# Columns that change from one backup set to the next (the others repeat; see _RowPlan).
_PER_SET = _UNIQUE_PER_SET | {"first_lsn", "last_lsn", "checkpoint_lsn"}
_MEMO_LIMIT = 1 << 16  # entries per parser; the memo starts afresh when full


class _Memo:
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


_MISSING = object()


# A text cell first goes through the C conversion; only what it refuses reaches the full
# parser, which returns the same value for every text the C conversion accepts.
_FAST: dict[Callable[[object], Any], Callable[[str], Any]] = {
    v.parse_int: int,
    v.parse_datetime: datetime.fromisoformat,
}


# Cells whose equal values always parse alike (1 == 1.0 == True, Decimal("1") == Decimal("1.0")
# and aware datetimes equal across zones do not): only these may be part of a template's key.
_KEY_TYPES = frozenset({str, int, bool, type(None)})


class _RowPlan:
    """How the rows of one input (one set of columns) are parsed.

    The columns that change from one backup set to the next (_PER_SET) are parsed cell by cell.
    The others (database, GUIDs, forks, flags, the differential base...) repeat as a group:
    their values are one key, parsed once into a template row that later rows copy. A key is
    kept only when its cells are texts (``typed``: texts, ints, bools and None, the key then
    holding the cells' types too, so that 1 and True are different keys).
    """

    def __init__(
        self,
        columns: Sequence[str],
        readers: Mapping[str, Callable[[object], Any]],
        *,
        typed: bool = False,
    ) -> None:
        self.cells = [
            (i, _SLOT[name], readers[name]) for i, name in enumerate(columns) if name in _SLOT
        ]
        self.own = [
            (i, slot, _FAST.get(_PARSERS[_COLUMNS[slot]]), read)
            for i, slot, read in self.cells
            if _COLUMNS[slot] in _PER_SET
        ]
        self.shared = [
            (i, slot, read) for i, slot, read in self.cells if _COLUMNS[slot] not in _PER_SET
        ]
        self.cells_of_key: Callable[[Sequence[Any]], tuple[Any, ...]] = (
            operator.itemgetter(*(i for i, _, _ in self.shared), 0, 0)  # always a tuple
            if self.shared
            else (lambda row: ())
        )
        self.typed = typed
        self.templates: dict[Any, list[Any]] = {}

    def _key(self, row: Sequence[Any]) -> Any:
        cells = self.cells_of_key(row)
        return (cells, tuple(map(type, cells))) if self.typed else cells

    def _keeps(self, key: Any) -> bool:
        if self.typed:
            return _KEY_TYPES.issuperset(key[1])
        return all(type(cell) is str for cell in key)

    def parse(self, row: Sequence[Any]) -> list[Any]:
        key = self._key(row)
        try:
            template = self.templates.get(key)
        except TypeError:  # an unhashable cell (it will not parse)
            template = None
        if template is None:
            template = [None] * len(_COLUMNS)
            for i, slot, read in self.shared:
                template[slot] = read(row[i])
            if self._keeps(key):
                if len(self.templates) >= _MEMO_LIMIT:
                    self.templates.clear()
                self.templates[key] = template
        values = template.copy()
        for i, slot, fast, read in self.own:
            raw = row[i]
            if fast is not None and type(raw) is str and raw:
                try:
                    values[slot] = fast(raw)
                    continue
                except ValueError:
                    pass
            values[slot] = read(raw)
        return values

    def first_problem(self, row: Sequence[Any]) -> tuple[str, v.ValueProblem]:
        """The first cell, in the input's column order, that does not parse."""
        for i, slot, read in self.cells:
            try:
                read(row[i])
            except v.ValueProblem as exc:
                return _COLUMNS[slot], exc
        raise AssertionError("a row that failed to parse parses")


def check_header(columns: Sequence[str], origin: str) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(
            f"{origin}: missing required column(s) {', '.join(missing)}",
            hint="export with the SQL printed by `restoreplan export-query` (or pass --input-format)",
        )


class SetBuilder:
    """Accumulates canonical rows from any number of inputs and builds BackupSets.

    Identical rows are merged; a row that disagrees with an earlier row of the same backup set
    is an error naming both places.
    """

    def __init__(self) -> None:
        self._sets: dict[str, _Acc] = {}
        self._db_files: dict[str, list[DatabaseFile]] = {}
        self._built: list[BackupSet] | None = None
        self.rows_read = 0
        memos: dict[Callable[[object], Any], _Memo] = {}
        self._readers: dict[str, Callable[[object], Any]] = {
            name: parse if name in _UNIQUE_PER_SET else memos.setdefault(parse, _Memo(parse))
            for name, parse in _PARSERS.items()
        }

    def add_rows(
        self, columns: Sequence[str], rows: Iterable[Sequence[Any]], origin: str, first_row: int = 1
    ) -> None:
        """Add positional rows under ``columns`` (header already checked)."""
        check_header(columns, origin)
        width = len(columns)
        plan = _RowPlan(columns, self._readers)
        row_no = first_row - 1
        for row_no, row in enumerate(rows, start=first_row):  # noqa: B007
            if len(row) < width:
                row = [*row, *([None] * (width - len(row)))]
            try:
                values = plan.parse(row)
            except v.ValueProblem:
                name, exc = plan.first_problem(row)
                raise _problem(origin, row_no, name, exc) from None
            self._add(values, origin, row_no, columns)
        self.rows_read += max(0, row_no - first_row + 1)

    def add_mappings(self, rows: Iterable[Mapping[str, Any]], origin: str) -> None:
        """Add rows given as mappings keyed by canonical column names."""
        plans: dict[tuple[str, ...], tuple[_RowPlan, list[str]]] = {}  # by the row's keys
        for row_no, row in enumerate(rows, start=1):
            if row_no == 1:
                check_header(list(row.keys()), origin)
            names = tuple(row)
            known = plans.get(names)
            if known is None:
                if len(plans) >= 64:
                    plans.clear()
                plan = _RowPlan(names, self._readers, typed=True)
                known = plans[names] = (plan, [c for c in REQUIRED if c not in row])
            plan, missing = known
            cells = list(row.values())
            try:
                values = plan.parse(cells)
            except v.ValueProblem:
                name, exc = plan.first_problem(cells)
                raise _problem(origin, row_no, name, exc) from None
            if missing:
                raise InputError(f"{_where(origin, row_no)}: missing key(s) {', '.join(missing)}")
            self._add(values, origin, row_no, names)
            self.rows_read += 1

    def add_database_files(self, backup_set_uuid: str, files: Iterable[DatabaseFile]) -> None:
        if self._built is not None:
            raise RuntimeError("database files added to a SetBuilder after build()")
        self._db_files.setdefault(backup_set_uuid, []).extend(files)

    def _add(
        self, values: list[Any], origin: str, row_no: int | None, names: Iterable[str]
    ) -> None:
        """Add one parsed row; ``names`` are the input's columns, in its order."""
        if self._built is not None:
            raise RuntimeError("rows added to a SetBuilder after build()")
        for slot, name in _REQUIRED_SLOTS:
            if values[slot] is None:
                raise InputError(
                    f"{_where(origin, row_no)}, column {name}: value is missing",
                    hint="this column is required",
                )
        uuid = values[_UUID]
        device = values[_DEVICE]
        media = MediaFile(device, values[_FAMILY] or 1, values[_MIRROR] or 0, values[_DEVICE_TYPE])
        acc = self._sets.get(uuid)
        if acc is None:
            self._sets[uuid] = _Acc(values, origin, row_no, [media])
            return
        if acc.values[:_N_SET] != values[:_N_SET]:
            self._merge(acc, values, _where(origin, row_no), names)
        for old_media in acc.files:
            if (
                old_media.family_sequence_number,
                old_media.mirror,
                old_media.physical_device_name,
            ) == (media.family_sequence_number, media.mirror, device):
                if old_media != media:
                    raise InputError(
                        f"conflicting rows for backup set {uuid}, file {device}: {old_media} at "
                        f"{acc.where} but {media} at {_where(origin, row_no)}",
                        backup_set_uuid=uuid,
                    )
                return
        acc.files.append(media)

    @staticmethod
    def _merge(acc: _Acc, values: list[Any], where: str, names: Iterable[str]) -> None:
        """Fill in what the set's earlier rows left null; a different value is a conflict.

        Columns are compared in the input's order, so the first conflicting one is reported.
        """
        known = acc.values
        for name in dict.fromkeys(names):
            slot = _SLOT.get(name, _N_SET)
            if slot >= _N_SET:
                continue
            val, old = values[slot], known[slot]
            if val is None or old == val:
                continue
            if old is None:
                known[slot] = val
                continue
            uuid = known[_UUID]
            raise InputError(
                f"conflicting rows for backup set {uuid}: {_COLUMNS[slot]} is {old} at {acc.where} "
                f"but {val} at {where}",
                hint="the inputs disagree; drop the stale export",
                backup_set_uuid=uuid,
            )

    def build(self) -> list[BackupSet]:
        """The backup sets, in the order they were first seen.

        Building hands the sets over: each one's accumulated rows are released as it is built, so
        a history never sits in memory twice. Calling build again returns the same sets; adding
        rows after building is an error.
        """
        if self._built is not None:
            return list(self._built)
        out: list[BackupSet] = []
        for uuid in list(self._sets):
            acc = self._sets.pop(uuid)
            kwargs = dict(zip(_SET_FIELDS, acc.values, strict=False))  # the set-level values
            for key in _BOOL_FIELDS:
                kwargs[key] = bool(kwargs[key])
            tz = kwargs["time_zone"]
            kwargs["time_zone"] = None if tz is None or tz == 127 else tz
            kwargs["position"] = kwargs["position"] or 1
            start: datetime = kwargs["backup_start_date"]
            finish: datetime = kwargs["backup_finish_date"]
            if finish < start:
                raise InputError(
                    f"{acc.where}: backup_finish_date {finish} is before backup_start_date {start}",
                    backup_set_uuid=uuid,
                )
            if kwargs["last_lsn"] < kwargs["first_lsn"]:
                raise InputError(
                    f"{acc.where}: last_lsn {kwargs['last_lsn']} is before first_lsn {kwargs['first_lsn']}",
                    backup_set_uuid=uuid,
                )
            files = acc.files
            if len(files) > 1:
                files = sorted(files, key=lambda m: (m.family_sequence_number, m.mirror))
            kwargs["files"] = tuple(files)
            kwargs["db_files"] = tuple(self._db_files.get(uuid, ()))
            out.append(BackupSet(**kwargs))
        self._built = out
        return list(out)
