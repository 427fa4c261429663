"""Simulate a backup schedule in steady state: storage held, restore steps, restore bytes and time.

Model (docs/strategy.md states it in full):

* Backups are instants at their scheduled times. A differential due at the same instant as a full
  is not taken; a log due with a full or differential is taken, and covers the time before it.
* A full holds ``database_bytes``; a differential N days after its base full holds
  ``database_bytes * (1 - (1 - r)^N)``; a log holds the log volume generated since the previous log.
  Disk bytes are logical bytes times the measured compression ratio of the type.
* Restoring a point p uses the shortest sequence: the latest full at or before p, the latest
  differential of that full at or before p, then every log after that up to the first log at or
  after p. Without logs, p is restored to the latest full/differential at or before p.
* Retention R: at time T the storage held is every backup of the shortest sequence of any point in
  [T - R, T]: the latest full at or before T - R (F0) and every later full; the latest differential
  of F0 at or before T - R and every later differential; every log after the later of those two.
* Results are over one steady-state period (a week, or four weeks when an interval does not divide
  a week) after a warm-up of R + the longest full gap + one day. Points and times are averaged
  uniformly over that period.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from restoreplan.core.errors import UsageError
from restoreplan.core.strategy.schedule import DAY, EPOCH, MAX_DURATION, WEEK, Schedule

HOUR = timedelta(hours=1)
MAX_EVENTS = 3_000_000
_LOG, _FULL, _DIFF = 0, 1, 2  # same-instant order: a log covers the time before a data backup


@dataclass(frozen=True, slots=True)
class Workload:
    """The database the schedules are simulated on (usually from Measures; see ``workload_from``)."""

    database_bytes: float
    change_rate: float = 0.0  # r: fraction of the database changed per day, compounding
    log_bytes_per_hour: float = 0.0
    hour_factor: tuple[float, ...] = field(default=(1.0,) * 24)
    weekday_factor: tuple[float, ...] = field(default=(1.0,) * 7)
    full_ratio: float = 1.0  # disk / logical
    diff_ratio: float = 1.0
    log_ratio: float = 1.0
    restore_rate: float | None = None  # logical bytes restored per second
    step_seconds: float = 0.0  # fixed cost of each RESTORE statement

    def diff_bytes(self, days: float) -> float:
        """Logical size of a differential ``days`` after its base full."""
        return self.database_bytes * (1.0 - (1.0 - self.change_rate) ** days)

    def log_bytes(self, a: datetime, b: datetime) -> float:
        """Log volume generated over (a, b]."""
        if b <= a or self.log_bytes_per_hour <= 0:
            return 0.0
        flat = all(f == 1.0 for f in self.hour_factor) and all(f == 1.0 for f in self.weekday_factor)
        if flat:
            return self.log_bytes_per_hour * ((b - a) / HOUR)
        total = 0.0
        cursor = a
        while cursor < b:
            edge = cursor.replace(minute=0, second=0, microsecond=0) + HOUR
            end = edge if edge < b else b
            f = self.hour_factor[cursor.hour] * self.weekday_factor[cursor.weekday()]
            total += self.log_bytes_per_hour * f * ((end - cursor) / HOUR)
            cursor = end
        return total

    def seconds(self, logical: float, steps: int) -> float | None:
        if not self.restore_rate:
            return None
        return logical / self.restore_rate + steps * self.step_seconds


@dataclass(frozen=True, slots=True)
class Outcome:
    """A schedule's simulated steady state under a retention window."""

    schedule: Schedule
    retention: timedelta
    peak_storage: int  # disk bytes held, maximum over time
    average_storage: int  # disk bytes held, time average
    written_per_week: int  # disk bytes of backups taken per week
    backups_per_week: tuple[int, int, int]  # fulls, differentials, logs
    worst_steps: int  # restore statements for the worst point
    average_steps: float  # over every point of the period, uniformly
    worst_restore_bytes: int  # disk bytes read for the worst point
    worst_restore_seconds: float | None  # estimated, None without a restore rate
    average_restore_seconds: float | None
    rpo: timedelta  # longest time between two consecutive backups (data lost in the worst case)


@dataclass(slots=True)
class _Series:
    times: list[datetime] = field(default_factory=list)
    prefix: list[float] = field(default_factory=lambda: [0.0])

    def add(self, t: datetime, disk: float) -> None:
        self.times.append(t)
        self.prefix.append(self.prefix[-1] + disk)

    def between(self, lo: int, hi: int) -> float:
        return self.prefix[hi] - self.prefix[lo] if hi > lo else 0.0


