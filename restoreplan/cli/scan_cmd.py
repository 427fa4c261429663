"""`restoreplan scan`: read backup file headers (.bak/.trn) from folders, files and S3, offline."""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tabulate import tabulate

from restoreplan.cli.common import EXIT_OK, EXIT_PROBLEMS, print_json
from restoreplan.core.errors import UsageError
from restoreplan.sources.backup_files import rows_for_history, scan_sources
from restoreplan.sources.bakfile import FileScan
from restoreplan.sources.bakfile.sets import ROW_KEYS

LSN_KEYS = frozenset(
    {
        "first_lsn",
        "last_lsn",
        "checkpoint_lsn",
        "database_backup_lsn",
        "differential_base_lsn",
        "fork_point_lsn",
    }
)
PROGRESS_MIN_FILES = 200

EXAMPLE = """examples:
  restoreplan scan /backups/sales                       # every file below the folder
  restoreplan scan /backups --save history.csv          # then: restoreplan plan --history history.csv
  restoreplan scan s3://my-bucket/sql/prod --region eu-west-1 --format json
  restoreplan scan s3://bucket/prefix --endpoint-url http://127.0.0.1:8333   # S3-compatible storage
"""


def _date(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def json_value(key: str, value: object) -> object:
    """A row value for JSON: dates as text, LSNs as decimal strings."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _date(value)
    if key in LSN_KEYS:
        return str(value)
    return value


def csv_value(value: object) -> str:
    """A row value for the history CSV: dates as text, booleans 0/1, NULL as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return _date(value)
    return str(value)


def json_rows(scans: list[FileScan]) -> list[dict[str, Any]]:
    """One object per set per file, plus one per unreadable file (with ``error``)."""
    out: list[dict[str, Any]] = []
    for scan in scans:
        for row in scan.sets:
            obj = {k: json_value(k, row.get(k)) for k in ROW_KEYS}
            obj["error"] = None
            out.append(obj)
        if scan.error:
            obj = {k: None for k in ROW_KEYS}
            obj["physical_device_name"] = scan.name
            obj["error"] = scan.error
            out.append(obj)
    return out


def write_history_csv(path: str, scans: list[FileScan]) -> int:
    """The canonical history CSV (msdb column names); returns the number of rows."""
    rows = rows_for_history(scans)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(ROW_KEYS)
        for row in rows:
            w.writerow([csv_value(row.get(k)) for k in ROW_KEYS])
    return len(rows)


def _text(scans: list[FileScan]) -> str:
    table: list[list[object]] = []
    for scan in scans:
        for row in scan.sets:
            start, finish = row["backup_start_date"], row["backup_finish_date"]
            seq, count = row["family_sequence_number"], row["media_family_count"]
            table.append(
                [
                    scan.name,
                    row["position"],
                    row["type"],
                    row["database_name"],
                    _date(start) if isinstance(start, datetime) else "",
                    _date(finish) if isinstance(finish, datetime) else "",
                    str(row["first_lsn"]),
                    str(row["last_lsn"]),
                    f"{seq if seq is not None else '?'}/{count if count is not None else '?'}",
                    "yes" if row["is_compressed"] else "no",
                    "ok",
                ]
            )
        if scan.error:
            table.append([scan.name, "", "", "", "", "", "", "", "", "", scan.error])
    headers = ["file", "pos", "type", "database", "start", "finish", "first LSN", "last LSN",
               "family", "compressed", "status"]  # fmt: skip
    return tabulate(table, headers=headers, disable_numparse=True) if table else ""


def verdict(scans: list[FileScan]) -> str:
    sets = sum(len(s.sets) for s in scans)
    bad = sum(1 for s in scans if s.error)
    return (
        f"{sets} backup set{'s' if sets != 1 else ''} in {len(scans)} file"
        f"{'s' if len(scans) != 1 else ''}, {bad} unreadable"
    )


def _progress() -> Callable[[int, int], None]:
    last = [0.0]

    def show(done: int, total: int) -> None:
        if not (sys.stderr.isatty() or total > PROGRESS_MIN_FILES):
            return
        now = time.monotonic()
        if done < total and now - last[0] < 0.5:
            return
        last[0] = now
        end = "\n" if done >= total else "\r"
        print(f"scanning: {done}/{total} files", end=end, file=sys.stderr, flush=True)

    return show


def run(args: argparse.Namespace) -> int:
    """Scan, print the table or JSON, optionally save the history CSV; exit 0/1/2."""
    s3 = None
    if args.profile or args.region or args.endpoint_url:
        from restoreplan.sources.s3 import S3Options

        s3 = S3Options(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)
    if not args.paths:
        raise UsageError("give at least one folder, file or s3:// URL")
    scans = scan_sources(list(args.paths), s3=s3, progress=_progress())
    if args.save:
        try:
            write_history_csv(args.save, scans)
        except OSError as exc:
            raise UsageError(f"cannot write {args.save}: {exc.strerror or exc}") from None
    if args.format == "json":
        print_json(json_rows(scans))
    else:
        table = _text(scans)
        if table:
            print(table)
        print(verdict(scans))
    if not scans:
        print("restoreplan: no files found", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_PROBLEMS if any(s.error for s in scans) else EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``scan`` subcommand."""
    p = subparsers.add_parser(
        "scan",
        help="read backup file headers (.bak/.trn) offline: folders, files, s3:// prefixes",
        description="Read the headers of SQL Server backup files without a SQL Server: LSNs, "
        "GUIDs, dates, positions and stripes, one row per backup set per file.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="folder, file or s3://bucket/prefix")
    p.add_argument(
        "--format", choices=["text", "json"], default="text", help="output (default text)"
    )
    p.add_argument(
        "--save", metavar="FILE", help="write the canonical history CSV (a --history input)"
    )
    p.add_argument("--profile", help="AWS profile for s3:// paths")
    p.add_argument("--region", help="AWS region for s3:// paths")
    p.add_argument("--endpoint-url", help="S3 endpoint (S3-compatible storage)")
    p.set_defaults(func=run)
