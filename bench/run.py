"""restoreplan at scale: wall time and peak memory of the CLI over large histories (issue 7).

For each case: the median of ``--runs`` runs of the command as a subprocess, its wall time and
the peak resident memory of its process tree (the larger of the kernel's own peak for the
process and its children, from wait4, and the sum of the tree's RSS sampled every 20 ms), next
to the baseline: a bare pass of the standard library's csv.reader over the same file, in a
fresh interpreter too.

    python bench/run.py                    # the full run (10k / 100k / 1M rows, other shapes
                                           # of 100k rows; ~12 minutes)
    python bench/run.py --quick            # a smoke run on tiny files (seconds)
    python bench/run.py --sizes 10000,100000 --runs 3 --markdown out.md

Histories are generated once into bench/data/ (gitignored) by bench/generate.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402  (bench/generate.py)

PY = sys.executable
BASELINE = (
    "import csv, sys\n"
    "with open(sys.argv[1], newline='', encoding='utf-8') as fh:\n"
    "    for _ in csv.reader(fh):\n"
    "        pass\n"
)
CLI = [PY, "-m", "restoreplan"]
LOG_DB = "DB9999"
MIB = 2**20


# -- measuring one process tree -------------------------------------------------------------
def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    total, stack = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * page
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Sample:
    wall: float
    rss: int  # bytes
    code: int
    out: str


def measure(cmd: list[str], ok_codes: tuple[int, ...] = (0,)) -> Sample:
    """Run ``cmd``; wall time and peak RSS of its process tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.02):
                peak = max(peak, _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace")
        if proc.returncode not in ok_codes:
            raise RuntimeError(
                f"{' '.join(cmd)} exited {proc.returncode}: {err.read().decode(errors='replace')[-2000:]}"
            )
    return Sample(wall, max(peak, usage.ru_maxrss * 1024), proc.returncode, text)


@dataclass
class Case:
    name: str
    rows: int
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def rss(self) -> float:
        return statistics.median(s.rss for s in self.samples)


def run_case(name: str, rows: int, cmd: list[str], runs: int, ok: tuple[int, ...] = (0,)) -> Case:
    case = Case(name, rows)
    for _ in range(runs):
        case.samples.append(measure(cmd, ok))
    print(
        f"  {name:<34} {rows:>9,} rows  {case.wall:8.2f} s  {case.rss / MIB:8.0f} MiB", flush=True
    )
    return case


def startup_of(case: Case, startups: dict[str, Case]) -> float:
    """The start-up time of the command a case runs (0 for the baseline)."""
    words = case.name.split()
    if words[0] != "restoreplan" or words[1] not in startups:
        return 0.0
    return startups[words[1]].wall


def has_command(name: str) -> bool:
    proc = subprocess.run([*CLI, name, "--help"], capture_output=True, cwd=ROOT, check=False)
    return proc.returncode == 0


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "python": platform.python_version(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# -- the cases ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=5, help="runs per case (median reported; default 5)")
    p.add_argument(
        "--big-runs",
        type=int,
        default=5,
        help="runs per case for files of 1,000,000 rows or more (default 5; fewer to save time)",
    )
    p.add_argument("--sizes", default="10000,100000,1000000", help="history sizes in rows")
    p.add_argument(
        "--logs", type=int, default=100_000, help="log backups of the log-heavy database"
    )
    p.add_argument(
        "--targets", type=int, default=1000, help="random targets for the planning latency"
    )
    p.add_argument(
        "--scan-files", type=int, default=5000, help="files for bench/scan_bench.py (0: skip)"
    )
    p.add_argument("--odbc-rows", type=int, default=1_000_000, help="msdb rows over ODBC (0: skip)")
    p.add_argument(
        "--shape-rows",
        type=int,
        default=100_000,
        help="rows of each other shape of history (generate.SHAPES; 0: skip)",
    )
    p.add_argument(
        "--quick", action="store_true", help="tiny sizes, one run: a smoke test of this runner"
    )
    p.add_argument("--data-dir", type=Path, default=generate.DATA_DIR)
    p.add_argument("--json", type=Path, help="write the raw results here")
    p.add_argument("--markdown", type=Path, help="write the tables here (GitHub markdown)")
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.big_runs = 1, 1
        args.sizes, args.logs, args.targets = "2000,4000", 2000, 50
        args.scan_files, args.odbc_rows = min(args.scan_files, 100), min(args.odbc_rows, 2000)
        args.shape_rows = min(args.shape_rows, 2000)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    info = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), flush=True)

    print("generating histories (once; kept in the data directory)", flush=True)
    files = {n: generate.ensure_history(n, args.data_dir) for n in sizes}
    log_file = generate.ensure_log_heavy(args.logs, args.data_dir)
    log_rows = sum(1 for _ in open(log_file, encoding="utf-8")) - 1

    commands = ["plan"] + [c for c in ("validate", "audit") if has_command(c)]
    missing = [c for c in ("validate", "audit") if c not in commands]
    cases: list[Case] = []
    # a command's fixed cost (interpreter, its imports, its parser): `restoreplan COMMAND --help`
    startups = {
        c: run_case(f"startup (restoreplan {c} --help)", 0, [*CLI, c, "--help"], args.runs)
        for c in commands
    }
    cases.extend(startups.values())
    for n in sizes:
        runs = args.big_runs if n >= 1_000_000 else args.runs
        path = str(files[n])
        print(f"history of {n:,} rows ({files[n].stat().st_size / MIB:.0f} MiB)", flush=True)
        cases.append(run_case("csv.reader baseline", n, [PY, "-c", BASELINE, path], runs))
        for command in commands:
            cmd = [*CLI, command, "--history", path]
            if command == "plan":
                cmd += ["--database", "DB0000", "--latest", "--format", "json"]
            cases.append(run_case(f"restoreplan {command}", n, cmd, runs, ok=(0, 1)))

    print(f"one database with {args.logs:,} log backups ({log_rows:,} rows)", flush=True)
    cases.append(
        run_case("csv.reader baseline", log_rows, [PY, "-c", BASELINE, str(log_file)], args.runs)
    )
    at = (generate.START + (dt.timedelta(minutes=15) * args.logs) * 0.6).strftime(
        "%Y-%m-%d %H:%M:07"
    )
    plan_cmd = [*CLI, "plan", "--history", str(log_file), "--database", LOG_DB, "--at", at]
    plan_case = run_case("restoreplan plan --at (whole command)", log_rows, plan_cmd, args.runs)
    cases.append(plan_case)
    latency = json.loads(
        measure(
            [
                PY,
                str(BENCH / "plan_latency.py"),
                str(log_file),
                "--database",
                LOG_DB,
                "--targets",
                str(args.targets),
            ]
        ).out
    )

    shape_table = _shapes(args.shape_rows, args.data_dir, args.runs, cases, startups)
    scan = _scan(args.scan_files)
    odbc = _odbc(args.odbc_rows, args.quick)

    # -- report --------------------------------------------------------------------------------
    base = {c.rows: c for c in cases if c.name == "csv.reader baseline"}
    rows_table = []
    for c in cases:
        b = base.get(c.rows)
        net = c.wall - startup_of(c, startups) if c.rows else c.wall
        rows_table.append([
            c.name, f"{c.rows:,}" if c.rows else "", len(c.samples), f"{c.wall:.2f}",
            f"{net / c.rows * 1e6:.1f}" if c.rows else "",
            f"{c.wall / b.wall:.1f}x" if b and c is not b else "", f"{c.rss / MIB:.0f}",
        ])  # fmt: skip
    headers = ["case", "rows", "runs", "median wall s", "µs/row (net of startup)", "× csv.reader",
               "median peak RSS MiB"]  # fmt: skip
    table = tabulate(rows_table, headers=headers, tablefmt="github")
    print()
    print(table)

    targets = _targets(cases, sizes, base, plan_case, latency, scan, odbc, commands, missing, startups)
    target_table = tabulate(targets, headers=["target", "measured", "met"], tablefmt="github")
    print()
    print(target_table)
    lat_table = tabulate(
        [[k, v["median_ms"], v["p95_ms"], v["max_ms"], v["mean_restore_steps"], v["refused"]]
         for k, v in latency.items() if isinstance(v, dict)],
        headers=["call", "median ms", "p95 ms", "max ms", "mean restore steps", "refused"],
        tablefmt="github",
    )  # fmt: skip
    print()
    print(f"planning latency, {latency['targets']} random targets, lineage of "
          f"{latency['sets_in_lineage']:,} sets ({latency['logs_in_lineage']:,} logs), loaded in "
          f"{latency['load_s']} s")  # fmt: skip
    print(lat_table)
    if shape_table:
        print()
        print(shape_table)
    for label, text in (("scan", scan.get("output")), ("odbc", odbc.get("output"))):
        if text:
            print(f"\n{label}:\n{text.strip()}")
    info["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.markdown:
        args.markdown.write_text(
            "machine: "
            + "; ".join(f"{k} {v}" for k, v in info.items())
            + "\n\n"
            + table
            + "\n\n"
            + target_table
            + "\n\n"
            + lat_table
            + "\n"
            + (f"\n{shape_table}\n" if shape_table else "")
        )
    if args.json:
        args.json.write_text(json.dumps({
            "machine": info,
            "cases": [{"name": c.name, "rows": c.rows, "walls": [s.wall for s in c.samples],
                       "rss": [s.rss for s in c.samples]} for c in cases],
            "latency": latency, "scan": scan, "odbc": odbc,
        }, indent=1))  # fmt: skip
    return 0


def _shapes(
    rows: int, data_dir: Path, runs: int, cases: list[Case], startups: dict[str, Case]
) -> str:
    """``restoreplan audit`` over histories of ``rows`` rows in other shapes, beside the standard
    history of that size when it was measured (one table; '' when skipped)."""
    if not rows:
        return ""
    out = []
    standard = [c for c in cases if c.rows == rows and c.name in ("csv.reader baseline", "restoreplan audit")]
    if len(standard) == 2:
        out.append(["standard (200 databases of 5,000 rows)", *standard])
    for shape in generate.SHAPES:
        path = generate.ensure_shape(shape, rows, data_dir)
        print(f"shape {shape}: {rows:,} rows", flush=True)
        base_path = generate.baseline_path(shape, rows, data_dir)
        base = run_case("csv.reader baseline", rows, [PY, "-c", BASELINE, str(base_path)], runs)
        audit = run_case("restoreplan audit", rows, [*CLI, "audit", "--history", str(path)], runs, ok=(0, 1))
        out.append([shape, base, audit])
    table = []
    for shape, base, audit in out:
        net = audit.wall - startup_of(audit, startups)
        table.append([shape, f"{rows:,}", f"{base.wall:.2f}", f"{audit.wall:.2f}", f"{net / rows * 1e6:.1f}",
                      f"{audit.wall / base.wall:.1f}x", f"{audit.rss / MIB:.0f}"])  # fmt: skip
    headers = ["shape (restoreplan audit)", "rows", "csv.reader s", "audit s", "µs/row (net of startup)",
               "× csv.reader", "peak RSS MiB"]  # fmt: skip
    return tabulate(table, headers=headers, tablefmt="github")


def _scan(n: int) -> dict[str, Any]:
    script = BENCH / "scan_bench.py"
    if not n:
        return {"note": "skipped (--scan-files 0)"}
    if not script.exists():
        return {"note": "bench/scan_bench.py is not there yet"}
    print(f"scan: bench/scan_bench.py {n}", flush=True)
    s = measure([PY, str(script), str(n)])
    m = re.search(r"([\d.]+) files/s", s.out)
    return {"files": n, "files_per_s": float(m.group(1)) if m else None, "output": s.out,
            "rss": s.rss}  # fmt: skip


def _odbc(rows: int, quick: bool) -> dict[str, Any]:
    if not rows:
        return {"note": "skipped (--odbc-rows 0)"}
    if not (ROOT / "restoreplan" / "sources" / "msdb_odbc.py").exists():
        return {"note": "restoreplan/sources/msdb_odbc.py is not there yet"}
    print(f"odbc: bench/odbc_bench.py --rows {rows}", flush=True)
    proc = subprocess.run([PY, str(BENCH / "odbc_bench.py"), "--rows", str(rows)], capture_output=True,
                          text=True, cwd=ROOT, check=False)  # fmt: skip
    if proc.returncode != 0:
        return {"note": f"odbc_bench failed: {proc.stderr.strip()[-500:]}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if "note" in out:
        return out
    out["output"] = tabulate(
        [[k, f"{v:,}" if isinstance(v, int) else v] for k, v in out.items() if k != "output"],
        headers=["odbc (loopback PostgreSQL)", ""], tablefmt="github", disable_numparse=True,
    )  # fmt: skip
    return out


def _targets(cases: list[Case], sizes: list[int], base: dict[int, Case], plan_case: Case,
             latency: dict[str, Any], scan: dict[str, Any], odbc: dict[str, Any],
             commands: list[str], missing: list[str], startups: dict[str, Case]) -> list[list[str]]:  # fmt: skip
    def find(name: str, rows: int) -> Case | None:
        return next((c for c in cases if c.name == name and c.rows == rows), None)

    out: list[list[str]] = []
    big = max(sizes)
    for command in ("audit", "validate", "plan"):
        c = find(f"restoreplan {command}", big)
        if c is None:
            out.append(
                [f"{command} over {big:,} rows", f"not measured ({command} is not built yet)", "-"]
            )
            continue
        ratio = c.wall / base[big].wall
        limit = "≤ 3x csv.reader" if command != "validate" else "no slower than audit"
        if command == "validate":
            a = find("restoreplan audit", big)
            met = "-" if a is None else ("yes" if c.wall <= a.wall * 1.05 else "no")
            out.append(
                [f"validate over {big:,} rows: {limit}", f"{c.wall:.1f} s ({ratio:.1f}x)", met]
            )
        else:
            label = f"{command} over {big:,} rows: {limit}"
            out.append([label, f"{c.wall:.1f} s = {ratio:.1f}x", "yes" if ratio <= 3 else "no"])
        out.append([f"{command} over {big:,} rows: peak RSS < 1.5 GiB", f"{c.rss / MIB:.0f} MiB",
                    "yes" if c.rss < 1.5 * 2**30 else "no"])  # fmt: skip
    for name, v in latency.items():
        if isinstance(v, dict):
            out.append([f"{name}: one random target in {latency['logs_in_lineage']:,}-log database < 2 ms "
                        "(median)", f"{v['median_ms']} ms", "yes" if v["median_ms"] < 2 else "no"])  # fmt: skip
    out.append([f"plan command on a {plan_case.rows:,}-row file < 2 s", f"{plan_case.wall:.2f} s",
                "yes" if plan_case.wall < 2 else "no"])  # fmt: skip
    for command in commands:  # validate and audit read the whole history; plan builds one database
        per_row = []
        for n in sizes:
            c = find(f"restoreplan {command}", n)
            if c is not None:
                per_row.append((c.wall - startup_of(c, startups)) / n * 1e6)
        if len(per_row) > 1:
            # linear or better: no larger size costs over 1.5x a row of a smaller one (plan's
            # cost per row falls with size: it skims the other databases' rows)
            rise = max(per_row[j] / per_row[i] for i in range(len(per_row)) for j in range(i + 1, len(per_row)))
            out.append(
                [
                    f"time per row does not grow from smallest to largest ({command}; rise ≤ 1.5x)",
                    " → ".join(f"{x:.1f}" for x in per_row) + " µs/row",
                    "yes" if rise <= 1.5 else "no",
                ]
            )
    if scan.get("files_per_s"):
        out.append([f"scan {scan['files']:,} local files ≥ 1,000 files/s", f"{scan['files_per_s']:.0f} files/s",
                    "yes" if scan["files_per_s"] >= 1000 else "no"])  # fmt: skip
    else:
        out.append(["scan 5,000 local files ≥ 1,000 files/s", scan.get("note", "no figure"), "-"])
    if "fetch_s" in odbc:
        out.append([f"msdb over ODBC ({odbc['rows']:,} rows): bounded by the driver",
                    f"fetch {odbc['fetch_s']} s, restoreplan {odbc['restoreplan_s']} s",
                    "yes" if odbc["restoreplan_s"] <= odbc["fetch_s"] else "no"])  # fmt: skip
    else:
        out.append(["msdb over ODBC: bounded by the driver", odbc.get("note", "not measured"), "-"])
    for command in missing:
        out.append([f"{command}", "the command is not built yet in this tree", "-"])
    return out


if __name__ == "__main__":
    raise SystemExit(main())
