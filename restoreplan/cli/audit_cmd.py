"""`restoreplan audit`: recoverable windows, gaps, RPO, worst case, verdicts; text, JSON, CSV,
Markdown or a self-contained HTML report."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from html import escape
from typing import Any, TextIO

from restoreplan.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    load_from_args,
    open_output,
    parse_time_arg,
    select_lineages,
    stdout_is_unicode,
)
from restoreplan.cli.validate_cmd import add_check_args, as_of_from_args, parse_duration
from restoreplan.core.audit import AuditOptions, AuditResult, audit_history
from restoreplan.core.errors import UsageError
from restoreplan.core.findings import Severity
from restoreplan.report.audit_report import audit_csv, audit_json, audit_text
from restoreplan.report.html_report import render_html

EXAMPLES = """examples:
  restoreplan audit                                         # the bundled sample history
  restoreplan audit --history msdb.csv --format html --output audit.html --target "2026-11-18 14:37"
  restoreplan audit --history msdb.csv --format json --restore-rate 200MB/s --as-of 2026-11-21T08:00:00Z

exit status: 0 report written; 1 report written and an error found (a broken chain, a stale
backup...) or a server of --inventory not read; 2 bad input or usage
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


def check_options(args: argparse.Namespace) -> None:
    """Refuse an option the chosen format would ignore (before the history is read)."""
    fmt = args.format
    only = [("--target", args.target, ("html",), "marks the HTML timeline"),
            ("--all-backups", args.all_backups, ("json",), "lists every backup in the JSON"),
            ("--strategy", args.strategy, ("json", "html"), "adds a section to the JSON and HTML reports"),
            ("--rds-describe-json", args.rds_describe_json, ("text", "json", "html"),
             "adds the RDS instance to the text, JSON and HTML reports")]
    for flag, value, formats, what in only:
        if value and fmt not in formats:
            raise UsageError(f"{flag} {what}: not --format {fmt}",
                             hint=f"use --format {' or '.join(formats)}, or leave {flag} out")
    for flag, value in (("--rds-snapshots-json", args.rds_snapshots_json), ("--rds-instance", args.rds_instance)):
        if value and not args.rds_describe_json:
            raise UsageError(f"{flag} goes with --rds-describe-json FILE")
    if args.output and (os.path.isdir(args.output) or not os.path.isdir(os.path.dirname(args.output) or ".")):
        open_output(args.output).close()  # fails now, with one line, rather than after the audit


def audit_from_args(args: argparse.Namespace) -> AuditResult:
    opts = AuditOptions(
        as_of=as_of_from_args(args),
        restore_rate=parse_rate(args.restore_rate) if args.restore_rate else None,
        max_full_age=parse_duration(args.max_full_age) if args.max_full_age else None,
        max_log_age=parse_duration(args.max_log_age) if args.max_log_age else None,
        until_as_of=bool(args.as_of),  # the default, now, keeps backups a clock skew puts after it
    )
    loaded = load_from_args(args)
    args.unread_servers = loaded.failures
    select_lineages(loaded.history, args.database)  # an unknown name is a usage error
    return audit_history(loaded.history, opts, args.database)


def _rds_summary(args: argparse.Namespace) -> dict[str, Any] | None:
    """The RDS instance's own recovery facts (automated backups, snapshots), when given."""
    if not args.rds_describe_json:
        return None
    from restoreplan.sources.rds_instance import instance_summary, load_json_file

    snaps = load_json_file(args.rds_snapshots_json) if args.rds_snapshots_json else None
    return instance_summary(load_json_file(args.rds_describe_json), snaps, None, args.rds_instance)


def _rds_html(summary: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in summary.items())
    return ("<section><h2>Amazon RDS instance-level recovery</h2><p>Automated backups and snapshots restore the "
            "whole instance (restoreplan rds-pitr); the native chains above restore single databases.</p>"
            f"<table>{rows}</table></section>")


def _strategy(args: argparse.Namespace, result: AuditResult) -> Any:
    from restoreplan.core.strategy.analysis import StrategyOptions, analyse

    return analyse([la.lineage for la in result.lineages], StrategyOptions())


