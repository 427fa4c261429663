"""One self-contained HTML file (no script, no network, no external font) a DBA can mail to an
auditor: a summary table and, per database, a timeline and the figures. Every text is escaped.

Public API: ``render_html(audit_result, *, target=None, extra_sections=()) -> str``;
``extra_sections`` are already-rendered HTML fragments appended before the footer (the strategy
command adds its section this way).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from restoreplan.core.audit import AuditResult, LineageAudit, describe_seconds
from restoreplan.core.errors import UsageError
from restoreplan.core.target import clock_of, fmt_time
from restoreplan.core.validate import as_of_key
from restoreplan.report.audit_report import SUMMARY_HEADERS, detailed, left_out_note, summary_rows
from restoreplan.report.findings_report import family_guid, summary_json
from restoreplan.report.plan_report import human_bytes
from restoreplan.report.timeline_svg import render_timeline

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:24px;color:#1b1b1b}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;
text-align:left;vertical-align:top}th{background:#f2f2f2}.error{color:#b71c1c;font-weight:600}
.warning{color:#a65c00}.info{color:#555}.verdict{font-weight:600;font-size:15px}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.sw{width:12px;height:12px;
display:inline-block;vertical-align:middle;margin-right:4px}svg.timeline{border:1px solid #ddd;background:#fff}
"""


def _e(v: object) -> str:
    return escape("" if v is None else str(v))


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], cls: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, r in enumerate(rows):
        c = f' class="{_e(cls[i])}"' if cls and cls[i] else ""
        body.append(f"<tr{c}>" + "".join(f"<td>{_e(v)}</td>" for v in r) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


LEGEND = ('<p class="legend"><span><i class="sw" style="background:#1f4e9c"></i>full</span>'
          '<span><i class="sw" style="background:#5b8fd6"></i>differential</span>'
          '<span><i class="sw" style="background:#7a7a7a"></i>log</span>'
          '<span><i class="sw" style="background:#cfeccf"></i>recoverable</span>'
          '<span><i class="sw" style="background:#e53935;opacity:.5"></i>gap (hover for the cause)</span>'
          '<span><i class="sw" style="background:#b71c1c"></i>unusable backup</span>'
          '<span><i class="sw" style="background:#ff6f00"></i>target</span></p>')


def _target_key(a: LineageAudit, target: datetime | None) -> datetime | None:
    if target is None:
        return None
    try:
        return as_of_key(a.lineage, clock_of(a.lineage), target)
    except UsageError:
        return None


def _section(a: LineageAudit, n: int, target: datetime | None) -> str:
    key = _target_key(a, target)
    out = [f'<section class="database" id="db{n}"><h2>{_e(a.database_name)} '
           f'<small>family_guid {_e(family_guid(a.findings) or a.lineage.key)}; servers: '
           f'{_e(", ".join(a.lineage.server_names) or "-")}</small></h2>']
    out.append(render_timeline(a, target=key))
    facts: list[list[object]] = [["earliest recoverable point", a.earliest.local_text if a.earliest else "none"],
             ["latest recoverable point", a.latest.local_text if a.latest else "none"],
             ["recoverable windows", len(a.windows)], ["gaps", len(a.gaps)]]
    if a.rpo is not None and a.as_of is not None:
        facts.append([f"RPO as of {a.as_of.local_text}", describe_seconds(a.rpo.total_seconds())])
    for label, w in (("worst case (most steps)", a.worst_steps), ("worst case (most bytes)", a.worst_bytes)):
        if w:
            facts.append([label, f"restore to {w.at.local_text}: {w.steps} steps ({w.logs} logs), "
                                 f"{human_bytes(w.bytes)}, about {describe_seconds(w.seconds)}"])
    if key is not None:
        facts.append(["target", ("recoverable" if a.covers(key) else "NOT recoverable")])
    out.append(_table(["figure", "value"], facts))
    if a.gaps:
        out.append("<h3>Gaps</h3>" + _table(["from", "to", "kind", "cause"],
                                            [[g.start.local_text, g.end.local_text, g.kind, g.cause] for g in a.gaps]))
    out.append("<h3>Backups by type</h3>" + _table(
        ["type", "count", "backup size", "on disk"],
        [[s.type.label, s.count, human_bytes(s.backup_size), human_bytes(s.size_on_disk)] for s in a.type_stats]))
    out.append("<p>" + _e(", ".join(f"{c} {v.value.replace('_', '-')}" for v, c in a.verdict_counts)) + "</p>")
    if a.exceptions:
        shown = a.exceptions[:200]
        out.append("<h3>Backups that need attention</h3>" + _table(
            ["backup set", "type", "finished", "verdict", "in words"],
            [[v.backup.backup_set_uuid, v.backup.type.label, fmt_time(v.backup.backup_finish_date),
              v.verdict.value, v.words] for v in shown]))
    if a.findings.findings:
        fs = a.findings.findings[:300]
        out.append("<h3>Findings</h3>" + _table(
            ["severity", "code", "backup set", "message"],
            [[f.severity.value, f.code, f.backup.backup_set_uuid if f.backup else "", f.message] for f in fs],
            [f.severity.value for f in fs]))
    out.append("</section>")
    return "\n".join(out)


def render_html(audit_result: AuditResult, *, target: datetime | None = None,
                extra_sections: Sequence[str] = ()) -> str:
    """The whole report as one string."""
    lfs = [a.findings for a in audit_result.lineages]
    summ = summary_json(lfs)
    rows = summary_rows(audit_result)
    cls = ["error" if r[-2] else ("warning" if r[-1] else "") for r in rows]
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>restoreplan recoverability audit</title>", f"<style>{CSS}</style></head><body>",
             "<h1>Recoverability audit</h1>",
             f'<p class="verdict">{_e(summ["verdict"])}</p>', LEGEND,
             _table(SUMMARY_HEADERS, rows, cls)]
    shown = detailed(audit_result)
    for n, a in enumerate(shown, start=1):
        parts.append(_section(a, n, target))
    note = left_out_note(audit_result, len(shown))
    if note:
        parts.append(f'<p class="info">{_e(note)}</p>')
    parts.extend(extra_sections)
    parts.append('<footer><p class="info">Generated by restoreplan. Times are server-local; '
                 "hover over the timeline for details.</p></footer></body></html>")
    return "\n".join(parts) + "\n"
