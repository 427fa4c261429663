"""msdb cells as ODBC drivers return them -> the values the canonical parsers take.

Exact LSNs (text, int or Decimal; never float), GUIDs in lower case, uuid.UUID / bytes / Decimal
as text or int. A fetched batch is converted a column at a time: whole columns of the types
and spellings drivers usually return pass as they are or through one C conversion, and only
the others go cell by cell, so a bad cell is still reported with its row and column.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.lsn import LSN
from restoreplan.sources import values as v
from restoreplan.sources.msdb_query import LSN_COLUMNS, SIZE_COLUMNS
from restoreplan.sources.rowplan import canonical_guids, decimal_lsns


def exact_lsn(raw: object, where: str) -> int | None:
    """An LSN cell as an exact int; a float (digits already lost) is an InputError."""
    if raw is None:
        return None
    if isinstance(raw, bool) or isinstance(raw, float):
        raise InputError(
            f"{where}: LSN {raw!r} arrived as a floating-point number and lost digits",
            hint="select LSNs as text (CAST(first_lsn AS varchar(25)))",
        )
    if isinstance(raw, int):
        return raw
    if isinstance(raw, Decimal):
        if raw != raw.to_integral_value():
            raise InputError(f"{where}: LSN {raw} is not a whole number")
        return int(raw)
    text = str(raw).strip()
    if text == "":
        return None
    try:
        return LSN.parse(text).value
    except InputError as exc:
        raise InputError(f"{where}: {exc.message}", hint=exc.hint) from None


_GUID_COLUMNS = frozenset(
    {
        "backup_set_uuid",
        "family_guid",
        "database_guid",
        "differential_base_guid",
        "first_recovery_fork_guid",
        "last_recovery_fork_guid",
    }
)


def cell(name: str, raw: object, where: str) -> object:
    if name in LSN_COLUMNS:
        return exact_lsn(raw, where)
    if name in SIZE_COLUMNS and isinstance(raw, str):
        try:
            return v.parse_int(raw)
        except v.ValueProblem as exc:
            raise InputError(f"{where}: {exc}") from None
    if name in _GUID_COLUMNS and raw is not None:
        try:
            return v.parse_guid(str(raw))
        except v.ValueProblem as exc:
            raise InputError(f"{where}: {exc}") from None
    if isinstance(raw, uuid.UUID):
        return str(raw)
    if isinstance(raw, bytes | bytearray | memoryview):
        return "0x" + bytes(raw).hex().upper()
    if isinstance(raw, Decimal):
        return int(raw) if raw == raw.to_integral_value() else str(raw)
    if isinstance(raw, str):
        return raw.rstrip() if name == "type" else raw
    return raw


_PLAIN = frozenset({str, int, bool, datetime, type(None)})  # cells ``cell`` returns as they are
_NONE = type(None)


def convert(names: list[str], batch: list[Any], server: str, first_row: int) -> list[tuple[Any, ...]]:
    """``cell`` over a fetched batch, a column at a time: whole columns of the types and
    spellings the drivers return take a C conversion (or none), the others go cell by cell."""
    out = [
        _fast_column(name, col) or _cells(name, col, server, first_row)
        for name, col in zip(names, zip(*batch, strict=True), strict=True)
    ]
    return list(zip(*out, strict=True))


def _fast_column(name: str, col: tuple[Any, ...]) -> Sequence[Any] | None:
    """The column as ``cell`` would return it, or None when that needs the cell-by-cell path."""
    kinds = set(map(type, col))
    if name in LSN_COLUMNS or name in SIZE_COLUMNS:
        if kinds <= {int, _NONE}:
            return col
        if kinds == {str} and name in SIZE_COLUMNS:
            try:
                return list(map(int, col))  # what v.parse_int returns for these texts
            except ValueError:
                return None
        if kinds <= {str, _NONE} and name in LSN_COLUMNS:
            if decimal_lsns([c for c in col if c is not None]):
                return [None if c is None else int(c) for c in col]
        return None
    if name in _GUID_COLUMNS:
        if kinds <= {_NONE}:
            return col
        if kinds <= {str, _NONE}:  # drivers print uniqueidentifier in upper case
            guids = canonical_guids([c for c in col if c is not None])
            if guids is not None:
                lower = iter(guids)
                return [None if c is None else next(lower) for c in col]
        return None
    if name == "type":
        return list(map(str.rstrip, col)) if kinds == {str} else None
    return col if kinds <= _PLAIN else None


def _cells(name: str, col: tuple[Any, ...], server: str, first_row: int) -> list[Any]:
    return [
        cell(name, raw, f"{server} msdb, row {row_no}, column {name}")
        for row_no, raw in enumerate(col, start=first_row)
    ]
