"""Backup schedules: the small `--schedule` syntax, its parser, and occurrence times.

Syntax (case-insensitive; see docs/strategy.md)::

    [LABEL:] full=CADENCE [; diff=CADENCE] [; log=CADENCE]

    CADENCE := none | [every] N(m|h|d)        # an interval, aligned to midnight
             | DAYS [HH:MM[,HH:MM...]]          # calendar; the time defaults to 00:00
    DAYS    := daily | weekdays | weekends | DAY[,DAY...]   (DAY: mon..sun, or a range mon-fri)

Examples: ``full=sun 18:00; diff=daily 18:00; log=3h``, ``full=daily 02:00; log=15m``,
``full=sun,wed 22:00; diff=none; log=30m``. Times are server-local.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from restoreplan.core.errors import UsageError

#: Intervals are aligned to this Monday midnight (any Monday midnight gives the same times).
EPOCH = datetime(2001, 1, 1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
MIN_INTERVAL = timedelta(minutes=1)
MAX_INTERVAL = timedelta(days=92)
MAX_DURATION = timedelta(days=36500)  # a retention window or any other --duration: at most 100 years

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_DAYS = frozenset(range(7))
SYNTAX_HINT = ("e.g. 'full=sun 18:00; diff=daily 18:00; log=3h' or 'full=daily 02:00; log=15m'; "
               "cadences: none, 15m, 3h, 1d, daily HH:MM, weekdays HH:MM, sun,wed HH:MM")


@dataclass(frozen=True, slots=True)
class Cadence:
    """When one kind of backup runs: every ``interval`` (from midnight), or on weekdays at times."""

    interval: timedelta | None = None
    weekdays: frozenset[int] = frozenset()
    times: tuple[time, ...] = ()

    @classmethod
    def every(cls, interval: timedelta) -> Cadence:
        return cls(interval=interval)

    @classmethod
    def on(cls, weekdays: frozenset[int] | set[int], *times: time) -> Cadence:
        return cls(weekdays=frozenset(weekdays), times=tuple(sorted(set(times or (time(0, 0),)))))

    @property
    def longest_gap(self) -> timedelta:
        """The longest time between two consecutive occurrences."""
        if self.interval is not None:
            return self.interval
        ts = list(self.occurrences(EPOCH, EPOCH + 2 * WEEK))
        return max(b - a for a, b in zip(ts, ts[1:], strict=False)) if len(ts) > 1 else WEEK

    def divides_week(self) -> bool:
        return self.interval is None or (WEEK % self.interval) == timedelta(0)

    def occurrences(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Occurrence times t with start <= t < end, ascending."""
        if self.interval is not None:
            iv = self.interval
            n = -((EPOCH - start) // iv)  # ceil((start - EPOCH) / iv)
            t = EPOCH + n * iv
            while t < end:
                yield t
                t += iv
            return
        day = datetime.combine(start.date(), time(0, 0))
        while day < end:
            if day.weekday() in self.weekdays:
                for tm in self.times:
                    t = datetime.combine(day.date(), tm)
                    if start <= t < end:
                        yield t
            day += DAY

    def text(self) -> str:
        if self.interval is not None:
            return format_interval(self.interval)
        if self.weekdays == ALL_DAYS:
            days = "daily"
        elif self.weekdays == frozenset(range(5)):
            days = "weekdays"
        elif self.weekdays == frozenset({5, 6}):
            days = "weekends"
        else:
            days = ",".join(DAY_NAMES[d] for d in sorted(self.weekdays))
        return days + " " + ",".join(f"{t:%H:%M}" for t in self.times)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A backup schedule: fulls, optional differentials, optional logs."""

    name: str
    full: Cadence
    diff: Cadence | None = None
    log: Cadence | None = None

    def text(self) -> str:
        parts = [f"full={self.full.text()}",
                 f"diff={self.diff.text() if self.diff else 'none'}",
                 f"log={self.log.text() if self.log else 'none'}"]
        return "; ".join(parts)

    def same_cadences(self, other: Schedule) -> bool:
        return (self.full, self.diff, self.log) == (other.full, other.diff, other.log)


def format_interval(iv: timedelta) -> str:
    secs = int(iv.total_seconds())
    if secs % 86400 == 0:
        return f"{secs // 86400}d"
    if secs % 3600 == 0:
        return f"{secs // 3600}h"
    if secs % 60 == 0:
        return f"{secs // 60}m"
    return f"{secs}s"


_INTERVAL = re.compile(r"^(?:every\s+)?(\d+)\s*(m|min|h|d)$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_duration(text: str, what: str = "duration") -> timedelta:
    """``15m``, ``3h``, ``7d``, ``2w`` as a timedelta (UsageError otherwise)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*", text.lower())
    if not m:
        raise UsageError(f"cannot read {text!r} as a {what}", hint="use e.g. 90m, 36h, 7d or 2w")
    value = float(m.group(1))
    unit = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]
    if value * unit > MAX_DURATION.total_seconds():
        raise UsageError(f"the {what} {text!r} is too long", hint="at most 100 years (36500d)")
    result = timedelta(seconds=round(value * unit))
    if result <= timedelta(0):
        raise UsageError(f"the {what} {text!r} must be positive")
    return result


