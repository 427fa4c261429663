#!/usr/bin/env python3
"""Generate the bundled sample history (restoreplan/data/) and the scenario fixtures (fixtures/).

Run from the repository root: python scripts/generate_fixtures.py
Deterministic: the same seed gives the same files.
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from restoreplan.samplegen import DatabaseSim, busy_week  # noqa: E402
from restoreplan.sources.columns import ALL  # noqa: E402

START = datetime(2026, 11, 8, 22, 0)  # a Sunday


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])


def sales(rng: random.Random) -> tuple[DatabaseSim, list[dict], list[dict]]:
    """Two busy weeks: weekly full, daily differential, 15-minute logs; striped, mirrored, copy-only; a mark."""
    sim = DatabaseSim("Sales", r"SQLPROD01", rng, size=120 * 2**30)
    marks: list[dict] = []
    t = START
    end = START + timedelta(days=12, hours=16)
    last_full = t
    while t < end:
        if t.hour == 22 and t.minute == 0:
            if t.weekday() == 6:
                sim.full(t, stripes=4 if t > START else 1, minutes=40)
                last_full = t
            else:
                sim.diff(t, days_since_full=(t - last_full).days, mirrors=2 if t.day == 17 else 1)
        elif t == datetime(2026, 11, 18, 12, 0):
            sim.full(t, copy_only=True, minutes=35)  # a copy-only full for a dev refresh
            sim.log(t + timedelta(minutes=1))
        else:
            row = sim.log(t)
            if t == datetime(2026, 11, 18, 13, 15):
                marks.append({"database_name": "Sales", "mark_name": "PriceUpdate", "description": "price list v42",
                              "user_name": "APP\\deploy", "lsn": row["first_lsn"] + 37 * 10**5 + 2,
                              "mark_time": "2026-11-18 13:05:12.330"})
        t += timedelta(minutes=15)
    files = []
    for r in sim.rows:
        if r["type"] == "D" and r["family_sequence_number"] == 1 and r["mirror"] == 0:
            files.append({"backup_set_uuid": r["backup_set_uuid"], "logical_name": "Sales",
                          "physical_name": r"E:\SQLData\Sales.mdf", "file_type": "D"})
            files.append({"backup_set_uuid": r["backup_set_uuid"], "logical_name": "Sales_log",
                          "physical_name": r"F:\SQLLogs\Sales_log.ldf", "file_type": "L"})
    return sim, marks, files


def inventory(rng: random.Random) -> DatabaseSim:
    """A point-in-time restore over the database on Tuesday: a recovery fork."""
    sim = DatabaseSim("Inventory", "SQLPROD01", rng, size=8 * 2**30)
    busy_week(sim, START, 2, log_minutes=15)
    t = START + timedelta(days=2)  # Tue 22:00 ... continue to Wed 09:45
    while t <= datetime(2026, 11, 11, 9, 45):
        sim.log(t) if not (t.hour == 22 and t.minute == 0) else sim.diff(t, days_since_full=3)
        t += timedelta(minutes=15)
    bad_log = sim.rows[-1]  # the 09:45 log holds 09:30, the point the DBA restores to
    fork_point = bad_log["first_lsn"] + (bad_log["last_lsn"] - bad_log["first_lsn"]) // 2
    sim.log(datetime(2026, 11, 11, 10, 0))  # taken on the old fork before the restore
    old_fork = sim.restore_point_in_time(fork_point)
    span_first = bad_log["first_lsn"] + (fork_point - bad_log["first_lsn"]) // 2
    sim.last_log_end = None
    sim.log(datetime(2026, 11, 11, 10, 30), spans=(old_fork, fork_point), first=span_first)
    t = datetime(2026, 11, 11, 10, 45)
    while t < datetime(2026, 11, 13, 23, 0):
        if t.hour == 22 and t.minute == 0:
            sim.full(t) if t.day == 12 else sim.diff(t, days_since_full=1)
        else:
            sim.log(t)
        t += timedelta(minutes=15)
    return sim


def legacy(rng: random.Random) -> DatabaseSim:
    """FULL recovery, a SIMPLE period (fulls and differentials only), then FULL again."""
    sim = DatabaseSim("Legacy", "SQLPROD02", rng, size=2 * 2**30, time_zone=-20)
    busy_week(sim, START, 3, log_minutes=30)
    sim.set_simple()
    for day in range(3, 6):
        t = START + timedelta(days=day)
        sim.diff(t, days_since_full=day) if day != 4 else sim.full(t)
    sim.set_full_recovery()
    t = START + timedelta(days=6, hours=1)
    sim.full(t)
    t += timedelta(minutes=30)
    while t < START + timedelta(days=9):
        sim.log(t)
        t += timedelta(minutes=30)
    return sim


def hr(rng: random.Random) -> list[DatabaseSim]:
    """Dropped and recreated under the same name: two lineages."""
    old = DatabaseSim("HR", "SQLPROD02", rng, size=1 * 2**30)
    busy_week(old, START, 4, log_minutes=60)
    new = DatabaseSim("HR", "SQLPROD02", rng, size=1 * 2**30)
    busy_week(new, START + timedelta(days=5), 4, log_minutes=60)
    return [old, new]


def main() -> None:
    rng = random.Random(20261121)
    s, marks, files = sales(rng)
    sims = [s, inventory(rng), legacy(rng), *hr(rng)]
    rows = [r for sim in sims for r in sim.rows]
    cols = list(ALL)
    write_csv(ROOT / "restoreplan" / "data" / "sample_history.csv", rows, cols)
    write_csv(ROOT / "restoreplan" / "data" / "sample_marks.csv", marks,
              ["database_name", "mark_name", "description", "user_name", "lsn", "mark_time"])
    write_csv(ROOT / "restoreplan" / "data" / "sample_backup_files.csv", files,
              ["backup_set_uuid", "logical_name", "physical_name", "file_type"])
    for sim in sims:
        write_csv(ROOT / "fixtures" / f"{sim.name.lower()}_{sim.family_guid[:8]}.csv", sim.rows, cols)
    print(f"{len(rows)} rows in restoreplan/data/sample_history.csv; scenario files in fixtures/")


if __name__ == "__main__":
    main()