def _events(schedule: Schedule, end: datetime) -> list[tuple[datetime, int]]:
    fulls = set(schedule.full.occurrences(EPOCH, end))
    out = [(t, _FULL) for t in fulls]
    if schedule.diff is not None:
        out += [(t, _DIFF) for t in schedule.diff.occurrences(EPOCH, end) if t not in fulls]
    if schedule.log is not None:
        out += [(t, _LOG) for t in schedule.log.occurrences(EPOCH, end)]
    out.sort()
    first = next((i for i, (_, k) in enumerate(out) if k == _FULL), len(out))
    return out[first:]  # nothing can be restored before the first full


def period_of(schedule: Schedule) -> timedelta:
    """A week (four when an interval does not divide a week), as many as it takes to hold at least one
    whole full cycle and one whole differential cycle: the worst point (just before a full) is in it."""
    cads = [c for c in (schedule.full, schedule.diff, schedule.log) if c is not None]
    base = WEEK if all(c.divides_week() for c in cads) else 4 * WEEK
    cycle = max(c.longest_gap for c in (schedule.full, schedule.diff) if c is not None)
    return base * max(1, -(-cycle // base))


def simulate(schedule: Schedule, workload: Workload, retention: timedelta) -> Outcome:
    """Steady-state storage, restore steps/bytes/time and RPO of ``schedule`` (see module doc)."""
    if retention <= timedelta(0):
        raise UsageError("the retention window must be positive")
    if retention > MAX_DURATION:
        raise UsageError(f"the retention window ({retention.days} days) is too long to simulate",
                         hint="at most 100 years (36500d)")
    numbers = (workload.database_bytes, workload.change_rate, workload.log_bytes_per_hour, workload.step_seconds,
               workload.restore_rate or 0.0)
    if not all(math.isfinite(x) and x >= 0 for x in numbers):
        raise UsageError("the simulated database needs finite, non-negative sizes, rates and step costs")
    period = period_of(schedule)
    start = EPOCH + retention + schedule.full.longest_gap + DAY
    stop = start + period
    pad = (schedule.log.longest_gap if schedule.log else schedule.full.longest_gap) + DAY
    smallest = min(c.longest_gap for c in (schedule.full, schedule.diff, schedule.log) if c is not None)
    if (stop + pad - EPOCH) / max(smallest, timedelta(minutes=1)) > MAX_EVENTS:
        raise UsageError("the retention window is too long for this schedule's interval to simulate",
                         hint="use a shorter --retention or a longer log interval")
    events = _events(schedule, stop + pad)
    w = workload
    fulls, diffs, logs = _Series(), _Series(), _Series()
    full_t = events[0][0]
    f_log = f_disk = d_log = d_disk = l_log = l_disk = 0.0
    has_diff, n_logs = False, 0
    prev_log: datetime | None = None
    prev_point = full_t
    prev_event: datetime | None = None
    worst = (0, 0.0, 0.0)  # steps, disk bytes, seconds
    weight_total = steps_area = secs_area = 0.0
    rpo = timedelta(0)
    written = 0.0
    counts = [0, 0, 0]
    no_logs = schedule.log is None
    log_gap = schedule.log.longest_gap if schedule.log is not None else DAY
    pending: list[tuple[datetime, datetime, int, float, float]] = []

    def cover(lo: datetime, hi: datetime, steps: int, logical: float, disk: float) -> None:
        nonlocal worst, weight_total, steps_area, secs_area
        a, b = max(lo, start), min(hi, stop)
        if b < a or (b == a and not (start <= a < stop)):
            return
        secs = w.seconds(logical, steps) or 0.0
        worst = (max(worst[0], steps), max(worst[1], disk), max(worst[2], secs))
        weight = (b - a).total_seconds()
        weight_total += weight
        steps_area += steps * weight
        secs_area += secs * weight

    for t, kind in events:
        if prev_event is not None and prev_event < stop and t > start:
            rpo = max(rpo, t - prev_event)
        prev_event = t
        if kind == _LOG:
            size = w.log_bytes(prev_log if prev_log is not None else t - log_gap, t)
            prev_log = t
            logs.add(t, size * w.log_ratio)
            n_logs += 1
            l_log += size
            l_disk += size * w.log_ratio
            for lo, hi, steps, logical, dsk in pending:  # points just before a data backup
                cover(lo, hi, steps + 1, logical + size, dsk + size * w.log_ratio)
            pending.clear()
            cover(prev_point, t, 1 + has_diff + n_logs, f_log + d_log + l_log, f_disk + d_disk + l_disk)
            prev_point = t
            disk = size * w.log_ratio
        else:
            if no_logs:
                cover(prev_point, t, 1 + has_diff, f_log + d_log, f_disk + d_disk)
            elif prev_point < t:  # (prev_point, t) keeps the old chain, up to the next log
                pending.append((prev_point, t, 1 + has_diff + n_logs, f_log + d_log + l_log,
                                f_disk + d_disk + l_disk))
            if kind == _FULL:
                full_t, f_log, f_disk = t, w.database_bytes, w.database_bytes * w.full_ratio
                has_diff, d_log, d_disk = False, 0.0, 0.0
                fulls.add(t, f_disk)
                disk = f_disk
            else:
                d_log = w.diff_bytes((t - full_t) / DAY)
                has_diff, d_disk = True, d_log * w.diff_ratio
                diffs.add(t, d_disk)
                disk = d_disk
            n_logs, l_log, l_disk = 0, 0.0, 0.0
            prev_point = t
            if not no_logs:
                cover(t, t, 1 + has_diff, f_log + d_log, f_disk + d_disk)
        if start <= t < stop:
            written += disk
            counts[(_FULL, _DIFF, _LOG).index(kind)] += 1

    if not math.isfinite(worst[2]) or not math.isfinite(secs_area):
        raise UsageError("the restore time estimate is too large to compute",
                         hint="check --restore-rate and --step-seconds")
    peak, average = _storage(fulls, diffs, logs, retention, start, stop)
    scale = WEEK / period
    avg_steps = steps_area / weight_total if weight_total else float(worst[0])
    return Outcome(
        schedule=schedule,
        retention=retention,
        peak_storage=round(peak),
        average_storage=round(average),
        written_per_week=round(written * scale),
        backups_per_week=(round(counts[0] * scale), round(counts[1] * scale), round(counts[2] * scale)),
        worst_steps=worst[0],
        average_steps=avg_steps,
        worst_restore_bytes=round(worst[1]),
        worst_restore_seconds=worst[2] if w.restore_rate else None,
        average_restore_seconds=(secs_area / weight_total if weight_total else None) if w.restore_rate else None,
        rpo=rpo,
    )


def held(fulls: _Series, diffs: _Series, logs: _Series, retention: timedelta, now: datetime) -> float:
    """Disk bytes held at ``now`` under the retention semantics of the module doc."""
    edge = now - retention
    i0 = bisect.bisect_right(fulls.times, edge) - 1
    if i0 < 0:
        raise ValueError("no full at or before the retention edge (warm-up too short)")
    f0 = fulls.times[i0]
    total = fulls.between(i0, bisect.bisect_right(fulls.times, now))
    j = bisect.bisect_right(diffs.times, edge)
    base = f0
    if j > 0 and diffs.times[j - 1] > f0:
        j -= 1
        base = diffs.times[j]
    total += diffs.between(j, bisect.bisect_right(diffs.times, now))
    total += logs.between(bisect.bisect_right(logs.times, base), bisect.bisect_right(logs.times, now))
    return total


def _storage(fulls: _Series, diffs: _Series, logs: _Series, retention: timedelta,
             start: datetime, stop: datetime) -> tuple[float, float]:
    """(peak, time-average) of ``held`` over [start, stop): it only changes at e and e + R."""
    points = {start}
    for series in (fulls, diffs, logs):
        lo, hi = bisect.bisect_left(series.times, start), bisect.bisect_left(series.times, stop)
        points.update(series.times[lo:hi])
    for series in (fulls, diffs):
        lo = bisect.bisect_left(series.times, start - retention)
        hi = bisect.bisect_left(series.times, stop - retention)
        points.update(t + retention for t in series.times[lo:hi])
    ordered = sorted(points)
    peak = area = 0.0
    for k, t in enumerate(ordered):
        value = held(fulls, diffs, logs, retention, t)
        peak = max(peak, value)
        nxt = ordered[k + 1] if k + 1 < len(ordered) else stop
        area += value * (nxt - t).total_seconds()
    return peak, area / (stop - start).total_seconds()
