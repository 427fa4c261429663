"""`restoreplan validate`: findings per lineage, exit 1 when there is an error finding."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta

from restoreplan.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    add_history_args,
    load_from_args,
    parse_time_arg,
    print_json,
    select_lineages,
)
from restoreplan.core.errors import RestorePlanError, UsageError
from restoreplan.core.findings import LineageFindings, Severity
from restoreplan.core.strategy.schedule import MAX_DURATION
from restoreplan.core.validate import ValidateOptions, validate_history
from restoreplan.report.findings_report import (
    NAGIOS_UNKNOWN,
    findings_csv,
    findings_table,
    nagios_line,
    validate_json,
)

EXAMPLES = """examples:
  restoreplan validate                                   # the bundled sample history
  restoreplan validate --history msdb.csv --check-files --format json
  restoreplan validate --history msdb.csv --max-full-age 7d --max-log-age 30m --nagios
"""

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """7d, 26h, 15m, 90s, 1w, or combined: 1d12h."""
    s = text.strip().replace(" ", "")
    parts = _PART.findall(s)
    if not s or not parts or "".join(n + u for n, u in parts).lower() != s.lower():
        raise UsageError(f"cannot read {text!r} as a duration", hint="use e.g. 7d, 26h, 15m, 1d12h")
    seconds = sum(float(n) * _UNITS[u.lower()] for n, u in parts)
    if seconds > MAX_DURATION.total_seconds():
        raise UsageError(f"the duration {text!r} is too long", hint="at most 100 years (36500d)")
    return timedelta(seconds=seconds)


def add_check_args(p: argparse.ArgumentParser) -> None:
    """Options shared by validate and audit."""
    p.add_argument("--database", "-d", help="only this database (every lineage of that name)")
    p.add_argument("--max-full-age", metavar="AGE", help="STALE_FULL when the newest full is older (7d, 26h)")
    p.add_argument("--max-log-age", metavar="AGE", help="STALE_LOG when the newest log is older (15m, 1h)")
    p.add_argument("--as-of", metavar="TIME", help="evaluate ages and RPO at this time (default now; "
                   "server-local, or with an offset or Z)")
    add_history_args(p)


def as_of_from_args(args: argparse.Namespace) -> datetime:
    if args.as_of:
        return parse_time_arg(args.as_of)
    return datetime.now().astimezone()


def options_from_args(args: argparse.Namespace) -> ValidateOptions:
    return ValidateOptions(
        max_full_age=parse_duration(args.max_full_age) if args.max_full_age else None,
        max_log_age=parse_duration(args.max_log_age) if args.max_log_age else None,
        as_of=as_of_from_args(args),
        until_as_of=bool(args.as_of),  # the default, now, keeps backups a clock skew puts after it
    )


def findings_from_args(args: argparse.Namespace) -> list[LineageFindings]:
    opts = options_from_args(args)
    loaded = load_from_args(args)
    args.unread_servers = loaded.failures
    select_lineages(loaded.history, args.database)  # an unknown name is a usage error
    return validate_history(loaded.history, opts, args.database)


def nagios_unknown(message: str) -> int:
    """The UNKNOWN line (exit 3): what Nagios shows when the check itself could not run."""
    print_nagios(f"RESTOREPLAN UNKNOWN - {message}".replace("|", "/").replace("\n", " "))
    return NAGIOS_UNKNOWN


def print_nagios(line: str) -> None:
    """One status line that reaches Nagios whatever the locale it runs the plugin in (a name it
    cannot encode is written as a \\x escape, not lost in a traceback)."""
    enc = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(line.encode(enc, "backslashreplace").decode(enc))


def run(args: argparse.Namespace) -> int:
    if args.nagios:
        if args.format != "text":
            return nagios_unknown(f"--nagios writes one status line: it does not take --format {args.format}")
        try:
            lfs = findings_from_args(args)
        except RestorePlanError as exc:
            return nagios_unknown(exc.one_line())
        opts = options_from_args(args)
        line, code = nagios_line(
            lfs,
            max_full_age=opts.max_full_age.total_seconds() if opts.max_full_age else None,
            max_log_age=opts.max_log_age.total_seconds() if opts.max_log_age else None,
            unread=[server for server, _ in args.unread_servers],
        )
        print_nagios(line)
        return code
    lfs = findings_from_args(args)
    if args.format == "json":
        print_json(validate_json(lfs))
    elif args.format == "csv":
        sys.stdout.write(findings_csv(lfs))
    else:
        print(findings_table(lfs))
    errors = any(lf.count(Severity.ERROR) for lf in lfs)
    # a server that could not be read (said on stderr) is a problem found: its databases went unchecked
    return EXIT_PROBLEMS if errors or args.unread_servers else EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("validate", help="check backup chains: findings with codes, severities and hints",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Exit 0 when there is no error finding, 1 when there is, 2 on bad input. "
                                   "With --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")
    add_check_args(p)
    p.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format")
    p.add_argument("--nagios", action="store_true", help="one Nagios/Icinga status line with perfdata")
    p.set_defaults(func=run)