def run(args: argparse.Namespace) -> int:
    check_options(args)
    target = parse_time_arg(args.target) if args.target else None
    result = audit_from_args(args)
    rds = _rds_summary(args)
    strategy = _strategy(args, result) if args.strategy else None
    text: str
    if args.format == "json":
        doc = audit_json(result, all_backups=args.all_backups)
        if rds is not None:
            doc["rds_instance"] = rds
        if strategy is not None:
            from restoreplan.report.strategy_report import strategy_json

            doc["strategy"] = strategy_json(strategy)
        _write(args.output, lambda fh: _json_to(fh, doc))
        return _exit_code(result, args)
    if args.format == "csv":
        text = audit_csv(result)
    elif args.format == "markdown":
        text = audit_text(result, markdown=True)
    elif args.format == "html":
        extra = []
        if strategy is not None:
            from restoreplan.report.strategy_report import strategy_html_section

            extra.append(strategy_html_section(strategy))
        if rds is not None:
            extra.append(_rds_html(rds))
        text = render_html(result, target=target, extra_sections=extra)
    else:
        text = audit_text(result)
        if rds is not None:
            text += "\nAmazon RDS instance: " + ", ".join(f"{k}={v}" for k, v in rds.items()) + "\n"
    _write(args.output, lambda fh: fh.write(text))
    return _exit_code(result, args)


def _exit_code(result: AuditResult, args: argparse.Namespace) -> int:
    """1 when the audit found an error (a broken chain, a missing stripe, a stale backup...), as
    validate does, or a server of --inventory could not be read (its databases are not in the
    report): a scheduled audit fails visibly; the report is written either way."""
    broken = any(a.findings.count(Severity.ERROR) for a in result.lineages)
    return EXIT_PROBLEMS if broken or getattr(args, "unread_servers", None) else EXIT_OK


# Above this many databases and listed backups, the JSON is written a database per line.
LARGE_JSON = 2000


def _json_to(fh: TextIO, doc: dict[str, Any]) -> None:
    """Streamed a database at a time: a report of thousands of databases is never held as one
    string as well. A small report is indented; a large one (many databases, --all-backups)
    has a database per line, encoded by the json module's C encoder (the indenting one is
    pure Python and five times slower)."""
    dbs = doc["databases"]
    if len(dbs) + sum(len(d["backups"]) for d in dbs) <= LARGE_JSON:
        json.dump(doc, fh, indent=2, ensure_ascii=not stdout_is_unicode(fh), default=str)
        fh.write("\n")
        return
    encode = json.JSONEncoder(ensure_ascii=not stdout_is_unicode(fh), default=str).encode
    fh.write("{")
    for n, (key, value) in enumerate(doc.items()):
        fh.write(("\n  " if n == 0 else ",\n  ") + encode(key) + ": ")
        if key == "databases":
            fh.write("[")
            for i, entry in enumerate(value):
                fh.write(("\n    " if i == 0 else ",\n    ") + encode(entry))
            fh.write("\n  ]" if value else "]")
        else:
            fh.write(encode(value))
    fh.write("\n}\n")


def _write(output: str | None, write: Callable[[TextIO], object]) -> None:
    if output:
        with open_output(output) as fh:
            write(fh)
    else:
        write(sys.stdout)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="recoverable windows, gaps, RPO and worst case per database; HTML report",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_check_args(p)
    p.add_argument("--format", choices=("text", "json", "csv", "markdown", "html"), default="text")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report here (default stdout)")
    p.add_argument("--restore-rate", metavar="RATE", help="estimate restore time at this rate (200MB/s) "
                   "instead of the backups' observed throughput")
    p.add_argument("--target", metavar="TIME", help="mark this time on the HTML timeline")
    p.add_argument("--strategy", action="store_true",
                   help="add the backup-schedule what-if (restoreplan strategy) to the JSON and HTML reports")
    p.add_argument("--rds-describe-json", metavar="FILE",
                   help="saved `aws rds describe-db-instances` output: show the instance's retention, backup "
                        "window and restorable boundaries beside the native chains")
    p.add_argument("--rds-snapshots-json", metavar="FILE", help="saved `aws rds describe-db-snapshots` output")
    p.add_argument("--rds-instance", metavar="ID", help="which instance of --rds-describe-json")
    p.add_argument("--all-backups", action="store_true", help="JSON: a verdict for every backup, not only exceptions")
    p.set_defaults(func=run)
