"""Canonical rows (msdb column names, one row per media file) -> BackupSet values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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

    fields: dict[str, Any]
    where: str
    files: dict[tuple[int, int, str], MediaFile] = field(default_factory=dict)


def _where(origin: str, row: int | None) -> str:
    return origin if row is None else f"{origin}, row {row}"


def _problem(origin: str, row: int | None, column: str, exc: Exception) -> InputError:
    return InputError(
        f"{_where(origin, row)}, column {column}: {exc}",
        hint="fix the value or export the history again with `restoreplan export-query`",
    )


def _lsn(raw: object) -> LSN | None:
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
        self.rows_read = 0

    def add_rows(
        self, columns: Sequence[str], rows: Iterable[Sequence[Any]], origin: str, first_row: int = 1
    ) -> None:
        """Add positional rows under ``columns`` (header already checked)."""
        check_header(columns, origin)
        idx = [(i, name, _PARSERS[name]) for i, name in enumerate(columns) if name in _PARSERS]
        row_no = first_row - 1
        for row_no, row in enumerate(rows, start=first_row):  # noqa: B007
            parsed: dict[str, Any] = {}
            for i, name, parse in idx:
                raw = row[i] if i < len(row) else None
                try:
                    parsed[name] = parse(raw)
                except v.ValueProblem as exc:
                    raise _problem(origin, row_no, name, exc) from None
            self._add(parsed, origin, row_no)
        self.rows_read += max(0, row_no - first_row + 1)

    def add_mappings(self, rows: Iterable[Mapping[str, Any]], origin: str) -> None:
        """Add rows given as mappings keyed by canonical column names."""
        for row_no, row in enumerate(rows, start=1):
            if row_no == 1:
                check_header(list(row.keys()), origin)
            parsed: dict[str, Any] = {}
            for name, raw in row.items():
                parse = _PARSERS.get(name)
                if parse is None:
                    continue
                try:
                    parsed[name] = parse(raw)
                except v.ValueProblem as exc:
                    raise _problem(origin, row_no, name, exc) from None
            missing = [c for c in REQUIRED if c not in row]
            if missing:
                raise InputError(f"{_where(origin, row_no)}: missing key(s) {', '.join(missing)}")
            self._add(parsed, origin, row_no)
            self.rows_read += 1

    def add_database_files(self, backup_set_uuid: str, files: Iterable[DatabaseFile]) -> None:
        self._db_files.setdefault(backup_set_uuid, []).extend(files)

    def _add(self, parsed: dict[str, Any], origin: str, row_no: int | None) -> None:
        where = _where(origin, row_no)
        for name in REQUIRED:
            if parsed.get(name) is None:
                raise InputError(f"{where}, column {name}: value is missing", hint="this column is required")
        uuid = parsed["backup_set_uuid"]
        set_fields = {k: val for k, val in parsed.items() if k not in _SET_LEVEL_SKIP}
        acc = self._sets.get(uuid)
        if acc is None:
            acc = self._sets[uuid] = _Acc(set_fields, where)
        else:
            for key, val in set_fields.items():
                old = acc.fields.get(key)
                if val is None or old == val:
                    continue
                if old is None:
                    acc.fields[key] = val
                    continue
                raise InputError(
                    f"conflicting rows for backup set {uuid}: {key} is {old} at {acc.where} "
                    f"but {val} at {where}",
                    hint="the inputs disagree; drop the stale export",
                    backup_set_uuid=uuid,
                )
        family = parsed.get("family_sequence_number") or 1
        mirror = parsed.get("mirror") or 0
        device = parsed["physical_device_name"]
        key = (family, mirror, device)
        media = MediaFile(device, family, mirror, parsed.get("device_type"))
        old_media = acc.files.get(key)
        if old_media is not None and old_media != media:
            raise InputError(
                f"conflicting rows for backup set {uuid}, file {device}: {old_media} at {acc.where} "
                f"but {media} at {where}",
                backup_set_uuid=uuid,
            )
        acc.files[key] = media

    def build(self) -> list[BackupSet]:
        out: list[BackupSet] = []
        for uuid, acc in self._sets.items():
            f = acc.fields
            kwargs: dict[str, Any] = {}
            for key, val in f.items():
                if key not in _MODEL_FIELDS or key == "files":
                    continue
                if key in _BOOL_FIELDS:
                    kwargs[key] = bool(val)
                elif key == "time_zone":
                    kwargs[key] = None if val is None or val == 127 else val
                elif key == "position":
                    kwargs[key] = val or 1
                else:
                    kwargs[key] = val
            start: datetime = f["backup_start_date"]
            finish: datetime = f["backup_finish_date"]
            if finish < start:
                raise InputError(
                    f"{acc.where}: backup_finish_date {finish} is before backup_start_date {start}",
                    backup_set_uuid=uuid,
                )
            if f["last_lsn"] < f["first_lsn"]:
                raise InputError(
                    f"{acc.where}: last_lsn {f['last_lsn']} is before first_lsn {f['first_lsn']}",
                    backup_set_uuid=uuid,
                )
            kwargs["files"] = tuple(sorted(acc.files.values(), key=lambda m: (m.family_sequence_number, m.mirror)))
            kwargs["db_files"] = tuple(self._db_files.get(uuid, ()))
            out.append(BackupSet(**kwargs))
        return out
