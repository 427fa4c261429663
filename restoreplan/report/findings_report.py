"""Validation findings as JSON (shared with audit), a table, CSV and a Nagios status line."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from restoreplan.core.findings import Finding, LineageFindings, Severity
from restoreplan.core.target import ResolvedTime, fmt_time
from restoreplan.report.tables import wrap_columns

NAGIOS_OK, NAGIOS_WARNING, NAGIOS_CRITICAL, NAGIOS_UNKNOWN = 0, 1, 2, 3
CSV_COLUMNS = ["database_name", "family_guid", "code", "severity", "backup_set_uuid", "backup_type",
               "backup_start_date", "backup_finish_date", "first_lsn", "last_lsn", "lsn",
               "unrecoverable_from", "unrecoverable_to", "count", "message", "hint"]


def _rt(rt: ResolvedTime | None) -> str | None:
    return rt.local_text if rt is not None else None


def finding_json(f: Finding) -> dict[str, Any]:
    bs = f.backup
    return {
        "code": f.code,
        "severity": f.severity.value,
        "backup_set_uuid": bs.backup_set_uuid if bs else None,
        "backup_type": bs.type.value if bs else None,
        "backup_start_date": fmt_time(bs.backup_start_date) if bs else None,
        "backup_finish_date": fmt_time(bs.backup_finish_date) if bs else None,
        "first_lsn": str(bs.first_lsn) if bs else None,
        "last_lsn": str(bs.last_lsn) if bs else None,
        "message": f.message,
        "hint": f.hint,
        "lsn": str(f.lsn) if f.lsn is not None else None,
        "unrecoverable_from": _rt(f.lost_from),
        "unrecoverable_to": _rt(f.lost_to),
        "unrecoverable_from_utc": f.lost_from.utc_text if f.lost_from else None,
        "unrecoverable_to_utc": f.lost_to.utc_text if f.lost_to else None,
        "count": f.count,
    }


def family_guid(lf: LineageFindings) -> str | None:
    return next((s.family_guid for s in lf.lineage.sets if s.family_guid), None)


def lineage_json(lf: LineageFindings) -> dict[str, Any]:
    """The part of a database entry that validate and audit share."""
    return {
        "database_name": lf.database_name,
        "family_guid": family_guid(lf),
        "lineage_key": lf.lineage.key,
        "server_names": lf.lineage.server_names,
        "findings": [finding_json(f) for f in lf.findings],
        "errors": lf.count(Severity.ERROR),
        "warnings": lf.count(Severity.WARNING),
        "info": lf.count(Severity.INFO),
        "full_age_seconds": int(lf.full_age.total_seconds()) if lf.full_age is not None else None,
        "log_age_seconds": int(lf.log_age.total_seconds()) if lf.log_age is not None else None,
    }


def status(lfs: Sequence[LineageFindings]) -> str:
    if any(lf.count(Severity.ERROR) for lf in lfs):
        return "CRITICAL"
    if any(lf.count(Severity.WARNING) for lf in lfs):
        return "WARNING"
    return "OK"


def summary_json(lfs: Sequence[LineageFindings]) -> dict[str, Any]:
    codes = Counter(f.code for lf in lfs for f in lf.findings)
    return {
        "lineages": len(lfs),
        "databases": len({lf.database_name.casefold() for lf in lfs}),
        "errors": sum(lf.count(Severity.ERROR) for lf in lfs),
        "warnings": sum(lf.count(Severity.WARNING) for lf in lfs),
        "info": sum(lf.count(Severity.INFO) for lf in lfs),
        "by_code": dict(sorted(codes.items())),
        "status": status(lfs),
        "verdict": verdict(lfs),
    }


def validate_json(lfs: Sequence[LineageFindings]) -> dict[str, Any]:
    return {"databases": [lineage_json(lf) for lf in lfs], "summary": summary_json(lfs)}


def verdict(lfs: Sequence[LineageFindings]) -> str:
    errors = sum(lf.count(Severity.ERROR) for lf in lfs)
    warnings = sum(lf.count(Severity.WARNING) for lf in lfs)
    bad = sorted({lf.database_name for lf in lfs if lf.count(Severity.ERROR)})
    if errors:
        return (f"BROKEN: {errors} error(s), {warnings} warning(s) in {len(lfs)} lineage(s); "
                f"affected: {', '.join(bad)}")
    if warnings:
        return f"OK WITH WARNINGS: no error, {warnings} warning(s) in {len(lfs)} lineage(s)"
    return f"OK: no error or warning in {len(lfs)} lineage(s)"


def findings_table(lfs: Sequence[LineageFindings], *, width: int = 90) -> str:
    rows = []
    for lf in lfs:
        for f in lf.findings:
            bs = f.backup
            rows.append([lf.database_name, f.severity.value, f.code,
                         (bs.backup_set_uuid + "\n" + (fmt_time(bs.backup_finish_date) or "")) if bs else "",
                         f.message])
    lines = []
    if rows:
        lines.append(tabulate(wrap_columns(rows, {0: 20, 3: 36, 4: width}),
                              headers=["database", "severity", "code", "backup set / finished", "message"],
                              tablefmt="simple", disable_numparse=True))
        lines.append("")
    lines.append(verdict(lfs))
    return "\n".join(lines)


def findings_csv(lfs: Sequence[LineageFindings]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for lf in lfs:
        for f in lf.findings:
            row = finding_json(f)
            row.update(database_name=lf.database_name, family_guid=family_guid(lf))
            w.writerow(row)
    return buf.getvalue()


def _perf_label(text: str) -> str:
    # a perfdata label: no '=' (it ends the label) and no '|' (it ends the perfdata) in it
    return "'" + text.replace("'", "''").replace("=", "_").replace("|", "/") + "'"


def nagios_line(lfs: Sequence[LineageFindings], *, max_full_age: float | None = None,
                max_log_age: float | None = None, unread: Sequence[str] = ()) -> tuple[str, int]:
    """One Nagios/Icinga status line with perfdata, and its exit code (0 OK, 1 WARNING, 2 CRITICAL;
    3 UNKNOWN when servers of an inventory could not be read and nothing read is critical)."""
    st = status(lfs)
    if unread and st != "CRITICAL":
        st = "UNKNOWN"
    code = {"OK": NAGIOS_OK, "WARNING": NAGIOS_WARNING, "CRITICAL": NAGIOS_CRITICAL, "UNKNOWN": NAGIOS_UNKNOWN}[st]
    errors = sum(lf.count(Severity.ERROR) for lf in lfs)
    warnings = sum(lf.count(Severity.WARNING) for lf in lfs)
    info = sum(lf.count(Severity.INFO) for lf in lfs)
    worst = [f"{lf.database_name} {f.code}" for lf in lfs for f in lf.findings
             if f.severity is (Severity.ERROR if errors else Severity.WARNING)]
    detail = f"{errors} error(s), {warnings} warning(s) in {len(lfs)} lineage(s)"
    if worst:
        distinct = list(dict.fromkeys(worst))  # five findings of one database hid every other one
        detail += f": {', '.join(distinct[:5])}" + (", ..." if len(distinct) > 5 else "")
    if unread:
        detail += f"; {len(unread)} server(s) not read: {', '.join(unread[:5])}" + (", ..." if len(unread) > 5 else "")
    text = detail.replace("|", "/").replace("\n", " ")
    perf = [f"errors={errors};;1;0", f"warnings={warnings};1;;0", f"info={info};;;0", f"lineages={len(lfs)};;;0"]
    seen: Counter[str] = Counter()
    for lf in lfs:
        seen[lf.database_name] += 1
        name = lf.database_name + (f"#{seen[lf.database_name]}" if seen[lf.database_name] > 1 else "")
        if lf.full_age is not None:
            crit = f"{int(max_full_age)}" if max_full_age else ""
            perf.append(f"{_perf_label(name + ' full_age')}={int(lf.full_age.total_seconds())}s;;{crit};0")
        if lf.log_age is not None:
            crit = f"{int(max_log_age)}" if max_log_age else ""
            perf.append(f"{_perf_label(name + ' log_age')}={int(lf.log_age.total_seconds())}s;;{crit};0")
    return f"RESTOREPLAN {st} - {text} | {' '.join(perf)}", code
