"""The audit as JSON (validate's shape plus figures), a text report, CSV and Markdown."""

from __future__ import annotations

import csv
import io
from typing import Any

from tabulate import tabulate

from restoreplan.core.audit import (
    AuditResult,
    BackupVerdict,
    Gap,
    LineageAudit,
    WorstCase,
    describe_seconds,
)
from restoreplan.core.findings import Severity
from restoreplan.core.target import ResolvedTime, fmt_time
from restoreplan.report.findings_report import family_guid, lineage_json, summary_json
from restoreplan.report.plan_report import human_bytes
from restoreplan.report.tables import wrap_columns

SUMMARY_COLUMNS = ["database_name", "family_guid", "earliest_recoverable", "latest_recoverable", "windows",
                   "gaps", "rpo_seconds", "worst_steps", "worst_bytes", "worst_seconds", "fulls", "differentials",
                   "logs", "total_bytes_on_disk", "errors", "warnings"]


def _t(rt: ResolvedTime | None) -> str | None:
    return rt.local_text if rt is not None else None


def _worst_json(w: WorstCase | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {"at": w.at.local_text, "at_utc": w.at.utc_text, "restore_steps": w.steps, "bytes_read": w.bytes,
            "estimated_seconds": round(w.seconds, 1), "full": w.full_uuid, "differential": w.diff_uuid,
            "logs": w.logs}


def _gap_json(g: Gap) -> dict[str, Any]:
    return {"start": g.start.local_text, "end": g.end.local_text, "start_utc": g.start.utc_text,
            "end_utc": g.end.utc_text, "kind": g.kind, "cause": g.cause, "backup_set_uuid": g.backup_set_uuid,
            "lsn": str(g.lsn) if g.lsn is not None else None}


def verdict_json(v: BackupVerdict) -> dict[str, Any]:
    bs = v.backup
    return {"backup_set_uuid": bs.backup_set_uuid, "backup_type": bs.type.value,
            "backup_finish_date": fmt_time(bs.backup_finish_date), "verdict": v.verdict.value, "words": v.words}


def lineage_audit_json(a: LineageAudit, *, all_backups: bool = False) -> dict[str, Any]:
    out = lineage_json(a.findings)
    out.update({
        "earliest_recoverable": _t(a.earliest),
        "latest_recoverable": _t(a.latest),
        "earliest_recoverable_utc": a.earliest.utc_text if a.earliest else None,
        "latest_recoverable_utc": a.latest.utc_text if a.latest else None,
        "recoverable_windows": [[s.local_text, e.local_text] for s, e in a.windows],
        "recoverable_windows_utc": [[s.utc_text, e.utc_text] for s, e in a.windows],
        "gaps": [_gap_json(g) for g in a.gaps],
        "as_of": _t(a.as_of),
        "rpo_seconds": int(a.rpo.total_seconds()) if a.rpo is not None else None,
        "worst_case_steps": _worst_json(a.worst_steps),
        "worst_case_bytes": _worst_json(a.worst_bytes),
        "by_type": [{"type": s.type.value, "label": s.type.label, "count": s.count, "backup_size": s.backup_size,
                     "bytes_on_disk": s.size_on_disk,
                     "observed_bytes_per_second": round(s.bytes_per_second) if s.bytes_per_second else None}
                    for s in a.type_stats],
        "verdict_counts": {v.value: n for v, n in a.verdict_counts},
        "backups": [verdict_json(v) for v in (a.verdicts() if all_backups else a.exceptions)],
        "forks": [{"fork_guid": f.guid, "start": f.start.local_text, "end": f.end.local_text, "parent": f.parent,
                   "branch_at": _t(f.branch_at), "backups": f.sets} for f in a.forks],
    })
    return out


def audit_json(result: AuditResult, *, all_backups: bool = False) -> dict[str, Any]:
    """``backups`` lists the exceptions (not restorable / not point-in-time) unless ``all_backups``."""
    lfs = [a.findings for a in result.lineages]
    return {"databases": [lineage_audit_json(a, all_backups=all_backups) for a in result.lineages],
            "summary": summary_json(lfs)}


def _count(a: LineageAudit, letter: str) -> int:
    return sum(s.count for s in a.type_stats if s.type.value == letter)


def summary_rows(result: AuditResult) -> list[list[Any]]:
    rows = []
    for a in result.lineages:
        w = a.worst_steps
        rows.append([a.database_name, (family_guid(a.findings) or a.lineage.key)[:8], _t(a.earliest) or "-",
                     _t(a.latest) or "-", len(a.windows), len(a.gaps),
                     describe_seconds(a.rpo.total_seconds()) if a.rpo is not None else "-",
                     f"{w.steps} / {human_bytes(a.worst_bytes.bytes if a.worst_bytes else w.bytes)} / "
                     f"{describe_seconds(max(w.seconds, a.worst_bytes.seconds if a.worst_bytes else 0))}"
                     if w else "-",
                     a.findings.count(Severity.ERROR), a.findings.count(Severity.WARNING)])
    return rows


SUMMARY_HEADERS = ["database", "family", "earliest", "latest", "windows", "gaps", "RPO",
                   "worst: steps / bytes / time", "errors", "warnings"]
# told rather than detected: a name or family prefix of digits stays left, and a table of
# thousands of rows is not scanned for numbers cell by cell
_SUMMARY_ALIGN = ("left", "left", "left", "left", "right", "right", "left", "left", "right", "right")


# the count column is right-aligned as tabulate aligns numbers; told rather than detected, since
# a report renders a table like this for every database
_STATS_ALIGN = ("left", "right", "left", "left", "left")


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*[]|<>"} | {"&": "&amp;"})


def md_escape(text: object) -> str:
    """A value from the history as Markdown text: no HTML, link, code span or table cell break
    (a database may be called ``<script>`` or ``a|b``)."""
    return str(text).translate(_MD_SPECIAL)


def _plain(text: object) -> str:
    return str(text)


def _detail(a: LineageAudit, fmt: str) -> list[str]:
    esc = md_escape if fmt == "github" else _plain
    lines = [esc(f"{a.database_name} (family_guid {family_guid(a.findings) or a.lineage.key}; "
                 f"servers: {', '.join(a.lineage.server_names) or '-'})")]
    lines.append("recoverable windows: " + ("; ".join(
        f"{s.local_text} .. {e.local_text}" if s.key != e.key else f"{s.local_text} (point)"
        for s, e in a.windows[:20]) or "none") + (f"; ... {len(a.windows) - 20} more" if len(a.windows) > 20 else ""))
    if a.gaps:
        rows: list[list[Any]] = [[g.start.local_text, g.end.local_text, g.kind, esc(g.cause)] for g in a.gaps[:50]]
        lines.append(tabulate(wrap_columns(rows, {3: 80}), headers=["gap from", "to", "kind", "cause"],
                              tablefmt=fmt, disable_numparse=True))
    for label, w in (("most steps", a.worst_steps), ("most bytes", a.worst_bytes)):
        if w:
            lines.append(f"worst case ({label}): restore to {w.at.local_text} takes {w.steps} restore steps "
                         f"({w.logs} logs), reads {human_bytes(w.bytes)}, about {describe_seconds(w.seconds)}")
    if a.rpo is not None and a.as_of is not None:
        lines.append(f"RPO as of {a.as_of.local_text}: {describe_seconds(a.rpo.total_seconds())} "
                     f"(latest recoverable point {_t(a.latest)})")
    rows = [[s.type.label, s.count, human_bytes(s.backup_size), human_bytes(s.size_on_disk),
             f"{human_bytes(int(s.bytes_per_second))}/s" if s.bytes_per_second else "-"] for s in a.type_stats]
    lines.append(tabulate(rows, headers=["type", "count", "backup size", "on disk", "observed throughput"],
                          tablefmt=fmt, disable_numparse=True, colalign=_STATS_ALIGN))
    lines.append("backups: " + ", ".join(f"{n} {v.value.replace('_', '-')}" for v, n in a.verdict_counts))
    if a.exceptions:
        rows = [[esc(v.backup.backup_set_uuid), v.backup.type.label, fmt_time(v.backup.backup_finish_date),
                 v.verdict.value, esc(v.words)] for v in a.exceptions[:30]]
        lines.append(tabulate(wrap_columns(rows, {4: 70}), headers=["backup set", "type", "finished", "verdict",
                                                               "in words"], tablefmt=fmt, disable_numparse=True))
        if len(a.exceptions) > 30:
            lines.append(f"... and {len(a.exceptions) - 30} more (--format json --all-backups lists every backup)")
    return lines


# Above this many lineages, the text and HTML reports detail only those that need attention: a
# server of thousands of databases would otherwise get a section (tables, a timeline) for each.
DETAIL_LIMIT = 50


def _needs_attention(a: LineageAudit) -> bool:
    return bool(a.findings.count(Severity.ERROR) or a.findings.count(Severity.WARNING) or a.gaps or not a.windows)


def detailed(result: AuditResult) -> list[LineageAudit]:
    """The lineages a report details: all of them up to DETAIL_LIMIT, else those that need
    attention (an error, a warning, a gap, no recoverable window)."""
    lins = list(result.lineages)
    return lins if len(lins) <= DETAIL_LIMIT else [a for a in lins if _needs_attention(a)]


def left_out_note(result: AuditResult, shown: int) -> str | None:
    """What a report says of the lineages it did not detail."""
    left_out = len(result.lineages) - shown
    if not left_out:
        return None
    return (f"{left_out} of {len(result.lineages)} lineages have no error, warning or gap: their "
            "summary rows above say it all (details: -d NAME, or --format json)")


def audit_text(result: AuditResult, *, markdown: bool = False) -> str:
    """The summary table, then a section per lineage (beyond DETAIL_LIMIT lineages, only for
    those with an error, a warning, a gap or no recoverable window), then the verdict."""
    fmt = "github" if markdown else "simple"
    lines = ["# Recoverability audit" if markdown else "Recoverability audit", ""]
    esc = md_escape if markdown else _plain
    rows = [[esc(cell) for cell in row] for row in summary_rows(result)]
    lines.append(tabulate(rows, headers=SUMMARY_HEADERS, tablefmt=fmt, disable_numparse=True,
                          colalign=_SUMMARY_ALIGN))
    shown = detailed(result)
    for a in shown:
        lines.append("")
        detail = _detail(a, fmt)
        lines.append(("## " if markdown else "") + detail[0])
        for d in detail[1:]:
            lines.extend(["", d] if markdown else [d])
    note = left_out_note(result, len(shown))
    if note:
        lines.append("")
        lines.append(note)
    lines.append("")
    lines.append(esc(summary_json([a.findings for a in result.lineages])["verdict"]))
    return "\n".join(lines) + "\n"


def audit_csv(result: AuditResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SUMMARY_COLUMNS)
    for a in result.lineages:
        ws, wb = a.worst_steps, a.worst_bytes
        w.writerow([a.database_name, family_guid(a.findings), _t(a.earliest), _t(a.latest), len(a.windows),
                    len(a.gaps), int(a.rpo.total_seconds()) if a.rpo is not None else "",
                    ws.steps if ws else "", wb.bytes if wb else "",
                    round(max(ws.seconds, wb.seconds)) if ws and wb else "",
                    _count(a, "D"), _count(a, "I"), _count(a, "L"), sum(s.size_on_disk for s in a.type_stats),
                    a.findings.count(Severity.ERROR), a.findings.count(Severity.WARNING)])
    return buf.getvalue()
