"""`restoreplan export-query`: the SQL a DBA runs in SSMS or sqlcmd to export msdb history."""

from __future__ import annotations

import argparse
import sys

from restoreplan.cli.common import EXIT_OK, print_json
from restoreplan.core.errors import UsageError

EXAMPLE = """examples:
  restoreplan export-query > export.sql                            # every query, to paste into SSMS
  restoreplan export-query --query history > history.sql           # one query, one result set, one file
  sqlcmd -S myserver -d msdb -E -s"," -W -i history.sql -o history.csv
  restoreplan export-query --query restores > restores.sql         # optional: --restores restores.csv
  restoreplan export-query --min-version 10 > export_2008.sql     # a SQL Server 2008 server
  restoreplan export-query --rds                                   # Amazon RDS exports
"""


def run(args: argparse.Namespace) -> int:
    if args.rds:
        try:
            from restoreplan.sources import rds_history
        except ImportError:
            raise UsageError("RDS export queries are not available in this build") from None
        if args.query:
            raise UsageError("--query chooses one msdb query: not with --rds", hint="leave --query out")
        text = rds_history.export_queries_text()
    else:
        from restoreplan.sources import msdb_query

        text = msdb_query.export_query_text(args.min_version, only=args.query)
    if args.format == "json":
        print_json({"sql": text})
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("export-query", help="print the msdb query whose saved result is a history file",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--min-version", type=int, metavar="MAJOR",
                   help="oldest SQL Server major version to support (9=2005 .. 16=2022): newer columns are left out")
    p.add_argument("--query", choices=["history", "backupfile", "marks", "restores"],
                   help="only this query (sqlcmd writes every result set of a script into one file)")
    p.add_argument("--rds", action="store_true", help="the queries for Amazon RDS exports instead")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=run)
