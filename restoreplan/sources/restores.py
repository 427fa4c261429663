"""msdb.dbo.restorehistory rows as RestoreEvent values (from an export or from msdb itself)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.model import RestoreEvent
from restoreplan.sources import values as v

COLUMNS_HINT = ("columns: destination_database_name, restore_date, restore_type "
                "(recovery, stop_at, server_name optional)")


def restore_events(records: Iterable[Mapping[str, Any]], origin: str, first_row: int = 2) -> list[RestoreEvent]:
    """Rows keyed by lower-case column names. VERIFYONLY (restore_type V) restores nothing and
    is left out; every other type counts, R (a revert to a database snapshot) and a type not
    recorded or unknown included: each replaced the database. msdb allows nulls in every column:
    a row without its destination or date names no database or no moment, and is left out. A
    value that does not parse is refused with its row."""
    out = []
    for row_no, r in enumerate(records, start=first_row):
        try:
            name = v.parse_database_name(r.get("destination_database_name", r.get("database_name")))
            when = v.parse_local_datetime(r.get("restore_date"))
            kind = (v.text(r.get("restore_type")) or "?").upper()
            if name is None or when is None or kind == "V":
                continue
            stop_at = v.parse_datetime(r.get("stop_at"), bounded=False)  # STOPAT '9999-12-31' is an idiom
            out.append(RestoreEvent(name, when, kind, v.parse_bool(r.get("recovery")),
                                    None if stop_at is None else stop_at.replace(tzinfo=None),
                                    v.text(r.get("server_name"))))
        except (v.ValueProblem, InputError) as exc:
            msg = exc.message if isinstance(exc, InputError) else str(exc)
            raise InputError(f"{origin}, row {row_no}: {msg}", hint=COLUMNS_HINT) from None
    return out
