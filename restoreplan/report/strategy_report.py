"""The strategy result as a side-by-side table with a verdict, stable JSON, and HTML with an SVG chart."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from tabulate import tabulate

from restoreplan.core.strategy.analysis import LineageStrategy, ScheduleResult, StrategyResult
from restoreplan.core.strategy.schedule import format_interval
from restoreplan.report.plan_report import human_bytes

SCHEMA = "restoreplan.strategy/1"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def fmt_seconds(secs: float | None) -> str:
    if secs is None:
        return "n/a"
    s = round(secs)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def fmt_span(d: timedelta) -> str:
    """``12d 16h``, ``15m``, ``1h 30m``."""
    secs = int(d.total_seconds())
    if secs <= 0:
        return "0"
    parts = [(secs // 86400, "d"), (secs % 86400 // 3600, "h"), (secs % 3600 // 60, "m")]
    text = " ".join(f"{n}{u}" for n, u in parts if n)
    return text or format_interval(d)


def _t(v: datetime | None) -> str | None:
    return None if v is None else v.strftime("%Y-%m-%dT%H:%M:%S")


def _r(v: float | None, digits: int = 6) -> float | None:
    return None if v is None else round(v, digits)


# -- verdict ---------------------------------------------------------------------------------


def _candidates(ls: LineageStrategy) -> list[ScheduleResult]:
    """Schedules that lose no more data than the current one (all when there is none)."""
    current = next((r for r in ls.results if r.origin == "current"), None)
    if current is None:
        return list(ls.results)
    return [r for r in ls.results if r.outcome.rpo <= current.outcome.rpo]


def _picks(ls: LineageStrategy) -> tuple[ScheduleResult, ScheduleResult, ScheduleResult] | None:
    rs = _candidates(ls)
    if not rs:
        return None
    least = min(rs, key=lambda r: (r.outcome.peak_storage, r.outcome.worst_steps))
    fewest = min(rs, key=lambda r: (r.outcome.worst_steps, r.outcome.peak_storage))
    lo_peak = max(1, least.outcome.peak_storage)
    lo_steps = max(1, fewest.outcome.worst_steps)
    balanced = min(rs, key=lambda r: ((r.outcome.peak_storage / lo_peak) * (r.outcome.worst_steps / lo_steps),
                                      r.outcome.peak_storage))
    return least, fewest, balanced


def _brief(r: ScheduleResult) -> str:
    o = r.outcome
    return f"{o.schedule.name} ({human_bytes(o.peak_storage)} peak, {o.worst_steps} steps)"


def verdict(ls: LineageStrategy) -> str:
    """One line: the balanced choice (least peak storage x worst steps, each relative to the best),
    the cheapest and the fewest steps, among schedules losing no more data than the current one."""
    picks = _picks(ls)
    name = ls.measures.database_name
    if picks is None:
        return f"VERDICT {name}: nothing simulated ({'; '.join(ls.notes) or 'no full backup'})"
    least, fewest, balanced = picks
    rpo = max(r.outcome.rpo for r in _candidates(ls))
    line = (f"VERDICT {name} (at RPO <= {fmt_span(rpo)}): best balance {_brief(balanced)}; "
            f"least storage {_brief(least)}; fewest restore steps {_brief(fewest)}")
    current = next((r for r in ls.results if r.origin == "current"), None)
    if current is not None and current is not balanced:
        ratio = current.outcome.peak_storage / max(1, balanced.outcome.peak_storage)
        line += f"; current holds {ratio:.1f}x its storage with {current.outcome.worst_steps} steps"
    return line


# -- JSON ------------------------------------------------------------------------------------


def outcome_json(r: ScheduleResult) -> dict[str, Any]:
    o = r.outcome
    return {
        "name": o.schedule.name,
        "origin": r.origin,
        "spec": o.schedule.text(),
        "retention_seconds": int(o.retention.total_seconds()),
        "peak_storage_bytes": o.peak_storage,
        "average_storage_bytes": o.average_storage,
        "written_per_week_bytes": o.written_per_week,
        "backups_per_week": dict(zip(("full", "diff", "log"), o.backups_per_week, strict=True)),
        "worst_restore_steps": o.worst_steps,
        "average_restore_steps": round(o.average_steps, 3),
        "worst_restore_bytes": o.worst_restore_bytes,
        "worst_restore_seconds": _r(o.worst_restore_seconds, 1),
        "average_restore_seconds": _r(o.average_restore_seconds, 1),
        "rpo_seconds": int(o.rpo.total_seconds()),
    }


def lineage_json(ls: LineageStrategy) -> dict[str, Any]:
    m, a, w = ls.measures, ls.advice, ls.workload
    return {
        "database": m.database_name,
        "lineage_key": m.lineage_key,
        "first_backup": _t(m.first_time),
        "last_backup": _t(m.last_time),
        "retention_seconds": int(ls.retention.total_seconds()),
        "current_schedule": ls.current.text() if ls.current else None,
        "measures": {
            "backups": {"full": m.full_count, "diff": m.diff_count, "log": m.log_count},
            "database_bytes": m.database_bytes,
            "growth_bytes_per_day": round(m.growth_bytes_per_day),
            "full_sizes": [{"at": _t(p.at), "bytes": p.bytes} for p in m.full_sizes],
            "log_bytes_per_hour": _r(m.log_bytes_per_hour, 0),
            "log_bytes_per_hour_by_hour": [_r(v, 0) for v in m.log_by_hour],
            "log_bytes_per_hour_by_weekday": [_r(v, 0) for v in m.log_by_weekday],
            "change_model": "changed_fraction(N days) = 1 - (1 - r)^N",
            "change_rate_per_day": _r(m.change_rate),
            "change_rate_linear_per_day": _r(m.change_rate_linear),
            "diff_points": [{"base": p.base_uuid, "at": _t(p.at), "days": round(p.days, 4),
                             "fraction": round(p.fraction, 6)} for p in m.diff_points],
            "compression": {"full": _r(m.compression.full), "diff": _r(m.compression.diff),
                            "log": _r(m.compression.log)},
            "backup_bytes_per_second": _r(m.backup_rate, 0),
        },
        "simulated": None if w is None else {
            "database_bytes": round(w.database_bytes),
            "change_rate_per_day": _r(w.change_rate),
            "log_bytes_per_hour": _r(w.log_bytes_per_hour, 0),
            "restore_bytes_per_second": _r(w.restore_rate, 0),
            "step_seconds": w.step_seconds,
        },
        "schedules": [outcome_json(r) for r in ls.results],
        "advice": {
            "threshold": a.threshold,
            "base_full": a.base_uuid,
            "base_time": _t(a.base_time),
            "latest_diff": a.latest_diff_uuid,
            "latest_diff_time": _t(a.latest_diff_time),
            "latest_fraction": _r(a.latest_fraction),
            "crossed": a.crossed,
            "diffs_past_threshold": a.diffs_past_threshold,
            "crossing_days": _r(a.crossing_days, 3),
            "crossing_time": _t(a.crossing_time),
            "next_scheduled_full": _t(a.next_scheduled_full),
            "message": a.message,
        },
        "verdict": verdict(ls),
        "notes": list(ls.notes),
    }


def strategy_json(result: StrategyResult) -> dict[str, Any]:
    """The stable JSON document (schema ``restoreplan.strategy/1``, see docs/strategy.md)."""
    o = result.options
    return {
        "schema": SCHEMA,
        "options": {
            "retention_seconds": int(o.retention.total_seconds()) if o.retention else None,
            "diff_threshold": o.diff_threshold,
            "restore_bytes_per_second": o.restore_rate,
            "step_seconds": o.step_seconds,
        },
        "lineages": [lineage_json(ls) for ls in result.lineages],
    }


# -- text ------------------------------------------------------------------------------------


def _peak_hour(values: tuple[float | None, ...], names: tuple[str, ...] | None = None) -> str:
    known = [(v, i) for i, v in enumerate(values) if v is not None]
    if not known:
        return "n/a"
    v, i = max(known)
    label = names[i] if names else f"{i:02d}:00"
    return f"{human_bytes(round(v))}/h at {label}"


def measures_lines(ls: LineageStrategy) -> list[str]:
    m, w = ls.measures, ls.workload
    c = m.compression
    comp = ", ".join(f"{k} {v:.2f}" for k, v in (("full", c.full), ("diff", c.diff), ("log", c.log)) if v)
    rate = "n/a" if m.change_rate is None else (
        f"{m.change_rate:.2%}/day (1-(1-r)^N fit of {len(m.diff_points)} differentials; linear {m.change_rate_linear:.2%}/day)")
    lines = [
        f"History {m.first_time:%Y-%m-%d %H:%M} .. {m.last_time:%Y-%m-%d %H:%M}: "
        f"{m.full_count} full, {m.diff_count} differential, {m.log_count} log",
        f"Database {human_bytes(m.database_bytes)} (latest full), growth {human_bytes(round(abs(m.growth_bytes_per_day)))}/day"
        + (" (shrinking)" if m.growth_bytes_per_day < 0 else ""),
        "Log volume " + ("n/a" if m.log_bytes_per_hour is None else
                         f"{human_bytes(round(m.log_bytes_per_hour))}/h on average; busiest "
                         f"{_peak_hour(m.log_by_hour)}, {_peak_hour(m.log_by_weekday, DAY_NAMES)}"),
        f"Change rate {rate}",
        f"Compression (disk/logical) {comp or 'n/a'}; full backups run at "
        + ("n/a" if m.backup_rate is None else f"{human_bytes(round(m.backup_rate))}/s"),
        f"Current schedule (inferred): {ls.current.text() if ls.current else 'unknown'}; "
        f"retention simulated: {fmt_span(ls.retention)}"
        + ("" if w is None or w.restore_rate is None else f"; restore rate {human_bytes(round(w.restore_rate))}/s"),
    ]
    return lines


def lineage_table(ls: LineageStrategy) -> str:
    headers = ["", *(r.outcome.schedule.name + ("" if r.origin != "current" else " *") for r in ls.results)]
    rows: list[list[str]] = []

    def row(label: str, fn: Any) -> None:
        rows.append([label, *(fn(r.outcome) for r in ls.results)])

    row("schedule", lambda o: o.schedule.text().replace("; ", "\n"))
    row("backups/week F/D/L", lambda o: "/".join(str(n) for n in o.backups_per_week))
    row("written/week", lambda o: human_bytes(o.written_per_week))
    row("peak storage", lambda o: human_bytes(o.peak_storage))
    row("average storage", lambda o: human_bytes(o.average_storage))
    row("worst restore steps", lambda o: str(o.worst_steps))
    row("average restore steps", lambda o: f"{o.average_steps:.1f}")
    row("worst restore read", lambda o: human_bytes(o.worst_restore_bytes))
    row("worst restore time", lambda o: fmt_seconds(o.worst_restore_seconds))
    row("RPO (log interval)", lambda o: fmt_span(o.rpo))
    return tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=[None] + [22] * len(ls.results))


def strategy_table(result: StrategyResult) -> str:
    """Per lineage: measures, the side-by-side comparison, the advice and the verdict."""
    out: list[str] = []
    for ls in result.lineages:
        m = ls.measures
        out.append(f"Backup strategy for {m.database_name} (lineage {m.lineage_key})")
        out += measures_lines(ls)
        out.append("")
        if ls.results:
            out.append(lineage_table(ls))
            out.append("(* the schedule inferred from the history)")
        out.append(f"Next full: {ls.advice.message}")
        out += [f"note: {n}" for n in ls.notes]
        out.append(verdict(ls))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- HTML ------------------------------------------------------------------------------------

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _svg(ls: LineageStrategy) -> str:
    """Peak storage (x) against worst-case restore steps (y), one labelled dot per schedule."""
    w, h, left, bottom, top, right = 520, 300, 60, 40, 15, 170
    xs = [r.outcome.peak_storage for r in ls.results]
    ys = [r.outcome.worst_steps for r in ls.results]
    xmax, ymax = max(xs) * 1.1 or 1, max(ys) * 1.1 or 1
    pw, ph = w - left - right, h - top - bottom

    def px(x: float) -> float:
        return left + pw * x / xmax

    def py(y: float) -> float:
        return top + ph * (1 - y / ymax)

    e = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
             f'role="img" aria-label="{e("peak storage against worst-case restore steps")}">',
             f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>',
             f'<text x="{left + pw / 2:.0f}" y="{h - 8}" text-anchor="middle" font-size="11">peak storage '
             f'(max {e(human_bytes(max(xs)))})</text>',
             f'<text x="14" y="{top + ph / 2:.0f}" text-anchor="middle" font-size="11" '
             f'transform="rotate(-90 14 {top + ph / 2:.0f})">worst restore steps</text>',
             f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10">{round(ymax)}</text>',
             f'<text x="{left - 4}" y="{top + ph}" text-anchor="end" font-size="10">0</text>']
    for k, r in enumerate(ls.results):
        color = _COLORS[k % len(_COLORS)]
        cx, cy = px(xs[k]), py(ys[k])
        label = f"{r.outcome.schedule.name}: {human_bytes(xs[k])}, {ys[k]} steps"
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{color}"><title>{e(label)}</title></circle>')
        parts.append(f'<rect x="{w - right + 10}" y="{top + 16 * k}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{w - right + 24}" y="{top + 16 * k + 9}" font-size="10">'
                     f'{e(r.outcome.schedule.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_lineage(ls: LineageStrategy) -> str:
    e = html.escape
    m = ls.measures
    out = [f'<div class="strategy-lineage"><h3>{e(m.database_name)} '
           f'<small>{e(m.lineage_key)}</small></h3>', "<ul>"]
    out += [f"<li>{e(line)}</li>" for line in measures_lines(ls)]
    out.append("</ul>")
    if ls.results:
        out.append(_svg(ls))
        out.append('<table class="strategy"><thead><tr><th></th>')
        out += [f"<th>{e(r.outcome.schedule.name)}{' *' if r.origin == 'current' else ''}</th>" for r in ls.results]
        out.append("</tr></thead><tbody>")
        rows = [
            ("schedule", [r.outcome.schedule.text() for r in ls.results]),
            ("peak storage", [human_bytes(r.outcome.peak_storage) for r in ls.results]),
            ("average storage", [human_bytes(r.outcome.average_storage) for r in ls.results]),
            ("written/week", [human_bytes(r.outcome.written_per_week) for r in ls.results]),
            ("worst restore steps", [str(r.outcome.worst_steps) for r in ls.results]),
            ("average restore steps", [f"{r.outcome.average_steps:.1f}" for r in ls.results]),
            ("worst restore read", [human_bytes(r.outcome.worst_restore_bytes) for r in ls.results]),
            ("worst restore time", [fmt_seconds(r.outcome.worst_restore_seconds) for r in ls.results]),
            ("RPO", [fmt_span(r.outcome.rpo) for r in ls.results]),
        ]
        for label, cells in rows:
            out.append(f"<tr><th>{e(label)}</th>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        out.append("</tbody></table><p><small>* inferred from the history</small></p>")
    advice_cls = "strategy-warn" if ls.advice.crossed else "strategy-advice"
    out.append(f'<p class="{advice_cls}">Next full: {e(ls.advice.message)}</p>')
    out += [f'<p class="strategy-note">note: {e(n)}</p>' for n in ls.notes]
    out.append(f'<p class="strategy-verdict"><strong>{e(verdict(ls))}</strong></p></div>')
    return "\n".join(out)


_STYLE = (".strategy{border-collapse:collapse;font-size:12px}.strategy td,.strategy th{border:1px solid #ccc;"
          "padding:3px 6px;text-align:right;vertical-align:top}.strategy thead th{background:#eee}"
          ".strategy-warn{color:#a00;font-weight:bold}.strategy-lineage small{color:#666;font-weight:normal}")


def strategy_html_section(result: StrategyResult) -> str:
    """A self-contained HTML fragment (inline style and SVG; all text escaped) for any report."""
    body = "\n".join(_html_lineage(ls) for ls in result.lineages) or "<p>No lineage to analyse.</p>"
    return (f'<section class="restoreplan-strategy"><style>{_STYLE}</style>'
            f"<h2>Backup strategy what-if</h2>\n{body}\n</section>")


def strategy_html_page(result: StrategyResult, title: str = "restoreplan: backup strategy") -> str:
    """A complete self-contained HTML page holding ``strategy_html_section``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}</style></head><body>\n"
            f"{strategy_html_section(result)}\n</body></html>\n")
