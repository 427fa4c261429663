"""RESTORE HEADERONLY result sets (saved as CSV, or as dbatools' Read-DbaBackupHeader objects).

HEADERONLY names differ from msdb's (restore-rules A.8): BackupType is a number, BindingID is
database_guid, RecoveryForkID is last_recovery_fork_guid. One row per backup set per device
file; rows of one set (same BackupSetGUID and Position) on several files are its stripes.
LABELONLY columns (FamilyCount, FamilySequenceNumber, MirrorCount) are used when present.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.lsn import LSN
from restoreplan.sources import values as v

# HEADERONLY BackupType -> msdb type letter (restore-rules A.8)
BACKUP_TYPES: dict[int, str] = {1: "D", 2: "L", 4: "F", 5: "I", 6: "G", 7: "P", 8: "Q"}
# HEADERONLY DeviceType (2/102 disk, 5/105 tape, 7/107 virtual, 9/109 URL) -> msdb device_type
DEVICE_TYPES: dict[int, int] = {2: 2, 102: 2, 5: 5, 105: 5, 7: 7, 107: 7, 9: 9, 109: 9}
PATH_COLUMNS: tuple[str, ...] = (
    "BackupPath",
    "FileName",
    "FullName",
    "Path",
    "physical_device_name",
)
# Flags bits (restore-rules A.8), used only when the bit column itself is absent
_FLAG_BITS: dict[str, int] = {
    "has_bulk_logged_data": 1,
    "is_snapshot": 2,
    "has_backup_checksums": 16,
    "is_damaged": 32,
    "has_incomplete_metadata": 128,
}
_MS_DATE = re.compile(r"^/?\\?/?Date\((-?\d+)([+-]\d{4})?\)\\?/?$")
_TZ_TEXT = re.compile(r"^(?:UTC)?\s*([+-])(\d{1,2}):?(\d{2})$")


class CellProblem(ValueError):
    """A value that does not parse; callers add file, row and column."""


# -- value parsers shared by the HEADERONLY and dbatools readers -----------------------------------


def parse_lsn(raw: object) -> int | None:
    """An exact LSN int from an int, a digit string, a Decimal; never from a float."""
    if v.is_null(raw):
        return None
    if isinstance(raw, float):
        raise CellProblem(f"LSN {raw!r} was stored as a floating-point number and lost digits")
    if isinstance(raw, Decimal):
        if raw != raw.to_integral_value():
            raise CellProblem(f"LSN {raw} is not a whole number")
        return int(raw)
    if isinstance(raw, dict):
        raise CellProblem(
            "LSN was written as an object (Windows PowerShell's ConvertTo-Json drops BigInteger digits); "
            "export with PowerShell 7, or Select-Object @{n='FirstLsn';e={\"$($_.FirstLsn)\"}}"
        )
    try:
        return LSN.parse(
            raw if isinstance(raw, int) and not isinstance(raw, bool) else str(raw)
        ).value
    except InputError as exc:
        raise CellProblem(exc.message) from None


def parse_when(raw: object, order: str | None = None) -> datetime | None:
    """A naive server-local datetime from a datetime, ISO text, or ``/Date(ms)/``.

    ``/Date(ms)/`` (Windows PowerShell's ConvertTo-Json) holds the server-local wall clock
    written as if it were UTC, so ``ms`` is read as a naive local time; with an offset suffix
    (``/Date(ms+hhmm)/``) ``ms`` is UTC and the offset gives the wall clock. An ISO offset is
    dropped: the wall-clock part is what msdb stores. ``order`` is the day/month order of
    ``a/b/yyyy`` texts decided for the whole file (``values.date_order``).
    """
    if v.is_null(raw):
        return None
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=None)
    s = str(raw).strip()
    m = _MS_DATE.match(s)
    if m:
        try:
            when = datetime(1970, 1, 1) + timedelta(milliseconds=int(m.group(1)))
            if m.group(2):
                sign = 1 if m.group(2)[0] == "+" else -1
                when += sign * timedelta(hours=int(m.group(2)[1:3]), minutes=int(m.group(2)[3:5]))
        except OverflowError:
            raise CellProblem(f"{s!r} is {v.RANGE_TEXT}") from None
        if not v.in_range(when):
            raise CellProblem(f"{s!r} is {v.RANGE_TEXT}")
        return when
    try:
        parsed = v.parse_datetime(s, order)
    except v.ValueProblem as exc:
        raise CellProblem(str(exc)) from None
    return None if parsed is None else parsed.replace(tzinfo=None)


def parse_size(raw: object) -> int | None:
    """Bytes from a number, a dbatools Size object ({"Byte": n}) or its text ("1.5 GB", approximate)."""
    if v.is_null(raw):
        return None
    if isinstance(raw, dict):
        for key in ("Byte", "byte", "Bytes"):
            if key in raw:
                return parse_size(raw[key])
        raise CellProblem(f"not a size: {raw!r}")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, Decimal):
        return int(raw)
    s = str(raw).strip()
    if "," in s:  # "1,5 GB" is 1.5 GB in a de-DE Size text, "1,024" is 1024 bytes in en-US
        grouped = re.match(r"^(\d{1,3}(?:,\d{3})+)(\s*(?:B|bytes?))?$", s, re.IGNORECASE)
        if grouped is None:
            raise CellProblem(
                f"not a size: {raw!r} (a comma is a decimal point in some cultures and a "
                "thousands separator in others; export the size in bytes)"
            )
        s = grouped.group(1).replace(",", "")
    m = re.match(r"^(\d+(?:\.\d+)?)\s*([KMGTP]?B|bytes?)?$", s, re.IGNORECASE)
    if not m:
        raise CellProblem(f"not a size: {raw!r}")
    unit = (m.group(2) or "B").upper()
    power = {"B": 0, "BYTE": 0, "BYTES": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4, "PB": 5}[unit]
    number = m.group(1)
    if power == 0 and "." not in number:
        return int(number)
    return int(Decimal(number) * 1024**power)


def parse_time_zone(raw: object) -> int | None:
    """15-minute units from an int or from text like ``+01:00`` (community code disagrees, A.8)."""
    if v.is_null(raw):
        return None
    s = str(raw).strip()
    m = _TZ_TEXT.match(s)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        units = (1 if m.group(1) == "+" else -1) * minutes // 15
        s = str(units)
    try:
        return v.parse_time_zone(raw if isinstance(raw, int) else s)
    except v.ValueProblem as exc:
        raise CellProblem(str(exc)) from None


def _wrap(fn: Callable[[object], Any]) -> Callable[[object], Any]:
    def parse(raw: object) -> Any:
        try:
            return fn(raw)
        except v.ValueProblem as exc:
            raise CellProblem(str(exc)) from None

    return parse


parse_guid = _wrap(v.parse_guid)
parse_int = _wrap(v.parse_int)
parse_bool = _wrap(v.parse_bool)
parse_text = _wrap(v.text)
parse_database_name = _wrap(v.parse_database_name)
parse_position = _wrap(v.parse_position)
parse_family = _wrap(v.parse_family)
parse_mirror = _wrap(v.parse_mirror)


def parse_backup_type(raw: object) -> str | None:
    """HEADERONLY BackupType number (1, 2, 4-8) -> msdb letter; letters pass through."""
    if v.is_null(raw):
        return None
    s = str(raw).strip()
    if s.upper() in BACKUP_TYPES.values():
        return s.upper()
    try:
        return BACKUP_TYPES[int(s)]
    except (ValueError, KeyError):
        raise CellProblem(
            f"unknown BackupType {raw!r} (expected 1 Database, 2 Log, 4 File, 5 Differential, "
            "6 Differential file, 7 Partial, 8 Differential partial)"
        ) from None


def parse_device_type(raw: object) -> int | None:
    if v.is_null(raw):
        return None
    try:
        return DEVICE_TYPES.get(int(str(raw).strip()))
    except ValueError:
        return None  # "Disk", "URL" ... text forms: unknown code, not an error


# canonical column -> (HEADERONLY / LABELONLY names, parser)
FIELDS: dict[str, tuple[tuple[str, ...], Callable[[object], Any]]] = {
    "backup_set_uuid": (("BackupSetGUID",), parse_guid),
    "type": (("BackupType",), parse_backup_type),
    "database_name": (("DatabaseName",), parse_database_name),
    "first_lsn": (("FirstLSN",), parse_lsn),
    "last_lsn": (("LastLSN",), parse_lsn),
    "checkpoint_lsn": (("CheckpointLSN",), parse_lsn),
    "database_backup_lsn": (("DatabaseBackupLSN",), parse_lsn),
    "backup_start_date": (("BackupStartDate",), parse_when),
    "backup_finish_date": (("BackupFinishDate",), parse_when),
    "position": (("Position",), parse_position),
    "server_name": (("ServerName",), parse_text),
    "machine_name": (("MachineName",), parse_text),
    "family_guid": (("FamilyGUID",), parse_guid),
    "database_guid": (("BindingID",), parse_guid),
    "database_creation_date": (("DatabaseCreationDate",), parse_when),
    "differential_base_lsn": (("DifferentialBaseLSN",), parse_lsn),
    "differential_base_guid": (("DifferentialBaseGUID",), parse_guid),
    "first_recovery_fork_guid": (("FirstRecoveryForkID",), parse_guid),
    "last_recovery_fork_guid": (("RecoveryForkID",), parse_guid),
    "fork_point_lsn": (("ForkPointLSN",), parse_lsn),
    "time_zone": (("TimeZone",), parse_time_zone),
    "last_valid_restore_time": (("LastValidRestoreTime",), parse_when),
    "recovery_model": (("RecoveryModel",), parse_text),
    "is_copy_only": (("IsCopyOnly",), parse_bool),
    "is_snapshot": (("IsSnapshot",), parse_bool),
    "is_damaged": (("IsDamaged",), parse_bool),
    "has_bulk_logged_data": (("HasBulkLoggedData",), parse_bool),
    "begins_log_chain": (("BeginsLogChain",), parse_bool),
    "has_incomplete_metadata": (("HasIncompleteMetaData",), parse_bool),
    "has_backup_checksums": (("HasBackupChecksums",), parse_bool),
    "backup_size": (("BackupSize",), parse_size),
    "compressed_backup_size": (("CompressedBackupSize",), parse_size),
    "key_algorithm": (("KeyAlgorithm",), parse_text),
    "encryptor_thumbprint": (("EncryptorThumbprint",), parse_text),
    "encryptor_type": (("EncryptorType",), parse_text),
    "software_major_version": (("SoftwareVersionMajor",), parse_int),
    "device_type": (("DeviceType",), parse_device_type),
    "physical_device_name": (PATH_COLUMNS, parse_text),
    "family_sequence_number": (("FamilySequenceNumber",), parse_family),
    "media_family_count": (("FamilyCount",), parse_int),
    "mirror_count": (("MirrorCount", "Mirror_Count"), parse_int),
}
REQUIRED_HEADER: tuple[str, ...] = (
    "BackupSetGUID",
    "BackupType",
    "DatabaseName",
    "FirstLSN",
    "LastLSN",
    "CheckpointLSN",
    "DatabaseBackupLSN",
    "BackupStartDate",
    "BackupFinishDate",
)


def is_header(keys: Sequence[str]) -> bool:
    """Do these column names / keys look like a HEADERONLY result set?"""
    low = {k.lower() for k in keys}
    return all(
        c.lower() in low for c in ("BackupSetGUID", "BackupType", "FirstLSN", "DatabaseName")
    )


def _find(rec: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, Any] | None:
    for name in names:
        if name.lower() in rec:
            return name, rec[name.lower()]
    return None


def convert_record(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One HEADERONLY row (keys lower-cased) -> canonical values; errors name ``where`` and the column."""
    out: dict[str, Any] = {}
    for canonical, (names, parse) in FIELDS.items():
        hit = _find(rec, names)
        if hit is None:
            continue
        name, raw = hit
        try:
            out[canonical] = parse(raw)
        except CellProblem as exc:
            raise InputError(
                f"{where}, column {name}: {exc}", hint="is this a RESTORE HEADERONLY export?"
            ) from None
    flags_hit = _find(rec, ("Flags",))
    if flags_hit is not None and not v.is_null(flags_hit[1]):
        try:
            flags = int(str(flags_hit[1]).strip())
        except ValueError:
            raise InputError(
                f"{where}, column Flags: not a whole number: {flags_hit[1]!r}"
            ) from None
        for canonical, bit in _FLAG_BITS.items():
            if out.get(canonical) is None:
                out[canonical] = bool(flags & bit)
    if out.get("physical_device_name") is None:
        raise InputError(
            f"{where}: no backup file name (a column named {', '.join(PATH_COLUMNS)})",
            hint="add the device path to each HEADERONLY row before saving",
        )
    for name in REQUIRED_HEADER:
        canonical = next(c for c, (names, _) in FIELDS.items() if name in names)
        if out.get(canonical) is None:
            raise InputError(
                f"{where}, column {name}: value is missing", hint="this column is required"
            )
    return out


class MappedRows(list[dict[str, Any]]):
    """Canonical rows, with the row of the input file each one came from (for messages)."""

    row_numbers: list[int] | None = None


def assign_media(
    rows: list[dict[str, Any]],
    places: Sequence[str] | None = None,
    row_numbers: Sequence[int] | None = None,
) -> MappedRows:
    """Number the stripes (and mirrors) of each backup set: grouped by backup_set_uuid and position.

    FamilySequenceNumber (LABELONLY) wins; otherwise families are numbered 1..n in file order.
    Several files of one family are its mirrors. A file listed twice for a set is kept once
    when both rows agree; rows that disagree are an error naming both (``places``: where
    each row was read). ``row_numbers`` (each row's row in the file) are kept for the rows
    returned, as their ``row_numbers``.
    """
    seen: dict[tuple[str, int], dict[str, tuple[int, int]]] = {}
    firsts: dict[tuple[str, int, str], int] = {}  # (set, position, file) -> its first row
    mirrors: dict[tuple[str, int, int], int] = {}
    out = MappedRows()
    kept: list[int] = []
    for i, row in enumerate(rows):
        key = (row["backup_set_uuid"], row.get("position") or 1)
        files = seen.setdefault(key, {})
        path = row["physical_device_name"]
        if path in files:
            first = firsts[(*key, path)]
            if rows[first] != row:
                raise _conflict(rows[first], row, places, first, i)
            continue
        firsts[(*key, path)] = i
        family = row.get("family_sequence_number") or len({f for f, _ in files.values()}) + 1
        mirror_key = (key[0], key[1], family)
        mirror = row.get("mirror")
        if mirror is None:
            mirror = mirrors.get(mirror_key, -1) + 1
        mirrors[mirror_key] = max(mirror, mirrors.get(mirror_key, -1))
        files[path] = (family, mirror)
        out.append({**row, "family_sequence_number": family, "mirror": mirror})
        kept.append(i)
    if row_numbers is not None:
        out.row_numbers = [row_numbers[i] for i in kept]
    return out


def _conflict(
    old: dict[str, Any], new: dict[str, Any], places: Sequence[str] | None, i: int, j: int
) -> InputError:
    column = next(
        (c for c in dict.fromkeys([*old, *new]) if old.get(c) != new.get(c)), "a value"
    )
    at_old = places[i] if places else f"row {i + 1}"
    at_new = places[j] if places else f"row {j + 1}"
    uuid = new["backup_set_uuid"]
    return InputError(
        f"conflicting rows for backup set {uuid}, file {new['physical_device_name']}: "
        f"{column} is {old.get(column)} at {at_old} but {new.get(column)} at {at_new}",
        hint="the inputs disagree; drop the stale rows",
        backup_set_uuid=uuid,
    )


def date_order(cells: Sequence[object], origin: str, *, am_pm_month_first: bool = False) -> str | None:
    """The day/month order of a whole file's ``a/b/yyyy`` date texts (``values.date_order``).

    ``am_pm_month_first``: when no date tells, a time with AM/PM means month-first (the
    en-US text that Export-Csv writes); otherwise the ambiguous cells are refused as read.
    """
    try:
        order = v.date_order(cells)
    except v.ValueProblem as exc:
        raise InputError(f"{origin}: {exc}", hint="export the dates as ISO text") from None
    if order is None and am_pm_month_first:
        if any(isinstance(c, str) and re.search(r"\d\s*[AaPp][Mm]\s*$", c) for c in cells):
            return "mdy"
    return order


_DATE_COLUMNS = tuple(
    name.lower() for names, parse in FIELDS.values() if parse is parse_when for name in names
)


def to_canonical(
    columns: list[str],
    rows: list[list[str]],
    origin: str,
    *,
    first_row: int = 1,
    row_numbers: Sequence[int] | None = None,
) -> MappedRows:
    """HEADERONLY CSV rows -> canonical rows (one per backup set per file).

    ``row_numbers``: each row's number in messages (the header line is row 1); without them
    rows are numbered from ``first_row``. A column named twice (in any case) is refused.
    """
    if not is_header(columns):
        raise InputError(
            f"{origin}: not a RESTORE HEADERONLY export (needs BackupSetGUID, BackupType, FirstLSN, DatabaseName)",
            hint="pass --input-format or export with the HEADERONLY column names",
        )
    low = [c.strip().lower() for c in columns]
    named = [c for c in low if c]  # columns without a name (trailing delimiters) name nothing
    if len(set(named)) != len(named):
        twice = sorted({c for c in named if named.count(c) > 1})
        raise InputError(
            f"{origin}: column(s) named more than once: {', '.join(twice)}",
            hint="column names are compared case-insensitively; keep one of each",
        )
    numbers = row_numbers if row_numbers is not None else range(first_row, first_row + len(rows))
    dated = [i for i, name in enumerate(low) if name in _DATE_COLUMNS]
    cells = [row[i] for row in rows for i in dated if i < len(row)]
    order = date_order(cells, origin, am_pm_month_first=True)
    converted = []
    places = []
    kept_numbers = []
    for row_no, row in zip(numbers, rows, strict=True):
        if not any((cell or "").strip() for cell in row):
            continue
        if len(row) > len(low):
            raise InputError(
                f"{origin}, row {row_no}: {len(row)} cells but {len(low)} columns in the header"
            )
        rec: dict[str, Any] = {name: (row[i] if i < len(row) else None) for i, name in enumerate(low)}
        where = f"{origin}, row {row_no}"
        if order is not None:
            _dates_in_order(rec, order, where)
        converted.append(convert_record(rec, where))
        places.append(where)
        kept_numbers.append(row_no)
    return assign_media(converted, places, kept_numbers)


def _dates_in_order(rec: dict[str, Any], order: str, where: str) -> None:
    """The record's date texts parsed with the file's day/month order (in place)."""
    for key in _DATE_COLUMNS:
        raw = rec.get(key)
        if isinstance(raw, str):
            try:
                rec[key] = parse_when(raw, order)
            except CellProblem as exc:
                raise InputError(f"{where}, column {key}: {exc}") from None
