"""`restoreplan strategy`: what alternative backup schedules would cost in storage and restore time."""

from __future__ import annotations

import argparse
import math
import re
import sys

from restoreplan.cli.common import (
    EXIT_OK,
    add_format,
    add_history_args,
    load_from_args,
    print_json,
    select_lineages,
)
from restoreplan.core.errors import UsageError
from restoreplan.core.strategy.analysis import StrategyOptions, analyse
from restoreplan.core.strategy.schedule import parse_duration, parse_schedule
from restoreplan.report.strategy_report import strategy_html_page, strategy_json, strategy_table

EXAMPLE = """examples:
  restoreplan strategy                                   # the bundled sample history
  restoreplan strategy --history msdb.csv --database Sales --retention 14d
  restoreplan strategy --history msdb.csv -d Sales --schedule "full=sun 18:00; diff=daily 18:00; log=3h" \\
      --schedule "nightly: full=daily 02:00; log=15m" --restore-rate 400MB/s
  restoreplan strategy --history msdb.csv --format html > strategy.html

schedule syntax: [LABEL:] full=CADENCE[; diff=CADENCE][; log=CADENCE]
  CADENCE: none | 15m | 3h | 1d | daily HH:MM | weekdays HH:MM | weekends HH:MM | sun,wed HH:MM | mon-fri HH:MM
"""

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_rate(text: str) -> float:
    """``400MB/s``, ``1.5GiB/s``, ``250 MiB`` as bytes per second."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)\s*(?:/\s*s)?\s*", text.lower())
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"cannot read {text!r} as a restore rate", hint="use e.g. 400MB/s or 1.5GiB/s")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_threshold(text: str) -> float:
    """``50%``, ``50`` or ``0.5`` as a fraction strictly between 0 and 1."""
    s = text.strip().rstrip("%").strip()
    try:
        value = float(s)
    except ValueError:
        raise UsageError(f"cannot read {text!r} as a threshold", hint="use e.g. 50% or 0.5") from None
    if text.strip().endswith("%") or value > 1:
        value /= 100
    if not 0 < value < 1:
        raise UsageError(f"the threshold {text!r} must be between 0% and 100%")
    return value


def options_from_args(args: argparse.Namespace) -> StrategyOptions:
    if not math.isfinite(args.step_seconds) or args.step_seconds < 0:
        raise UsageError(f"--step-seconds {args.step_seconds}: give a number of seconds, 0 or more")
    schedules = tuple(parse_schedule(s, f"given {k}") for k, s in enumerate(args.schedule, start=1))
    return StrategyOptions(
        retention=parse_duration(args.retention, "retention window") if args.retention else None,
        schedules=schedules,
        diff_threshold=parse_threshold(args.diff_threshold),
        restore_rate=parse_rate(args.restore_rate) if args.restore_rate else None,
        step_seconds=args.step_seconds,
        classics=not args.no_classics,
    )


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)  # bad syntax fails before the history is read
    lineages = select_lineages(load_from_args(args).history, args.database)
    result = analyse(lineages, options)
    if args.format == "json":
        print_json(strategy_json(result))
    elif args.format == "html":
        sys.stdout.write(strategy_html_page(result))
    else:
        sys.stdout.write(strategy_table(result))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("strategy", help="what-if: storage, restore steps and restore time of backup schedules",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", "-d", help="only this database (every lineage of the name)")
    p.add_argument("--retention", metavar="DURATION",
                   help="retention window to simulate, e.g. 7d, 36h, 2w (default: the window each history covers)")
    p.add_argument("--schedule", action="append", default=[], metavar="SPEC",
                   help="a schedule to compare, e.g. 'full=sun 18:00; diff=daily 18:00; log=3h'; repeatable")
    p.add_argument("--diff-threshold", default="50%", metavar="PCT",
                   help="advise a full when a differential passes this share of its base (default 50%%)")
    p.add_argument("--restore-rate", metavar="RATE",
                   help="restore throughput, e.g. 400MB/s (default: the measured full backup throughput)")
    p.add_argument("--step-seconds", type=float, default=0.0, metavar="S",
                   help="fixed cost added per RESTORE statement to restore times (default 0)")
    p.add_argument("--no-classics", action="store_true",
                   help="leave out the three classic schedules (daily full; weekly full; weekly full + daily diff)")
    add_history_args(p)
    add_format(p, ("text", "json", "html"))
    p.set_defaults(func=run)
