"""`restoreplan rds-pitr` (instance-level recovery) and `restoreplan rds-tlog` (transaction-log copies)."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime

from restoreplan.cli.common import EXIT_OK, EXIT_PROBLEMS, open_output, parse_time_arg, print_json
from restoreplan.core.errors import UsageError
from restoreplan.sources import rds_history, rds_instance, rds_tlog

PITR_EXAMPLE = """examples:
  aws rds describe-db-instances --db-instance-identifier prod-sql > inst.json
  aws rds describe-db-snapshots --db-instance-identifier prod-sql > snaps.json
  restoreplan rds-pitr --instance prod-sql --at 2026-11-18T19:37:00Z --describe-json inst.json --snapshots-json snaps.json
  restoreplan rds-pitr --instance prod-sql --at "2026-11-18 14:37:00-05:00" --region us-east-1 --format json   # live (boto3)
"""
TLOG_EXAMPLE = """examples:
  restoreplan rds-tlog --manifest tlog_metadata.csv --as-of 2026-11-20T09:00:00Z
  restoreplan rds-tlog --manifest tlog_metadata.csv --objects s3://bucket/tlogs --emit-rows tlog_history.csv
  restoreplan plan --history msdb.csv --history tlog_history.csv --database Sales --at "2026-11-18 14:37:00"