def _bad(spec: str, why: str) -> UsageError:
    return UsageError(f"bad schedule {spec!r}: {why}", hint=SYNTAX_HINT)


def _parse_days(token: str, spec: str) -> frozenset[int]:
    if token in ("daily", "everyday", "day"):
        return ALL_DAYS
    if token == "weekdays":
        return frozenset(range(5))
    if token == "weekends":
        return frozenset({5, 6})
    out: set[int] = set()
    for part in token.split(","):
        bounds = part.split("-")
        if len(bounds) > 2 or not all(bounds):
            raise _bad(spec, f"cannot read {part!r} as a weekday or a range like mon-fri")
        idx = [_day_index(b, spec) for b in bounds]
        if len(idx) == 1:
            out.add(idx[0])
        else:
            d = idx[0]
            out.add(d)
            while d != idx[1]:
                d = (d + 1) % 7
                out.add(d)
    return frozenset(out)


def _day_index(name: str, spec: str) -> int:
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    if name in _LONG_NAMES:
        return _LONG_NAMES.index(name)
    raise _bad(spec, f"unknown weekday {name!r} (mon, tue, wed, thu, fri, sat, sun)")


def _parse_times(token: str, spec: str) -> tuple[time, ...]:
    out = []
    for part in token.split(","):
        m = _TIME.match(part)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise _bad(spec, f"cannot read {part!r} as a time of day HH:MM")
        out.append(time(int(m.group(1)), int(m.group(2))))
    return tuple(out)


def parse_cadence(text: str, spec: str, kind: str) -> Cadence | None:
    """One cadence (the right-hand side of ``kind=``); None for ``none``."""
    t = " ".join(text.lower().split())
    if not t:
        raise _bad(spec, f"{kind}= has no cadence")
    if t in ("none", "off", "no"):
        return None
    m = _INTERVAL.match(t)
    if m:
        n = int(m.group(1))
        minutes = n * {"m": 1, "min": 1, "h": 60, "d": 1440}[m.group(2)]
        iv = timedelta(minutes=min(minutes, MAX_INTERVAL // timedelta(minutes=1) + 1))  # no overflow
        if not MIN_INTERVAL <= iv <= MAX_INTERVAL:
            raise _bad(spec, f"{kind} interval {text.strip()!r} must be between 1m and 92d")
        return Cadence.every(iv)
    words = t.replace(", ", ",").split(" ")
    if len(words) > 2:
        raise _bad(spec, f"cannot read {kind} cadence {text.strip()!r}")
    days = _parse_days(words[0], spec)
    times = _parse_times(words[1], spec) if len(words) == 2 else (time(0, 0),)
    return Cadence.on(days, *times)


def parse_schedule(spec: str, default_name: str = "custom") -> Schedule:
    """Parse the ``--schedule`` syntax; UsageError (exit 2) with a hint on bad input."""
    body = spec.strip()
    name = default_name
    head = body.split("=", 1)[0]
    if ":" in head:
        label, body = body.split(":", 1)
        name = label.strip() or default_name
    items: dict[str, Cadence | None] = {}
    for raw in body.split(";"):
        item = raw.strip()
        if not item:
            continue
        if "=" not in item:
            raise _bad(spec, f"{item!r} is not KIND=CADENCE")
        key, value = (s.strip().lower() for s in item.split("=", 1))
        key = {"differential": "diff", "differentials": "diff", "logs": "log"}.get(key, key)
        if key not in ("full", "diff", "log"):
            raise _bad(spec, f"unknown backup kind {key!r} (full, diff, log)")
        if key in items:
            raise _bad(spec, f"{key}= given twice")
        items[key] = parse_cadence(value, spec, key)
    full = items.get("full")
    if full is None:
        raise _bad(spec, "a schedule needs fulls (full=...)")
    return Schedule(name=name, full=full, diff=items.get("diff"), log=items.get("log"))
