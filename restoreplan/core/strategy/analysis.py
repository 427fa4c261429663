"""Put it together: for each lineage, measure, infer, simulate the candidates, advise."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time, timedelta

from restoreplan.core.history import Lineage
from restoreplan.core.strategy.advise import Advice, advise
from restoreplan.core.strategy.infer import infer_schedule
from restoreplan.core.strategy.measure import Measures, measure_lineage
from restoreplan.core.strategy.schedule import ALL_DAYS, Cadence, Schedule
from restoreplan.core.strategy.simulate import Outcome, Workload, simulate

CLASSIC_NAMES = ("daily full + logs", "weekly full + logs", "weekly full + daily diff + logs")


@dataclass(frozen=True, slots=True)
class StrategyOptions:
    """What to simulate; None retention means the window each lineage's history covers."""

    retention: timedelta | None = None
    schedules: tuple[Schedule, ...] = ()
    diff_threshold: float = 0.5
    restore_rate: float | None = None  # logical bytes per second; None: measured
    step_seconds: float = 0.0
    classics: bool = True


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """One simulated schedule: ``origin`` is current, classic or given."""

    origin: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class LineageStrategy:
    """Everything the strategy command says about one lineage."""

    measures: Measures
    workload: Workload | None
    retention: timedelta
    current: Schedule | None
    results: tuple[ScheduleResult, ...]
    advice: Advice
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StrategyResult:
    lineages: tuple[LineageStrategy, ...]
    options: StrategyOptions


def workload_from(m: Measures, restore_rate: float | None = None, step_seconds: float = 0.0
                  ) -> tuple[Workload, tuple[str, ...]]:
    """The simulated database from measures, and notes on what had to be assumed."""
    notes: list[str] = []
    mean = m.log_bytes_per_hour or 0.0
    if m.log_bytes_per_hour is None:
        notes.append("no consecutive logs: log volume unknown, simulated as 0")
    hf = [v / mean if v is not None and mean > 0 else 1.0 for v in m.log_by_hour]
    wf = [v / mean if v is not None and mean > 0 else 1.0 for v in m.log_by_weekday]
    norm = (sum(hf) / 24) * (sum(wf) / 7) or 1.0  # keep the weekly mean at log_bytes_per_hour
    hf = [v / norm for v in hf]
    rate = m.change_rate
    if rate is None:
        if mean > 0 and m.database_bytes > 0:
            rate = min(1.0, mean * 24 / m.database_bytes)
            notes.append(f"no differentials: change rate assumed from log volume ({rate:.2%}/day, an upper bound)")
        else:
            rate = 0.0
            notes.append("no differentials and no logs: change rate unknown, simulated as 0")
    c = m.compression
    measured_rate = restore_rate or m.backup_rate
    if measured_rate is None:
        notes.append("no full backup duration: restore time not estimated (give --restore-rate)")
    return Workload(
        database_bytes=float(m.database_bytes),
        change_rate=rate,
        log_bytes_per_hour=mean,
        hour_factor=tuple(hf),
        weekday_factor=tuple(wf),
        full_ratio=c.full or 1.0,
        diff_ratio=c.diff or c.full or 1.0,
        log_ratio=c.log or 1.0,
        restore_rate=measured_rate,
        step_seconds=step_seconds,
    ), tuple(notes)


def classic_schedules(current: Schedule | None) -> tuple[Schedule, ...]:
    """Daily full + logs; weekly full + logs; weekly full + daily diff + logs.

    They keep the current full's time and weekday and the current log interval (Sunday, 22:00 and
    15 minutes when the history does not say).
    """
    at, day, log = time(22, 0), 6, Cadence.every(timedelta(minutes=15))
    if current is not None:
        if current.full.times:
            at = current.full.times[0]
        if current.full.weekdays and current.full.weekdays != ALL_DAYS:
            day = min(current.full.weekdays)
        if current.log is not None:
            log = current.log
    daily, weekly = Cadence.on(ALL_DAYS, at), Cadence.on({day}, at)
    return (
        Schedule(CLASSIC_NAMES[0], daily, None, log),
        Schedule(CLASSIC_NAMES[1], weekly, None, log),
        Schedule(CLASSIC_NAMES[2], weekly, daily, log),
    )


def analyse_lineage(lineage: Lineage, options: StrategyOptions) -> LineageStrategy:
    """Measure, infer, simulate and advise for one lineage."""
    m = measure_lineage(lineage)
    inferred = infer_schedule(lineage)
    notes = list(inferred.notes)
    retention = options.retention or max(timedelta(hours=1), _ceil_hour(m.window))
    advice = advise(lineage, m, inferred.schedule, options.diff_threshold)
    if m.database_bytes <= 0:
        notes.append("no full backup with a size: nothing to simulate")
        return LineageStrategy(m, None, retention, inferred.schedule, (), advice, tuple(notes))
    workload, wnotes = workload_from(m, options.restore_rate, options.step_seconds)
    notes += wnotes
    candidates: list[tuple[str, Schedule]] = []
    if inferred.schedule is not None:
        candidates.append(("current", inferred.schedule))
    if options.classics:
        candidates += [("classic", s) for s in classic_schedules(inferred.schedule)]
    candidates += [("given", s) for s in options.schedules]
    results = tuple(ScheduleResult(origin, simulate(s, workload, retention)) for origin, s in candidates)
    return LineageStrategy(m, workload, retention, inferred.schedule, results, advice, tuple(notes))


def analyse(lineages: Iterable[Lineage], options: StrategyOptions) -> StrategyResult:
    """The strategy result for every lineage given, in order of database name then first backup."""
    ordered = sorted(lineages, key=lambda lin: (lin.database_name.casefold(), lin.sets[0].backup_finish_date))
    return StrategyResult(tuple(analyse_lineage(lin, options) for lin in ordered), options)


def _ceil_hour(d: timedelta) -> timedelta:
    hours = -(-d // timedelta(hours=1))
    return timedelta(hours=hours)
