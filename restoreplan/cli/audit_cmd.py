"""`restoreplan audit`: recoverable windows, gaps, RPO, worst case, verdicts; text, JSON, CSV,
Markdown or a self-contained HTML report."""

from __future__ import annotations

import argparse
import json
import re
import sys

from restoreplan.cli.common import EXIT_OK, load_from_args, parse_time_arg, select_lineages
from restoreplan.cli.validate_cmd import add_check_args, as_of_from_args, parse_duration
from restoreplan.core.audit import AuditOptions, AuditResult, audit_history
from restoreplan.core.errors import UsageError
from restoreplan.report.audit_report import audit_csv, audit_json, audit_text
from restoreplan.report.html_report import render_html

EXAMPLES = """examples:
  restoreplan audit                                         # the bundled sample history
  restoreplan audit --history msdb.csv --format html --output audit.html --target "2026-11-18 14:37"
  restoreplan audit --history msdb.csv --format json --restore-rate 200MB/s --as-of 2026-11-21T08:00:00Z
"""

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b)?\s*(?:/\s*s)?\s*$", re.IGNORECASE)
_MULT = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_rate(text: str) -> float:
    """200MB/s, 1.5GiB/s, 500000 (bytes per second)."""
    m = _RATE.match(text)
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"cannot read {text!r} as a rate", hint="use e.g. 200MB/s or 1GiB/s")
    return float(m.group(1)) * _MULT[(m.group(2) or "b").lower()]


def audit_from_args(args: argparse.Namespace) -> AuditResult:
    opts = AuditOptions(
        as_of=as_of_from_args(args),
        restore_rate=parse_rate(args.restore_rate) if args.restore_rate else None,
        max_full_age=parse_duration(args.max_full_age) if args.max_full_age else None,
        max_log_age=parse_duration(args.max_log_age) if args.max_log_age else None,
    )
    history = load_from_args(args).history
    select_lineages(history, args.database)  # an unknown name is a usage error
    return audit_history(history, opts, args.database)


def run(args: argparse.Namespace) -> int:
    target = parse_time_arg(args.target) if args.target else None
    result = audit_from_args(args)
    if args.format == "json":
        text = json.dumps(audit_json(result, all_backups=args.all_backups), indent=2, ensure_ascii=False,
                          default=str) + "\n"
    elif args.format == "csv":
        text = audit_csv(result)
    elif args.format == "markdown":
        text = audit_text(result, markdown=True)
    elif args.format == "html":
        text = render_html(result, target=target)
    else:
        text = audit_text(result)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="recoverable windows, gaps, RPO and worst case per database; HTML report",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_check_args(p)
    p.add_argument("--format", choices=("text", "json", "csv", "markdown", "html"), default="text")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report here (default stdout)")
    p.add_argument("--restore-rate", metavar="RATE", help="estimate restore time at this rate (200MB/s) "
                   "instead of the backups' observed throughput")
    p.add_argument("--target", metavar="TIME", help="mark this time on the HTML timeline")
    p.add_argument("--all-backups", action="store_true", help="JSON: a verdict for every backup, not only exceptions")
    p.set_defaults(func=run)
