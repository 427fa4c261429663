"""What a lineage's history says about its database: size, growth, log volume, change rate, speed.

Every measure is one pass over the lineage (linear in the history). Times are server-local, as
msdb stores them; sizes are ``backup_size`` (logical) unless the name says disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from restoreplan.core.history import Lineage
from restoreplan.core.model import BackupSet, BackupType

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SizePoint:
    """A full backup's logical size at its start time."""

    at: datetime
    bytes: int


@dataclass(frozen=True, slots=True)
class DiffPoint:
    """A differential as a fraction of its base full, ``days`` after the base started."""

    base_uuid: str
    at: datetime
    days: float
    fraction: float


@dataclass(frozen=True, slots=True)
class Compression:
    """compressed_backup_size / backup_size per backup type (None when unknown)."""

    full: float | None
    diff: float | None
    log: float | None


@dataclass(frozen=True, slots=True)
class Measures:
    """Measured facts of one lineage (one database incarnation)."""

    database_name: str
    lineage_key: str
    first_time: datetime
    last_time: datetime
    full_count: int
    diff_count: int
    log_count: int
    full_sizes: tuple[SizePoint, ...]
    database_bytes: int  # latest full's backup_size; 0 without a full
    growth_bytes_per_day: float  # least-squares slope of full sizes; 0.0 with fewer than 2 fulls
    log_bytes_per_hour: float | None  # mean log volume; None without two consecutive logs
    log_by_hour: tuple[float | None, ...]  # 24 means (bytes/hour) by hour of day
    log_by_weekday: tuple[float | None, ...]  # 7 means (bytes/hour) by weekday, Monday first
    diff_points: tuple[DiffPoint, ...]
    change_rate: float | None  # r of changed(N) = 1 - (1 - r)^N, N in days
    change_rate_linear: float | None  # a of changed(N) = a * N (least squares through 0)
    compression: Compression
    backup_rate: float | None  # full backups: backup_size bytes per second of duration
    log_seconds_observed: float  # seconds of log intervals the log rates come from

    @property
    def window(self) -> timedelta:
        return self.last_time - self.first_time


def _ratio(num: int, den: int) -> float | None:
    return num / den if den > 0 and num > 0 else None


def _spread(a: datetime, b: datetime, nbytes: float, hb: list[float], hs: list[float],
            wb: list[float], ws: list[float]) -> None:
    """Add ``nbytes`` logged evenly over (a, b] to the hour-of-day and weekday buckets."""
    total = (b - a).total_seconds()
    rate = nbytes / total
    cursor = a
    while cursor < b:
        edge = cursor.replace(minute=0, second=0, microsecond=0) + HOUR
        end = edge if edge < b else b
        secs = (end - cursor).total_seconds()
        h, w = cursor.hour, cursor.weekday()
        hb[h] += rate * secs
        hs[h] += secs
        wb[w] += rate * secs
        ws[w] += secs
        cursor = end


def _slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return 0.0 if sxx == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def fit_change_rate(points: tuple[DiffPoint, ...] | list[DiffPoint]) -> tuple[float | None, float | None]:
    """(compounding r, linear a): least squares through the origin of ln(1-f) = N ln(1-r) and f = a N."""
    snn = sum(p.days * p.days for p in points)
    if not points or snn <= 0:
        return None, None
    sny = sum(p.days * math.log(1.0 - min(p.fraction, 0.999999)) for p in points)
    snf = sum(p.days * p.fraction for p in points)
    return 1.0 - math.exp(sny / snn), snf / snn


def measure_lineage(lineage: Lineage) -> Measures:
    """One pass over ``lineage``: sizes, growth, log profile, change rate, compression, speed."""
    sizes: list[SizePoint] = []
    comp = {t: [0, 0] for t in (BackupType.FULL, BackupType.DIFF, BackupType.LOG)}
    rate_bytes, rate_secs = 0, 0.0
    diffs: list[BackupSet] = []
    counts = {BackupType.FULL: 0, BackupType.DIFF: 0, BackupType.LOG: 0}
    first, last = lineage.sets[0].backup_start_date, lineage.sets[0].backup_finish_date
    for s in lineage.sets:
        first = min(first, s.backup_start_date)
        last = max(last, s.backup_finish_date)
        if s.type not in counts:
            continue
        counts[s.type] += 1
        if s.backup_size and s.compressed_backup_size:
            comp[s.type][0] += s.compressed_backup_size
            comp[s.type][1] += s.backup_size
        if s.type is BackupType.FULL and s.backup_size:
            sizes.append(SizePoint(s.backup_start_date, s.backup_size))
            secs = (s.backup_finish_date - s.backup_start_date).total_seconds()
            if secs > 0:
                rate_bytes += s.backup_size
                rate_secs += secs
        elif s.type is BackupType.DIFF and s.backup_size:
            diffs.append(s)
    points = []
    for d in diffs:
        base = lineage.by_uuid.get(d.differential_base_guid or "")
        if base is None or base.type is not BackupType.FULL or not base.backup_size:
            continue
        days = (d.backup_start_date - base.backup_start_date) / timedelta(days=1)
        if days > 0:
            points.append(DiffPoint(base.backup_set_uuid, d.backup_start_date, days,
                                    (d.backup_size or 0) / base.backup_size))
    hb, hs, wb, ws = [0.0] * 24, [0.0] * 24, [0.0] * 7, [0.0] * 7
    for run in lineage.runs:
        logs = run.logs
        for prev, log in zip(logs, logs[1:], strict=False):
            a, b = prev.backup_finish_date, log.backup_finish_date
            if b > a and log.backup_size is not None:
                _spread(a, b, float(log.backup_size), hb, hs, wb, ws)
    observed = sum(hs)
    start = sizes[0].at if sizes else first
    rate, linear = fit_change_rate(points)
    return Measures(
        database_name=lineage.database_name,
        lineage_key=lineage.key,
        first_time=first,
        last_time=last,
        full_count=counts[BackupType.FULL],
        diff_count=counts[BackupType.DIFF],
        log_count=counts[BackupType.LOG],
        full_sizes=tuple(sizes),
        database_bytes=sizes[-1].bytes if sizes else 0,
        growth_bytes_per_day=_slope([(p.at - start) / timedelta(days=1) for p in sizes],
                                    [float(p.bytes) for p in sizes]),
        log_bytes_per_hour=sum(hb) / observed * 3600 if observed > 0 else None,
        log_by_hour=tuple(b / s * 3600 if s > 0 else None for b, s in zip(hb, hs, strict=True)),
        log_by_weekday=tuple(b / s * 3600 if s > 0 else None for b, s in zip(wb, ws, strict=True)),
        diff_points=tuple(points),
        change_rate=rate,
        change_rate_linear=linear,
        compression=Compression(*(_ratio(*comp[t]) for t in (BackupType.FULL, BackupType.DIFF, BackupType.LOG))),
        backup_rate=rate_bytes / rate_secs if rate_secs > 0 else None,
        log_seconds_observed=observed,
    )
