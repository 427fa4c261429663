"""Arguments and output shared by every command."""

from __future__ import annotations

import argparse
import codecs
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from restoreplan.core.errors import InputError, RestorePlanError, UsageError
from restoreplan.core.history import History, Lineage
from restoreplan.sources import values
from restoreplan.sources.load import Loaded, LoadRequest, load

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_NOT_RECOVERABLE = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader closed the output early


def parse_time_arg(text: str) -> datetime:
    """A time from the command line: naive (server-local) or with an offset / Z.

    Read by the same rules as the inputs' dates: a whole date (a partial one such as ``2026-11``
    is refused, not filled in with today's day or the 1st) and no guessed day/month order.
    """
    s = text.strip()
    try:
        when: datetime | None = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        try:
            when = values.parse_datetime(s)
        except values.ValueProblem as exc:
            raise UsageError(f"cannot read {text!r} as a date and time: {str(exc).split(';')[0]}",
                             hint="use e.g. 2024-03-10 14:30:00, 2024-03-10T14:30:00-05:00 or ...Z") from None
    if when is None:
        raise UsageError("an empty date and time was given", hint="use e.g. 2024-03-10 14:30:00")
    if not values.in_range(when):
        raise UsageError(f"{text!r} is {values.RANGE_TEXT}", hint="use e.g. 2024-03-10 14:30:00")
    return when


def add_format(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("text", "json")) -> None:
    p.add_argument("--format", choices=choices, default="text", help="output format (default text)")


def add_history_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("history inputs (default: the bundled sample history)")
    g.add_argument("--history", action="append", default=[], metavar="FILE",
                   help="msdb export (CSV/JSON), dbatools JSON/CSV or HEADERONLY CSV; repeatable")
    g.add_argument("--input-format", choices=["msdb-csv", "msdb-json", "dbatools-json", "dbatools-csv",
                                               "dbatools-clixml", "headeronly-csv"], help="force the format of --history files")
    g.add_argument("--marks", action="append", default=[], metavar="FILE", help="logmarkhistory export (CSV/JSON)")
    g.add_argument("--restores", action="append", default=[], metavar="FILE",
                   help="restorehistory export (CSV/JSON): a restore after the last backup refuses a tail plan")
    g.add_argument("--backup-files", action="append", default=[], metavar="FILE",
                   help="backupfile export (backup_set_uuid, logical_name, physical_name, file_type) for MOVE")
    g.add_argument("--msdb", metavar="CONNECTION", help="ODBC connection string or DSN of a live msdb (read-only)")
    g.add_argument("--inventory", metavar="FILE", help="one connection string or DSN per line: read every server")
    g.add_argument("--jobs", type=int, default=4, help="servers read at once with --inventory (default 4)")
    g.add_argument("--backups", action="append", default=[], metavar="PATH|s3://...",
                   help="build the history from backup files' headers (folders, files, S3 prefixes)")
    g.add_argument("--since", metavar="TIME", help="with --msdb: only backups finished after this time")
    g.add_argument("--server-name", help="only backups taken on this server (server_name; with --msdb, in the query)")
    g.add_argument("--check-files", action="store_true",
                   help="treat backup sets with a missing file as unavailable (one complete mirror per family suffices)")
    g.add_argument("--profile", help="AWS profile for s3:// inputs")
    g.add_argument("--region", help="AWS region for s3:// inputs")
    g.add_argument("--endpoint-url", help="S3 endpoint for s3:// inputs (S3-compatible storage)")


def load_from_args(
    args: argparse.Namespace, progress: Callable[[str], None] | None = None, *, whole: bool = False
) -> Loaded:
    """The history the arguments name. With --database only the lineages of that name are built
    (every command looks at those alone), unless ``whole`` asks for all of them. Files skipped and
    servers that could not be read are said on stderr (every command; ``failures`` keeps them)."""
    if args.since and not (args.msdb or args.inventory):
        raise UsageError("--since filters the live msdb query: it goes with --msdb or --inventory",
                         hint="history files are read whole; export a shorter range instead")
    s3 = None
    if getattr(args, "profile", None) or getattr(args, "region", None) or getattr(args, "endpoint_url", None):
        from restoreplan.sources.s3 import S3Options

        s3 = S3Options(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)
    req = LoadRequest(
        history=list(args.history), marks=list(args.marks), restores=list(args.restores), backup_files=list(args.backup_files),
        backups=list(args.backups), msdb=args.msdb, inventory=args.inventory, jobs=args.jobs,
        input_format=args.input_format, check_files=args.check_files,
        database=getattr(args, "database", None),
        only_named=None if whole else getattr(args, "database", None),
        since=parse_time_arg(args.since) if args.since else None, server_name=args.server_name, s3=s3,
    )
    shown = progress or (_LoadProgress() if sys.stderr.isatty() else None)
    try:
        loaded = load(req, shown)
    finally:
        if isinstance(shown, _LoadProgress):
            shown.done()
    for name, reason in loaded.unreadable:
        print(f"restoreplan: warning: skipped {name}: {reason}", file=sys.stderr)
    for server, message in loaded.failures:
        print(f"restoreplan: warning: {server}: not read: {message}", file=sys.stderr)
    return loaded


class _LoadProgress:
    """Rows read so far, on one stderr line redrawn at most twice a second (a terminal only)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.shown = False

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        if now - self.last >= 0.5:
            self.last = now
            self.shown = True
            print(f"\rreading {text}\033[K", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.shown:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


def select_lineages(history: History, database: str | None) -> list[Lineage]:
    """The lineages a --database names (all when it is None); an unknown name is a usage error."""
    if not database:
        return list(history.lineages.values())
    found = history.lineages_named(database)
    if not found:
        raise UsageError(f"no database named {database!r} in the history",
                         hint="databases: " + history.names_listed)
    return found


def stdout_is_unicode(stream: Any = None) -> bool:
    """Whether the stream (stdout by default) can write any character (a UTF encoding)."""
    enc = getattr(stream if stream is not None else sys.stdout, "encoding", None) or "utf-8"
    try:
        return codecs.lookup(enc).name.startswith("utf")
    except LookupError:
        return False


def print_json(obj: Any) -> None:
    # on a stdout that cannot write every character (PYTHONIOENCODING=ascii, a latin-1 locale)
    # \u escapes keep the document whole and its values exact
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=not stdout_is_unicode(), default=str)
    sys.stdout.write("\n")


def open_output(path: str) -> TextIO:
    """A report file opened for writing; one error line (exit 2) when it cannot be."""
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})",
                         hint="give a file in a directory that exists and is writable") from None


def report_error(exc: RestorePlanError, fmt: str) -> int:
    if fmt == "json":
        print_json({"error": exc.to_json()})
    else:
        print(f"restoreplan: {exc.code.lower().replace('_', ' ')}: {exc.one_line()}", file=sys.stderr)
        nb = getattr(exc, "nearest_before", None)
        na = getattr(exc, "nearest_after", None)
        if nb is not None or na is not None:
            near = []
            if nb is not None:
                near.append(f"nearest reachable before: {nb.local}" + (f" ({nb.utc})" if nb.utc else ""))
            if na is not None:
                near.append(f"nearest reachable after: {na.local}" + (f" ({na.utc})" if na.utc else ""))
            print("restoreplan: " + "; ".join(near), file=sys.stderr)
    return exc.exit_code


def stderr_progress(label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        if sys.stderr.isatty() or total > 200:
            end = "\n" if done >= total else "\r"
            print(f"{label}: {done}/{total}", end=end, file=sys.stderr, flush=True)
    return show
