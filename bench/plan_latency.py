"""Planning latency after loading: random point-in-time targets planned on a loaded History.

Prints one JSON object: load time, and the median / p95 / max time over ``--targets`` random
times between the end of the first full backup and the end of the last log, of ``plan_lineage``
(the lineage already chosen) and of ``plan_restore`` (the API: the database name is looked up
in the History first). ``--profile`` adds the functions that take the most time (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from restoreplan.core.errors import RestorePlanError  # noqa: E402
from restoreplan.core.planner import PlanOptions, plan_lineage, plan_restore  # noqa: E402
from restoreplan.core.target import RecoveryTarget  # noqa: E402
from restoreplan.sources.load import LoadRequest, load  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("history")
    p.add_argument("--database", required=True)
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--profile", action="store_true")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    history = load(LoadRequest(history=[args.history])).history
    load_s = time.perf_counter() - t0
    (lin,) = history.lineages_named(args.database)
    first = lin.fulls[0].backup_finish_date
    last = max(s.backup_finish_date for s in lin.logs)
    rng = random.Random(args.seed)
    targets = [first + (last - first) * rng.random() for _ in range(args.targets)]
    options = PlanOptions(tail="never")

    def plan_all(api: bool) -> tuple[list[float], int, int]:
        times: list[float] = []
        refused = steps = 0
        for when in targets:
            target = RecoveryTarget.at(when)
            t = time.perf_counter()
            try:
                if api:
                    plan = plan_restore(history, args.database, target, options)
                else:
                    plan = plan_lineage(lin, target, options)
                steps += len(plan.restore_steps)
            except RestorePlanError:
                refused += 1
            times.append(time.perf_counter() - t)
        return times, refused, steps

    out: dict[str, object] = {
        "database": args.database,
        "sets_in_lineage": len(lin.sets),
        "logs_in_lineage": len(lin.logs),
        "load_s": round(load_s, 3),
        "targets": len(targets),
    }
    for label, api in (("plan_lineage", False), ("plan_restore", True)):
        times, refused, steps = plan_all(api)
        out[label] = {
            "refused": refused,
            "mean_restore_steps": round(steps / max(1, len(times) - refused), 1),
            "median_ms": round(statistics.median(times) * 1000, 3),
            "p95_ms": round(sorted(times)[max(0, int(len(times) * 0.95) - 1)] * 1000, 3),
            "max_ms": round(max(times) * 1000, 3),
        }
        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(plan_all, api)
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(10)
            out[label]["profile"] = buf.getvalue()  # type: ignore[index]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
