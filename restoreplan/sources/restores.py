"""msdb.dbo.restorehistory rows as RestoreEvent values (from an export or from msdb itself)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.model import RestoreEvent
from restoreplan.sources import values as v

_RESTORE_TYPES = frozenset("DIFGLP")
COLUMNS_HINT = ("columns: destination_database_name, restore_date, restore_type "
                "(recovery, stop_at, server_name optional)")


def restore_events(records: Iterable[Mapping[str, Any]], origin: str, first_row: int = 2) -> list[RestoreEvent]:
    """Rows keyed by lower-case column names; VERIFYONLY (restore_type V) changes nothing and
    is left out. A row without its destination, date or type is refused with its number."""
    out = []
    for row_no, r in enumerate(records, start=first_row):
        try:
            name = v.text(r.get("destination_database_name", r.get("database_name")))
            when = v.parse_local_datetime(r.get("restore_date"))
            kind = (v.text(r.get("restore_type")) or "").upper()
            missing = [c for c, x in (("destination_database_name", name), ("restore_date", when),
                                      ("restore_type", kind)) if not x]
            if missing:
                raise InputError(f"{', '.join(missing)} missing (every restore needs all three)")
            if kind == "V":
                continue
            if kind not in _RESTORE_TYPES:
                raise InputError(f"unknown restore_type {kind!r} (expected D, I, L, F, G, P or V)")
            assert name is not None and when is not None
            out.append(RestoreEvent(name, when, kind, v.parse_bool(r.get("recovery")),
                                    v.parse_local_datetime(r.get("stop_at")), v.text(r.get("server_name"))))
        except (v.ValueProblem, InputError) as exc:
            msg = exc.message if isinstance(exc, InputError) else str(exc)
            raise InputError(f"{origin}, row {row_no}: {msg}", hint=COLUMNS_HINT) from None
    return out