"""


def _utc_arg(text: str) -> datetime:
    t = parse_time_arg(text)
    if t.tzinfo is None:
        return t  # naive = UTC for instance-level times
    return t.astimezone(UTC).replace(tzinfo=None)


def run_pitr(args: argparse.Namespace) -> int:
    at = _utc_arg(args.at)
    if args.describe_json:
        describe = rds_instance.load_json_file(args.describe_json)
        snaps = rds_instance.load_json_file(args.snapshots_json) if args.snapshots_json else None
        automated = rds_instance.load_json_file(args.automated_backups_json) if args.automated_backups_json else None
    else:
        if not args.instance:
            raise UsageError("--instance is required for live calls", hint="or pass --describe-json FILE")
        describe, snaps, automated = rds_instance.fetch_live(args.instance, profile=args.profile, region=args.region)
    decision = rds_instance.decide_pitr(describe, snaps, args.instance, at, args.target_instance, automated,
                                        region=args.region)
    if args.format == "json":
        print_json(decision.to_json())
        return EXIT_OK
    method = "point-in-time restore" if decision.method == "pitr" else "snapshot restore"
    print(f"instance {decision.instance}: {method}")
    print(decision.reason)
    print("this creates a NEW instance (default security group and parameter group unless you add them);")
    print("on SQL Server all databases are restored to within one second of each other.")
    print(decision.command)
    return EXIT_OK


def _offset_minutes(text: str | None) -> int:
    if not text:
        return 0
    s = text.strip()
    bad = UsageError(f"--instance-offset {text!r}: use minutes or +HH:MM, between -12:00 and +14:00")
    if re.fullmatch(r"[+-]?\d+", s):
        minutes = int(s)
    else:
        m_ = re.fullmatch(r"([+-]?)(\d{1,2}):(\d{2})", s)
        if not m_:
            raise bad
        sign = -1 if m_.group(1) == "-" else 1
        h, m = int(m_.group(2)), int(m_.group(3))
        if not 0 <= m < 60:
            raise bad
        minutes = sign * (h * 60 + m)
    if not -12 * 60 <= minutes <= 14 * 60:  # UTC-12:00 .. UTC+14:00, the offsets that exist
        raise bad
    return minutes


def run_tlog(args: argparse.Namespace) -> int:
    if not args.emit_rows:
        unused = [flag for flag, value in (("--database", args.database), ("--instance-offset", args.instance_offset),
                                           ("--prefix-arn", args.prefix_arn)) if value]
        if unused:
            raise UsageError(f"{', '.join(unused)} shape(s) the rows of --emit-rows: give --emit-rows FILE too",
                             hint="or leave the option out")
    offset = _offset_minutes(args.instance_offset)  # a bad offset fails before anything is read
    entries = rds_tlog.read_manifest(args.manifest)
    objects = None
    if args.objects:
        s3opts = None
        if args.profile or args.region or args.endpoint_url:
            s3mod = rds_history._optional_module("restoreplan.sources.s3")
            if s3mod is not None:
                s3opts = s3mod.S3Options(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)
            else:
                s3opts = argparse.Namespace(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)
        objects = rds_tlog.list_tlog_objects(args.objects, rds_history.s3_lister(s3opts))
    as_of = _utc_arg(args.as_of) if args.as_of else None
    report = rds_tlog.check_tlogs(entries, as_of=as_of, objects=objects)
    findings = list(report.findings)
    if args.task_status:
        tasks = rds_history.read_task_status(args.task_status)
        failed = [t for t in tasks if t.lifecycle in ("ERROR", "CANCELLED") and "TLOG" in t.task_type.upper()]
        findings += [rds_history.Finding("TASK_FAILED", f"task {t.task_id} ({t.task_type}) ended {t.lifecycle}: "
                                         f"{t.task_info or ''}", severity="warning") for t in failed]
    if args.emit_rows:
        prefix = args.prefix_arn or args.objects
        if not prefix:
            raise UsageError("--emit-rows needs --objects s3://bucket/prefix or --prefix-arn arn:aws:s3:::bucket/prefix",
                             hint="the prefix given to rds_tlog_copy_setup")
        rows = rds_tlog.tlog_rows(entries, prefix_arn=prefix, database_name=args.database,
                                     utc_offset_minutes=offset, objects=objects,
                                     only_copied=objects is not None)
        text = (rds_history.rows_to_json_text(rows) if args.emit_rows.lower().endswith(".json")
                else rds_history.rows_to_csv_text(rows))
        with open_output(args.emit_rows) as fh:
            fh.write(text)
    ok = not any(f.severity == "error" for f in findings)
    if args.format == "json":
        out = report.to_json()
        out["findings"] = [f.to_json() for f in findings]
        out["ok"] = ok
        print_json(out)
    else:
        print(f"{len(entries)} log backup(s) in the manifest"
              + (f", {len(report.copied)} copied to S3" if objects is not None else "")
              + f"; {len(report.expired)} outside the 7-day copy window, {len(report.expiring)} leaving it within a day")
        for f in findings:
            print(f"{f.severity.upper():7} {f.code}: {f.message}")
        if args.emit_rows:
            print(f"canonical log rows written to {args.emit_rows} (use it with --history)")
    sys.stdout.flush()
    return EXIT_OK if ok else EXIT_PROBLEMS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("rds-pitr", help="Amazon RDS: restore the whole instance to a time (PITR or snapshot)",
                       epilog=PITR_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instance", metavar="ID", help="the source DB instance identifier")
    p.add_argument("--at", metavar="TIME", required=True, help="the time: UTC (Z or no offset) or with an offset")
    p.add_argument("--describe-json", metavar="FILE", help="saved aws rds describe-db-instances output")
    p.add_argument("--snapshots-json", metavar="FILE", help="saved aws rds describe-db-snapshots output")
    p.add_argument("--automated-backups-json", metavar="FILE",
                   help="saved aws rds describe-db-instance-automated-backups output (exact earliest restorable time)")
    p.add_argument("--target-instance", metavar="NAME", help="the new instance's identifier")
    p.add_argument("--profile", help="AWS profile for live calls")
    p.add_argument("--region", help="AWS region for live calls and the emitted command")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=run_pitr)

    t = sub.add_parser("rds-tlog", help="Amazon RDS: check transaction-log copies and turn them into history",
                       epilog=TLOG_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--manifest", metavar="FILE", required=True,
                   help="CSV/JSON export of msdb.dbo.rds_fn_list_tlog_backup_metadata('db')")
    t.add_argument("--objects", metavar="s3://BUCKET/PREFIX", help="list the copied objects under this prefix")
    t.add_argument("--prefix-arn", metavar="ARN", help="the rds_tlog_copy_setup prefix (when not listing)")
    t.add_argument("--as-of", metavar="TIME", help="judge the 7-day copy window as of this UTC time (default now)")
    t.add_argument("--task-status", metavar="FILE", help="CSV/JSON export of rds_task_status")
    t.add_argument("--emit-rows", metavar="FILE", help="write canonical log rows (CSV, or JSON for *.json)")
    t.add_argument("--database", help="database_name for the rows (default: db_name of the manifest)")
    t.add_argument("--instance-offset", metavar="+HH:MM", help="the instance's UTC offset for the rows' times (default 0)")
    t.add_argument("--profile", help="AWS profile")
    t.add_argument("--region", help="AWS region")
    t.add_argument("--endpoint-url", help="S3 endpoint (S3-compatible storage)")
    t.add_argument("--format", choices=["text", "json"], default="text")
    t.set_defaults(func=run_tlog)
