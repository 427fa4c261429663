"""dbatools exports: ConvertTo-Json, Export-Csv and Export-Clixml of its backup objects.

Three shapes are recognised per record (property names are matched case-insensitively):

* ``Dataplat.Dbatools.Database.BackupHistory`` from Get-DbaDbBackupHistory and
  Get-DbaBackupInformation (Database, Start, End, Path[], Type "Full"..., BackupSetId,
  FirstLsn ...). Get-DbaDbBackupHistory's BackupSetId is msdb's local backup_set_id, not the
  GUID: a stable stand-in GUID is derived from SqlInstance and BackupSetId.
* Read-DbaBackupHeader rows: the HEADERONLY columns plus BackupPath (see ``headeronly``).
* Rows that already carry msdb's column names (``Get-DbaDbBackupHistory -Raw -Force``).

LSNs are never read through a float: JSON numbers are parsed as ints (``parse_float=str``),
and Windows PowerShell's ``{"IsPowerOfTwo": ...}`` rendering of a BigInteger is refused.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.sources import headeronly as ho
from restoreplan.sources import values as v
from restoreplan.sources.columns import ALL, REQUIRED
from restoreplan.sources.jsonstream import beyond_limits, unique_keys
from restoreplan.sources.rowplan import PARSERS

# namespace for the stand-in GUIDs of Get-DbaDbBackupHistory sets (uuid5 of instance|backup_set_id)
DBATOOLS_NAMESPACE = uuid.UUID("8c0e7a52-3c1f-5a7e-9d3e-2f6f0b1c4d21")

TYPE_WORDS: dict[str, str] = {
    "full": "D",
    "database": "D",
    "differential": "I",
    "database differential": "I",
    "log": "L",
    "transaction log": "L",
    "file": "F",
    "file or filegroup": "F",
    "differential file": "G",
    "file differential": "G",
    "partial full": "P",
    "partial database": "P",
    "partial": "P",
    "partial differential": "Q",
}
DEVICE_WORDS: dict[str, int] = {
    "disk": 2,
    "permanent disk device": 2,
    "tape": 5,
    "permanent tape device": 5,
    "virtual device": 7,
    "url": 9,
}
_LSN = {
    "first_lsn",
    "last_lsn",
    "checkpoint_lsn",
    "database_backup_lsn",
    "differential_base_lsn",
    "fork_point_lsn",
}
_DATES = {
    "backup_start_date",
    "backup_finish_date",
    "database_creation_date",
    "last_valid_restore_time",
}
_ARRAY_TEXT = re.compile(r"^System\.(String|Object)\[\]$")


def parse_type(raw: object) -> str | None:
    """ "Full", "Transaction Log", "Database Differential", D/I/L..., or HEADERONLY codes -> letter."""
    if v.is_null(raw):
        return None
    s = str(raw).strip()
    letter = TYPE_WORDS.get(s.lower())
    if letter:
        return letter
    try:
        return ho.parse_backup_type(s)
    except ho.CellProblem:
        raise ho.CellProblem(
            f"unknown backup type {raw!r} (expected Full, Differential, Log, File, Differential File, "
            "Partial Full, Partial Differential, or D/I/L/F/G/P/Q)"
        ) from None


def parse_device(raw: object) -> int | None:
    if v.is_null(raw):
        return None
    word = DEVICE_WORDS.get(str(raw).strip().lower())
    return word if word is not None else ho.parse_device_type(raw)


def _first(raw: object) -> object:
    """RecoveryModel and friends come as an array (one per file) from Get-DbaBackupInformation."""
    if isinstance(raw, list):
        return raw[0] if raw else None
    return raw


def _text(raw: object) -> Any:
    return ho.parse_text(_first(raw))


def _database_name(raw: object) -> Any:
    return ho.parse_database_name(_first(raw))


# canonical column -> (property names, lower-case, in preference order; parser)
HISTORY_FIELDS: dict[str, tuple[tuple[str, ...], Callable[[object], Any]]] = {
    "database_name": (("database", "databasename", "database_name"), _database_name),
    "type": (("type", "backuptype", "backuptypedescription"), parse_type),
    "first_lsn": (("firstlsn", "first_lsn"), ho.parse_lsn),
    "last_lsn": (("lastlsn", "last_lsn"), ho.parse_lsn),
    "checkpoint_lsn": (("checkpointlsn", "checkpoint_lsn"), ho.parse_lsn),
    "database_backup_lsn": (("databasebackuplsn", "database_backup_lsn"), ho.parse_lsn),
    "backup_start_date": (("start", "backupstartdate", "backup_start_date"), ho.parse_when),
    "backup_finish_date": (("end", "backupfinishdate", "backup_finish_date"), ho.parse_when),
    "position": (("position",), ho.parse_int),
    "server_name": (("sqlinstance", "server", "servername", "server_name"), _text),
    "machine_name": (("computername", "machinename", "machine_name"), _text),
    "family_guid": (("familyguid", "family_guid"), ho.parse_guid),
    "database_guid": (("databaseguid", "database_guid", "bindingid"), ho.parse_guid),
    "differential_base_lsn": (("differentialbaselsn", "differential_base_lsn"), ho.parse_lsn),
    "differential_base_guid": (("differentialbaseguid", "differential_base_guid"), ho.parse_guid),
    "first_recovery_fork_guid": (
        ("firstrecoveryforkid", "firstrecoveryforkguid", "first_recovery_fork_guid"),
        ho.parse_guid,
    ),
    "last_recovery_fork_guid": (
        ("lastrecoveryforkguid", "last_recovery_fork_guid", "recoveryforkid"),
        ho.parse_guid,
    ),
    "fork_point_lsn": (("forkpointlsn", "fork_point_lsn"), ho.parse_lsn),
    "time_zone": (("timezone", "time_zone"), ho.parse_time_zone),
    "recovery_model": (("recoverymodel", "recovery_model"), _text),
    "is_copy_only": (("iscopyonly", "is_copy_only"), ho.parse_bool),
    "backup_size": (("totalsize", "backupsize", "backup_size"), ho.parse_size),
    "compressed_backup_size": (("compressedbackupsize", "compressed_backup_size"), ho.parse_size),
    "software_major_version": (("softwareversionmajor", "software_major_version"), ho.parse_int),
    "key_algorithm": (("keyalgorithm", "key_algorithm"), _text),
    "encryptor_thumbprint": (("encryptorthumbprint", "encryptor_thumbprint"), _text),
    "encryptor_type": (("encryptortype", "encryptor_type"), _text),
    "device_type": (("devicetype", "device_type"), parse_device),
}
_PATH_KEYS = ("path", "fullname", "backuppath", "physical_device_name")
_HISTORY_REQUIRED = (
    "database_name",
    "type",
    "first_lsn",
    "last_lsn",
    "checkpoint_lsn",
    "backup_start_date",
    "backup_finish_date",
)


def is_history(keys: Sequence[str]) -> bool:
    """Do these keys look like a dbatools BackupHistory object?"""
    low = {k.lower() for k in keys}
    return (
        {"firstlsn", "lastlsn"} <= low
        and bool(low & {"database", "databasename"})
        and bool(low & {"start", "end"})
        and bool(low & set(_PATH_KEYS))
    )


def _lower(rec: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """The record with its property names in lower case; two names that differ only in case
    are refused (PowerShell's own objects cannot have them: which one would count?)."""
    out = {str(k).lower(): val for k, val in rec.items()}
    if len(out) != len(rec):
        names = [str(k).lower() for k in rec]
        twice = sorted({k for k in names if names.count(k) > 1})
        raise InputError(
            f"{where or 'a record'}: property/column named more than once: {', '.join(twice)}",
            hint="names are compared case-insensitively; keep one of each",
        )
    return out


def _paths(rec: dict[str, Any], where: str) -> list[str]:
    for key in _PATH_KEYS:
        if key not in rec or v.is_null(rec[key]):
            continue
        raw = rec[key]
        items = raw if isinstance(raw, list) else [raw]
        out = [str(p).strip() for p in items if not v.is_null(p)]
        for p in out:
            if _ARRAY_TEXT.match(p):
                raise InputError(
                    f"{where}, column {key}: holds {p!r}: Export-Csv cannot write the file list",
                    hint="export with ConvertTo-Json, Export-Clixml, or Get-DbaDbBackupHistory -Raw | Export-Csv",
                )
        if out:
            return out
    raise InputError(
        f"{where}: no backup file (Path, FullName or BackupPath)", hint="the file list is required"
    )


def _set_uuid(rec: dict[str, Any], out: dict[str, Any], where: str) -> str:
    for key in ("backupsetguid", "backup_set_uuid", "backupsetid"):
        raw = rec.get(key)
        if v.is_null(raw):
            continue
        try:
            guid = v.parse_guid(raw)
        except v.ValueProblem:
            if key != "backupsetid":
                raise InputError(f"{where}, column {key}: not a GUID: {raw!r}") from None
            guid = None
        if guid:
            return guid
        # Get-DbaDbBackupHistory: msdb's local integer id -> stable stand-in per instance
        instance = out.get("server_name") or rec.get("computername") or ""
        return str(uuid.uuid5(DBATOOLS_NAMESPACE, f"{str(instance).lower()}|{raw}"))
    key = "|".join(
        str(out.get(c)) for c in ("server_name", "database_name", "type", "first_lsn", "last_lsn")
    )
    return str(uuid.uuid5(DBATOOLS_NAMESPACE, key))


def _history_rows(rec: dict[str, Any], where: str) -> list[dict[str, Any]]:
    out: dict[str, Any] = {}
    for canonical, (keys, parse) in HISTORY_FIELDS.items():
        for key in keys:
            if key in rec:
                try:
                    out[canonical] = parse(rec[key])
                except ho.CellProblem as exc:
                    raise InputError(f"{where}, column {key}: {exc}") from None
                if out[canonical] is not None:
                    break
    for canonical in _HISTORY_REQUIRED:
        if out.get(canonical) is None:
            names = "/".join(HISTORY_FIELDS[canonical][0][:2])
            raise InputError(
                f"{where}, column {names}: value is missing", hint="this property is required"
            )
    if out.get("database_backup_lsn") is None:
        out["database_backup_lsn"] = 0  # Get-DbaBackupInformation writes 0 when the header has none
    out["backup_set_uuid"] = _set_uuid(rec, out, where)
    return [{**out, "physical_device_name": p} for p in _paths(rec, where)]


# msdb columns of -Raw rows read here as the msdb reader reads them (Export-Csv writes every
# value as text: mirror "1" must be the number 1 before the files are numbered)
_TYPED = {
    name: ho._wrap(parse)
    for name, parse in PARSERS.items()
    if parse
    in (
        v.parse_int, v.parse_bool, v.parse_position, v.parse_family, v.parse_mirror,
        v.parse_time_zone,
    )
}  # fmt: skip


def _msdb_row(rec: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ALL:
        if name not in rec:
            continue
        raw = rec[name]
        try:
            if name in _LSN:
                out[name] = ho.parse_lsn(raw)
            elif name in _DATES:
                out[name] = ho.parse_when(raw)
            elif name in _TYPED:
                out[name] = _TYPED[name](raw)
            else:
                out[name] = raw
        except ho.CellProblem as exc:
            raise InputError(f"{where}, column {name}: {exc}") from None
    return out


def _convert(record: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(record, Mapping):
        raise InputError(f"{where}: expected an object, found {type(record).__name__}")
    rec = _lower(record, where)
    if all(c in rec for c in REQUIRED):
        return [_msdb_row(rec, where)]
    if ho.is_header(list(rec)):
        return [ho.convert_record(rec, where)]
    if is_history(list(rec)):
        return _history_rows(rec, where)
    raise InputError(
        f"{where}: not a dbatools backup object (no FirstLsn/LastLsn/Database/Start/Path)",
        hint="export Get-DbaDbBackupHistory, Get-DbaBackupInformation or Read-DbaBackupHeader",
    )


_DATE_KEYS = frozenset(
    {key for c in _DATES if c in HISTORY_FIELDS for key in HISTORY_FIELDS[c][0]}
    | _DATES
    | set(ho._DATE_COLUMNS)
)


def to_canonical(
    records: list[dict[str, Any]],
    origin: str,
    *,
    row_numbers: Sequence[int] | None = None,
    dates_as_text: bool = False,
) -> ho.MappedRows:
    """dbatools objects (parsed JSON, CSV or CLIXML records) -> canonical rows, one per file.

    ``row_numbers``: each record's row in messages (default 1, 2, ...). ``dates_as_text``
    (Export-Csv): dates are the culture's text, and their day/month order is decided once
    for the file (``headeronly.date_order``; AM/PM with no other clue: month-first, en-US).
    """
    numbers = row_numbers if row_numbers is not None else range(1, len(records) + 1)
    order = None
    if dates_as_text:
        order = ho.date_order(
            [val for r in records for k, val in r.items() if str(k).lower() in _DATE_KEYS],
            origin,
            am_pm_month_first=True,
        )
    rows: list[dict[str, Any]] = []
    places: list[str] = []
    rows_at: list[int] = []
    for row_no, record in zip(numbers, records, strict=True):
        where = f"{origin}, row {row_no}"
        if order is not None and isinstance(record, Mapping):
            record = _dates_in_order(_lower(record, where), order, where)
        converted = _convert(record, where)
        rows.extend(converted)
        places += [where] * len(converted)
        rows_at += [row_no] * len(converted)
    return ho.assign_media(rows, places, rows_at)


def _dates_in_order(rec: dict[str, Any], order: str, where: str) -> dict[str, Any]:
    """The record's date texts parsed with the file's day/month order."""
    for key in _DATE_KEYS & rec.keys():
        raw = rec[key]
        if isinstance(raw, str):
            try:
                rec[key] = ho.parse_when(raw, order)
            except ho.CellProblem as exc:
                raise InputError(f"{where}, column {key}: {exc}") from None
    return rec


# -- file readers ----------------------------------------------------------------------------------


def decode_text(data: bytes, origin: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM, as PowerShell writes (Out-File is UTF-16)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"
    elif len(data) >= 2 and data[1:2] == b"\x00":
        enc = "utf-16-le"
    else:
        enc = "utf-8"
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{origin}: not {enc} text (byte {exc.start})", hint="save as UTF-8 or UTF-16"
        ) from None


def read_json_text(data: bytes, origin: str) -> list[dict[str, Any]]:
    """ConvertTo-Json output -> records; numbers with a fraction or exponent stay text."""
    text = decode_text(data, origin)
    try:
        doc = json.loads(text, parse_float=str, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{origin}, line {exc.lineno}, column {exc.colno}: not JSON: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise beyond_limits(origin, exc) from None
    if isinstance(doc, dict) and isinstance(doc.get("value"), list) and "Count" in doc:
        count = doc["Count"]  # Windows PowerShell's {"value": [...], "Count": n} wrapping
        if count != len(doc["value"]):  # a cut or edited file: rows would be missing unseen
            raise InputError(f"{origin}: the PowerShell wrapper says Count {count!r} but holds "
                             f"{len(doc['value'])} objects", hint="export the history again")
        doc = doc["value"]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list) or not all(isinstance(d, dict) for d in doc):
        raise InputError(f"{origin}: expected a JSON array of objects")
    return doc


def read_csv_text(text: str, origin: str) -> tuple[list[str], list[list[str]]]:
    """Export-Csv output -> (header, rows); a leading ``#TYPE ...`` line is skipped."""
    lines = text.lstrip("\ufeff").splitlines()
    if lines and lines[0].startswith("#TYPE"):
        lines = lines[1:]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    try:
        table = [row for row in reader]
    except csv.Error as exc:
        raise InputError(f"{origin}, row {reader.line_num}: bad CSV: {exc}") from None
    if not table:
        raise InputError(f"{origin}: empty file")
    return [c.strip() for c in table[0]], table[1:]


def csv_to_canonical(
    columns: list[str], rows: list[list[str]], origin: str, *, first_row: int = 1
) -> list[dict[str, Any]]:
    """Export-Csv rows (header already split off) -> canonical rows."""
    records = []
    for row_no, row in enumerate(rows, start=first_row):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            raise InputError(f"{origin}, row {row_no}: {len(row)} cells but {len(columns)} columns")
        records.append((row_no, dict(zip(columns, row, strict=False))))
    return to_canonical(
        [rec for _, rec in records], origin, row_numbers=[n for n, _ in records],
        dates_as_text=True,
    )


# -- Export-Clixml ---------------------------------------------------------------------------------

_PS_NS = "{http://schemas.microsoft.com/powershell/2004/04}"


def _local(tag: str) -> str:
    return tag[len(_PS_NS) :] if tag.startswith(_PS_NS) else tag.split("}")[-1]


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _clixml_value(el: ET.Element, refs: dict[str, Any]) -> Any:
    tag = _local(el.tag)
    text = el.text or ""
    if tag == "Nil":
        return None
    if tag in ("S", "G", "DT", "TS", "URI", "Version", "C", "XD", "SBK", "SS"):
        return text
    if tag in ("I16", "I32", "I64", "U8", "U16", "U32", "U64", "By", "SB"):
        s = text.strip()
        if not (s.lstrip("-").isdigit() and s.isascii() and len(s) <= 20):
            raise ValueError(f"<{tag}> holds {_short(text)}, not an integer")
        return int(s)
    if tag in ("D", "Db", "Sg"):
        return text  # decimal/double as text: an LSN never goes through a float
    if tag == "B":
        return text.strip().lower() == "true"
    if tag == "Ref":
        return refs.get(el.get("RefId", ""))
    if tag == "Obj":
        value = _clixml_obj(el, refs)
        ref = el.get("RefId")
        if ref is not None:
            refs[ref] = value
        return value
    return text


def _clixml_obj(el: ET.Element, refs: dict[str, Any]) -> Any:
    for child in el:
        kind = _local(child.tag)
        if kind in ("LST", "IE", "STK", "QUE"):
            return [_clixml_value(c, refs) for c in child]
    props: dict[str, Any] = {}
    to_string: str | None = None
    for child in el:
        kind = _local(child.tag)
        if kind in ("Props", "MS"):
            for p in child:
                name = p.get("N")
                if name is not None:
                    props[name] = _clixml_value(p, refs)
        elif kind == "ToString":
            to_string = child.text or ""
        elif kind in ("I64", "I32", "S", "D", "Db", "DT", "G", "B", "U64"):
            return _clixml_value(child, refs)  # a primitive wrapped with extra type names
    if props and not ({"IsPowerOfTwo", "Sign"} <= set(props) and to_string is not None):
        return props
    return to_string if to_string is not None else props  # BigInteger, Size ... -> their text


def read_clixml(data: str | bytes, origin: str) -> ho.MappedRows:
    """Export-Clixml output (text or raw bytes) -> canonical rows."""
    return to_canonical(clixml_records(data, origin), origin)


def clixml_records(data: str | bytes, origin: str) -> list[dict[str, Any]]:
    """Export-Clixml output -> records. DTDs and entities are refused (no defusedxml here)."""
    text = decode_text(data, origin) if isinstance(data, bytes) else data.lstrip("\ufeff")
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise InputError(
            f"{origin}: XML with a DTD or entities is refused",
            hint="Export-Clixml never writes one",
        )
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        raise InputError(f"{origin}, line {line}, column {col}: not XML: {exc}") from None
    if _local(root.tag) != "Objs":
        raise InputError(f"{origin}: not an Export-Clixml file (root element {_local(root.tag)!r})")
    refs: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    for n, el in enumerate(root, start=1):
        try:
            value = _clixml_value(el, refs)
        except ValueError as exc:  # a number element that holds no number
            raise InputError(f"{origin}, object {n}: {exc}", hint="export the history again") from None
        except RecursionError:
            raise InputError(f"{origin}, object {n}: objects nested too deeply",
                             hint="Export-Clixml of backup history nests a few levels") from None
        if not isinstance(value, dict):
            raise InputError(f"{origin}, object {n}: expected an object with properties")
        out.append(value)
    return out
