"""Tell an input's format from its header (CSV) or keys (JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from restoreplan.core.errors import InputError
from restoreplan.sources import dbatools, headeronly
from restoreplan.sources.columns import REQUIRED

FORMATS: tuple[str, ...] = (
    "msdb-csv",
    "msdb-json",
    "dbatools-json",
    "dbatools-csv",
    "dbatools-clixml",
    "headeronly-csv",
)


def detect_format(
    header_or_keys: Sequence[str], *, is_json: bool, origin: str | None = None
) -> str:
    """One of FORMATS, from a CSV header or the keys of the first JSON object.

    A first "column" starting with ``#TYPE`` (Export-Csv) is dbatools-csv; one starting with
    ``<`` (XML) is dbatools-clixml. The error names ``origin`` (the file) when given.
    """
    keys = [str(k).strip().lstrip("\ufeff") for k in header_or_keys]
    first = keys[0] if keys else ""
    if first.startswith("#TYPE"):
        return "dbatools-csv"
    if first.startswith("<") or first.startswith("#< CLIXML"):
        return "dbatools-clixml"
    low = {k.lower() for k in keys}
    if all(c in low for c in REQUIRED):
        return "msdb-json" if is_json else "msdb-csv"
    if headeronly.is_header(keys):
        return "dbatools-json" if is_json else "headeronly-csv"
    if dbatools.is_history(keys):
        return "dbatools-json" if is_json else "dbatools-csv"
    shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
    missing = [c for c in REQUIRED if c not in low]
    raise InputError(
        f"{origin + ': ' if origin else ''}unknown history format ({'keys' if is_json else 'columns'}: {shown or 'none'})",
        hint=(
            f"msdb exports need {', '.join(missing)}; HEADERONLY needs BackupSetGUID, BackupType, "
            "FirstLSN, DatabaseName and a BackupPath column; or pass --input-format "
            + "|".join(FORMATS)
        ),
    )
