"""When to take the next full: project the differential's growth against a threshold of its base."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from restoreplan.core.history import Lineage
from restoreplan.core.strategy.measure import Measures
from restoreplan.core.strategy.schedule import Schedule


@dataclass(frozen=True, slots=True)
class Advice:
    """The latest differential against ``threshold`` of its base, and the projected crossing."""

    threshold: float
    base_uuid: str | None  # the latest non-copy-only full
    base_time: datetime | None
    latest_diff_uuid: str | None  # its latest differential
    latest_diff_time: datetime | None
    latest_fraction: float | None  # latest differential / base full (backup_size)
    crossed: bool  # the latest differential is already at or past the threshold
    diffs_past_threshold: int  # differentials in the whole history at or past it
    crossing_days: float | None  # days after the base start when a differential reaches it
    crossing_time: datetime | None
    next_scheduled_full: datetime | None  # the inferred schedule's next full after the history
    message: str


def crossing_days(change_rate: float | None, threshold: float) -> float | None:
    """N with 1 - (1 - r)^N = threshold; None when r is unknown or zero."""
    if change_rate is None or change_rate <= 0 or not 0 < threshold < 1:
        return None
    if change_rate >= 1:
        return 0.0
    return math.log(1 - threshold) / math.log(1 - change_rate)


def advise(lineage: Lineage, measures: Measures, current: Schedule | None, threshold: float) -> Advice:
    """Advice on the next full for one lineage."""
    past = sum(1 for p in measures.diff_points if p.fraction >= threshold)
    bases = [f for f in lineage.fulls if not f.is_copy_only]
    base = bases[-1] if bases else None
    diffs = lineage.diffs_for(base) if base is not None else []
    latest = diffs[-1] if diffs else None
    fraction = None
    if base is not None and latest is not None and base.backup_size and latest.backup_size:
        fraction = latest.backup_size / base.backup_size
    crossed = fraction is not None and fraction >= threshold
    days = crossing_days(measures.change_rate, threshold)
    when = base.backup_start_date + timedelta(days=days) if base is not None and days is not None else None
    nxt = None
    if current is not None:
        nxt = next(current.full.occurrences(measures.last_time, measures.last_time + timedelta(days=100)), None)
    pct = f"{threshold:.0%}"
    if base is None:
        msg = "no full backup: nothing to advise"
    elif crossed and latest is not None and fraction is not None:
        msg = (f"the latest differential ({latest.backup_start_date:%Y-%m-%d %H:%M}) is already "
               f"{fraction:.0%} of its full, past {pct}: take a full now")
    elif when is None:
        msg = "no differential growth measured: no projection"
    elif nxt is not None and nxt <= when:
        msg = (f"a differential reaches {pct} of its full about {when:%Y-%m-%d %H:%M} "
               f"({days:.1f} days after it); the next scheduled full ({nxt:%Y-%m-%d %H:%M}) comes first")
    else:
        msg = (f"take the next full by {when:%Y-%m-%d %H:%M}: a differential reaches {pct} of its full "
               f"{days:.1f} days after it")
    return Advice(
        threshold=threshold,
        base_uuid=base.backup_set_uuid if base else None,
        base_time=base.backup_start_date if base else None,
        latest_diff_uuid=latest.backup_set_uuid if latest else None,
        latest_diff_time=latest.backup_start_date if latest else None,
        latest_fraction=fraction,
        crossed=crossed,
        diffs_past_threshold=past,
        crossing_days=days,
        crossing_time=when,
        next_scheduled_full=nxt,
        message=msg,
    )
