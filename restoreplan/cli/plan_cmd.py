"""`restoreplan plan` and `restoreplan script`."""

from __future__ import annotations

import argparse
import sys

from restoreplan.cli.common import (
    EXIT_OK,
    add_format,
    add_history_args,
    load_from_args,
    parse_time_arg,
    print_json,
)
from restoreplan.core.errors import UsageError
from restoreplan.core.lsn import LSN
from restoreplan.core.plan import Plan
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.emit.tsql import ScriptOptions, TsqlEmitter
from restoreplan.report.plan_report import plan_json, plan_table

PLAN_EXAMPLE = """examples:
  restoreplan plan --database Sales --at "2026-11-18 14:37:00"        # bundled sample history
  restoreplan plan --history msdb.csv --database Sales --latest --format json
  restoreplan plan --history msdb.csv --database Sales --at 2026-11-18T19:37:00Z --check-files
"""
SCRIPT_EXAMPLE = """examples:
  restoreplan script --database Sales --at "2026-11-18 14:37:00" > restore.sql && sqlcmd -b -f 65001 -i restore.sql
  restoreplan script --history msdb.csv --database Sales --latest --target-name Sales_copy \\
      --data-dir 'D:\\Data' --log-dir 'L:\\Log' --backup-files backupfile.csv
  restoreplan script --dialect rds --history msdb.csv --database Sales --at "2026-11-18 14:37:00" --target-name Sales2
"""


def _add_target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", "-d", help="database name (required unless the history holds one database)")
    p.add_argument("--family-guid", help="choose one lineage when a name was dropped and recreated")
    t = p.add_mutually_exclusive_group()
    t.add_argument("--at", metavar="TIME", help="point in time: server-local, or with an offset or Z")
    t.add_argument("--latest", action="store_true", help="the latest reachable point")
    t.add_argument("--lsn", metavar="LSN", help="stop at this LSN (decimal or vlf:block:slot hex)")
    t.add_argument("--mark", metavar="NAME", help="stop at a named mark, including it (STOPATMARK)")
    t.add_argument("--before-mark", metavar="NAME", help="stop just before a named mark (STOPBEFOREMARK)")
    p.add_argument("--after", metavar="TIME", help="with --mark/--before-mark: the first such mark at or after TIME")
    p.add_argument("--tail", choices=["auto", "always", "never"], default="auto",
                   help="tail-log backup: auto (when the target is after the last log), always, never")
    p.add_argument("--or-earlier", action="store_true", help="plan to the nearest earlier point when the target is unreachable")
    add_history_args(p)


def target_from_args(args: argparse.Namespace) -> RecoveryTarget:
    if args.after and not (args.mark or args.before_mark):
        raise UsageError("--after goes with --mark or --before-mark")
    if args.at:
        return RecoveryTarget.at(parse_time_arg(args.at))
    if args.lsn:
        return RecoveryTarget.at_lsn(LSN.parse(args.lsn))
    if args.mark or args.before_mark:
        after = parse_time_arg(args.after) if args.after else None
        if after is not None and after.tzinfo is not None:
            raise UsageError("--after is server-local time; give it without an offset")
        return RecoveryTarget.at_mark(args.mark or args.before_mark, after, before=bool(args.before_mark))
    if args.latest:
        return RecoveryTarget.latest()
    raise UsageError("say where to restore to: --at TIME, --latest, --lsn LSN, --mark NAME or --before-mark NAME")


def make_plan(args: argparse.Namespace) -> Plan:
    target = target_from_args(args)
    history = load_from_args(args).history  # says what it skipped on stderr
    database = args.database
    if not database:
        names = history.database_names
        if len(names) != 1:
            raise UsageError("--database is required: the history holds several databases",
                             hint="databases: " + history.names_listed)
        database = names[0]
    return plan_restore(history, database, target,
                        PlanOptions(tail=args.tail, or_earlier=args.or_earlier, family_guid=args.family_guid))


def run_plan(args: argparse.Namespace) -> int:
    plan = make_plan(args)
    if args.format == "json":
        print_json(plan_json(plan))
    else:
        print(plan_table(plan))
    return EXIT_OK


def run_script(args: argparse.Namespace) -> int:
    if args.dialect == "rds":
        try:
            from restoreplan.emit import rds
        except ImportError:
            raise UsageError("the RDS dialect is not available in this build") from None
        return int(rds.run_rds_script(args, make_plan))
    rds_only = [flag for flag, value in (("--data-volume", args.data_volume), ("--log-volume", args.log_volume),
                                         ("--kms-key-arn", args.kms_key_arn),
                                         ("--instance-region", args.instance_region)) if value]
    if rds_only:
        raise UsageError(f"{', '.join(rds_only)} go(es) with --dialect rds: a T-SQL script has no use for it",
                         hint="add --dialect rds, or leave the option out")
    if args.standby and args.no_recovery:
        raise UsageError("--standby and --no-recovery exclude each other")
    plan = make_plan(args)
    opts = ScriptOptions(target_name=args.target_name, data_dir=args.data_dir, log_dir=args.log_dir,
                         replace=args.replace, standby=args.standby, no_recovery=args.no_recovery,
                         tail_file=args.tail_file)
    emitter = TsqlEmitter(plan, opts)
    script = emitter.render()
    for note in emitter.notes:  # also in the script's header; said here so a redirect does not hide them
        print(f"restoreplan: warning: {note}", file=sys.stderr)
    if args.format == "json":
        print_json({"dialect": "tsql", "script": script, "plan": plan_json(plan), "notes": emitter.notes})
    else:
        sys.stdout.write(script)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("plan", help="the minimal restore sequence to a target, explained",
                       epilog=PLAN_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_target_args(p)
    add_format(p)
    p.set_defaults(func=run_plan)
    s = sub.add_parser("script", help="the restore script (T-SQL for sqlcmd, or Amazon RDS procedures)",
                       epilog=SCRIPT_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_target_args(s)
    s.add_argument("--dialect", choices=["tsql", "rds"], default="tsql")
    s.add_argument("--target-name", help="restore under this database name")
    s.add_argument("--data-dir", help="move data files to this directory")
    s.add_argument("--log-dir", help="move log files to this directory (default: --data-dir)")
    s.add_argument("--replace", action="store_true", help="add REPLACE (overwrite an existing database)")
    s.add_argument("--standby", metavar="UNDOFILE", help="finish WITH STANDBY = UNDOFILE instead of RECOVERY")
    s.add_argument("--no-recovery", action="store_true", help="leave the database RESTORING")
    s.add_argument("--tail-file", help="where the tail-log backup is written and read")
    s.add_argument("--data-volume", help="RDS: @data_file_volume (D:, H:, I:, J:)")
    s.add_argument("--log-volume", help="RDS: @log_file_volume")
    s.add_argument("--kms-key-arn", help="RDS: @kms_master_key_arn for encrypted backups")
    s.add_argument("--instance-region", help="RDS: the instance's region, checked against the S3 objects")
    s.add_argument("--format", choices=["text", "json"], default="text",
                   help="text: the script alone (default); json: {dialect, script, plan, notes}")
    s.set_defaults(func=run_script)
