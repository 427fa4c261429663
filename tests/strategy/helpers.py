"""Histories generated with known parameters (restoreplan.samplegen) for the strategy tests."""

from __future__ import annotations

import random
from datetime import datetime

from restoreplan.core.history import History, Lineage
from restoreplan.samplegen import DatabaseSim, busy_week
from restoreplan.sources.canonical import SetBuilder

SUNDAY_22 = datetime(2026, 11, 8, 22, 0)  # a Sunday


def history_of(*sims: DatabaseSim) -> History:
    builder = SetBuilder()
    for sim in sims:
        builder.add_mappings(sim.rows, "test")
    return History.from_sets(builder.build())


def busy_lineage(days: int = 28, *, change_rate: float = 0.04, log_rate: int = 300 * 2**20,
                 log_minutes: int = 15, seed: int = 7, name: str = "Sales") -> Lineage:
    """Weekly full (Sunday 22:00), daily differential (22:00), logs every ``log_minutes``."""
    sim = DatabaseSim(name, "SQL01", random.Random(seed), size=50 * 2**30,
                      change_rate=change_rate, log_rate=log_rate)
    busy_week(sim, SUNDAY_22, days, log_minutes=log_minutes)
    (lineage,) = history_of(sim).lineages.values()
    return lineage
