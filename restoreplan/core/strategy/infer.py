"""Infer the schedule a lineage actually follows from its backup start times.

Rules (documented in docs/strategy.md): copy-only backups are ignored. For each kind, the median
gap between consecutive starts decides the form: under 18 hours, an interval (the median gap
rounded to the minute); up to 36 hours, ``daily``; longer, the weekdays seen on at least half of
the weeks the history covers, or, in a history shorter than two weeks, the most common weekday
(the latest on a tie). The time of day is the most common HH:MM.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from restoreplan.core.history import Lineage
from restoreplan.core.model import BackupType
from restoreplan.core.strategy.schedule import (
    ALL_DAYS,
    MAX_INTERVAL,
    MIN_INTERVAL,
    Cadence,
    Schedule,
)


@dataclass(frozen=True, slots=True)
class Inferred:
    """The inferred schedule (None when the history has no full) and how it was read."""

    schedule: Schedule | None
    notes: tuple[str, ...]


def _mode_time(starts: Sequence[datetime]) -> time:
    counts = Counter((t.hour, t.minute) for t in starts)
    (h, m), _ = max(counts.items(), key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))
    return time(h, m)


def infer_cadence(starts: Sequence[datetime], window: timedelta) -> Cadence | None:
    """A cadence for ascending start times (None for no starts)."""
    if not starts:
        return None
    if len(starts) == 1:
        return Cadence.on({starts[0].weekday()}, _mode_time(starts))
    gap = statistics.median((b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False))
    if gap < 18 * 3600:
        minutes = max(1, round(gap / 60))
        iv = min(max(timedelta(minutes=minutes), MIN_INTERVAL), MAX_INTERVAL)
        return Cadence.every(iv)
    if gap <= 36 * 3600:
        return Cadence.on(ALL_DAYS, _mode_time(starts))
    weeks = window / timedelta(days=7)
    seen = Counter(t.weekday() for t in starts)
    if weeks < 2:  # too short to tell a second weekday from a one-off: the most common, latest wins
        top = max(seen.values())
        days = {next(t.weekday() for t in reversed(starts) if seen[t.weekday()] == top)}
    else:
        days = {d for d, n in seen.items() if n >= weeks / 2} or {seen.most_common(1)[0][0]}
    return Cadence.on(days, _mode_time([t for t in starts if t.weekday() in days]))


def infer_schedule(lineage: Lineage, name: str = "current") -> Inferred:
    """The schedule this lineage's history follows (fulls, differentials, logs)."""
    starts: dict[BackupType, list[datetime]] = {BackupType.FULL: [], BackupType.DIFF: [], BackupType.LOG: []}
    for s in lineage.sets:
        if s.type in starts and not s.is_copy_only:
            starts[s.type].append(s.backup_start_date)
    for v in starts.values():
        v.sort()
    window = lineage.sets[-1].backup_finish_date - min(s.backup_start_date for s in lineage.sets)
    full = infer_cadence(starts[BackupType.FULL], window)
    notes = []
    if full is None:
        return Inferred(None, ("no full backup (copy-only excluded): the current schedule cannot be inferred",))
    if len(starts[BackupType.FULL]) == 1:
        notes.append("one full only: assumed weekly on its weekday")
    elif full.interval is None and full.weekdays != ALL_DAYS and window < timedelta(days=14):
        notes.append("history shorter than two weeks: the weekday of the fulls is a guess")
    diff = infer_cadence(starts[BackupType.DIFF], window)
    if diff is not None and diff.interval is None and diff.weekdays != ALL_DAYS:
        # a differential is not taken when a full takes its slot: read diffs and fulls together
        both = sorted(starts[BackupType.DIFF] + starts[BackupType.FULL])
        merged = infer_cadence(both, window)
        if merged is not None and merged.weekdays == ALL_DAYS:
            diff = Cadence.on(ALL_DAYS, *diff.times)
    log = infer_cadence(starts[BackupType.LOG], window)
    if log is not None and log.interval is None:
        notes.append("logs are taken at most daily")
    return Inferred(Schedule(name, full, diff, log), tuple(notes))
