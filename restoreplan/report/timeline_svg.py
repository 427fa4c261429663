"""An inline SVG timeline of one lineage: backups as marks, windows shaded, gaps in red, forks as
branches, an optional target line. Marks are binned per pixel column, so a history of a million
rows still draws a few thousand elements. All text is escaped."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from restoreplan.core.audit import LineageAudit
from restoreplan.core.model import BackupType
from restoreplan.core.target import clock_of, fmt_time

WIDTH = 1200
LEFT = 20
PLOT = WIDTH - 2 * LEFT
LANE = 56
TOP = 18
_MARK = {BackupType.FULL: ("#1f4e9c", 30, "full"), BackupType.DIFF: ("#5b8fd6", 22, "differential"),
         BackupType.LOG: ("#7a7a7a", 12, "log")}
_STEPS = [timedelta(minutes=m) for m in (15, 30, 60, 120, 180, 360, 720)] + \
         [timedelta(days=d) for d in (1, 2, 7, 14, 30, 91, 182, 365)]


def _ticks(lo: datetime, hi: datetime) -> list[datetime]:
    span = hi - lo
    step = next((s for s in _STEPS if span / s <= 10), _STEPS[-1])
    secs = int(step.total_seconds())
    epoch = datetime(2000, 1, 1)
    first = epoch + timedelta(seconds=(int((lo - epoch).total_seconds()) // secs + 1) * secs)
    out: list[datetime] = []
    t = first
    while t <= hi and len(out) < 40:
        out.append(t)
        t += step
    return out


def render_timeline(a: LineageAudit, *, target: datetime | None = None) -> str:
    """The SVG element (a string) for one lineage; ``target`` is a compare key."""
    lin = a.lineage
    clock = clock_of(lin)
    lo = lin.start_key(lin.sets[0]) if lin.sets else datetime(2000, 1, 1)
    hi = max(lin.finish_key(lin.sets[-1]), lo + timedelta(minutes=1))
    lo = min(lo, *(lin.start_key(s) for s in lin.sets[:50]))
    if target is not None:
        lo, hi = min(lo, target), max(hi, target)
    pad = (hi - lo) * 0.01
    lo, hi = lo - pad, hi + pad
    total = (hi - lo).total_seconds()

    def x(t: datetime) -> float:
        return round(LEFT + PLOT * (t - lo).total_seconds() / total, 1)

    forks = [f.guid for f in a.forks] or [None]
    lane_of = {g: i for i, g in enumerate(forks)}
    height = TOP + LANE * len(forks) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(a.database_name)} timeline">',
             f'<title>{escape(a.database_name)}: backups, recoverable windows and gaps</title>']
    body_h = LANE * len(forks)
    for s, e in a.windows:
        x0, x1 = x(s.key), x(e.key)
        label = (f"recoverable {s.local_text} .. {e.local_text}" if s.key != e.key
                 else f"recoverable point {s.local_text}")
        parts.append(f'<rect class="window" x="{x0}" y="{TOP}" width="{max(x1 - x0, 1.5)}" height="{body_h}" '
                     f'fill="#cfeccf"><title>{escape(label)}</title></rect>')
    for g in a.gaps:
        x0, x1 = x(g.start.key), x(g.end.key)
        parts.append(f'<rect class="gap" x="{x0}" y="{TOP}" width="{max(x1 - x0, 2)}" height="{body_h}" '
                     f'fill="#e53935" fill-opacity="0.35"><title>{escape(f"not recoverable {g.start.local_text} .. {g.end.local_text}: {g.cause}")}'
                     f'</title></rect>')
    for f in a.forks:
        i = lane_of.get(f.guid, 0)
        y = TOP + LANE * i + LANE / 2
        parts.append(f'<line class="fork" x1="{x(f.start.key)}" y1="{y}" x2="{x(f.end.key)}" y2="{y}" '
                     f'stroke="#444" stroke-width="1.5"><title>{escape(f"recovery fork {f.guid}: {f.sets} backups")}</title></line>')
        if f.parent in lane_of and f.branch_at is not None:
            py = TOP + LANE * lane_of[f.parent] + LANE / 2
            bx = x(f.branch_at.key)
            parts.append(f'<path class="branch" d="M{bx} {py} L{bx} {y}" stroke="#444" stroke-dasharray="3 2" '
                         f'fill="none"><title>{escape(f"branches at {f.branch_at.local_text}")}</title></path>')
    # marks, binned per pixel column and lane
    bins: dict[tuple[int, int, BackupType], list[int | str]] = {}
    for bs in lin.sets:
        kind = bs.type if bs.type in _MARK else BackupType.FULL
        lane = lane_of.get(bs.last_recovery_fork_guid, 0)
        col = int(x(lin.finish_key(bs)))
        b = bins.get((col, lane, kind))
        if b is None:
            bins[(col, lane, kind)] = [1, bs.backup_set_uuid, fmt_time(bs.backup_finish_date) or "",
                                       1 if bs.backup_set_uuid in lin.unavailable else 0]
        else:
            b[0] = int(b[0]) + 1
            b[3] = int(b[3]) + (1 if bs.backup_set_uuid in lin.unavailable else 0)
    for (col, lane, kind), (n, uuid, when, bad) in sorted(bins.items(), key=lambda kv: -_MARK[kv[0][2]][1]):
        color, h, label = _MARK[kind]
        y = TOP + LANE * lane + (LANE - h) / 2
        tip = f"{label} {uuid} finished {when}" if n == 1 else f"{n} {label} backups up to {when}"
        if bad:
            tip += f" ({bad} unusable)"
            color = "#b71c1c"
        w = 3 if kind is not BackupType.LOG else 1
        parts.append(f'<rect class="mark {label}" x="{col - w / 2}" y="{y}" width="{w}" height="{h}" '
                     f'fill="{color}"><title>{escape(tip)}</title></rect>')
    axis_y = TOP + body_h + 6
    parts.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{LEFT + PLOT}" y2="{axis_y}" stroke="#222"/>')
    for t in _ticks(lo, hi):
        tx = x(t)
        text = clock.from_key(t).local_text[:16]
        parts.append(f'<line x1="{tx}" y1="{axis_y}" x2="{tx}" y2="{axis_y + 5}" stroke="#222"/>'
                     f'<text x="{tx}" y="{axis_y + 17}" font-size="10" text-anchor="middle">{escape(text)}</text>')
    if target is not None:
        tx = x(target)
        covered = a.covers(target)
        label = f"target {clock.from_key(target).local_text}: " + ("recoverable" if covered else "NOT recoverable")
        parts.append(f'<line class="target" x1="{tx}" y1="{TOP - 8}" x2="{tx}" y2="{axis_y}" stroke="#ff6f00" '
                     f'stroke-width="2"><title>{escape(label)}</title></line>'
                     f'<text x="{tx + 3}" y="{TOP - 8}" font-size="10" fill="#e65100">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
