"""Entry point: subcommands, one error line, documented exit codes.

Exit codes: 0 success, 1 problems found, 2 bad input or usage, 3 target not recoverable.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from restoreplan import __version__
from restoreplan.cli.common import EXIT_USAGE, report_error
from restoreplan.core.errors import RestorePlanError

COMMAND_MODULES = [
    "restoreplan.cli.plan_cmd",
    "restoreplan.cli.export_cmd",
    "restoreplan.cli.graph_cmd",
    "restoreplan.cli.scan_cmd",
    "restoreplan.cli.validate_cmd",
    "restoreplan.cli.audit_cmd",
    "restoreplan.cli.strategy_cmd",
    "restoreplan.cli.rds_cmd",
]

# The command each module registers: a run imports only the module of its command (every module
# pulls in its own sources, core and reports); --help and usage errors import them all.
COMMANDS = {
    "plan": "restoreplan.cli.plan_cmd",
    "script": "restoreplan.cli.plan_cmd",
    "export-query": "restoreplan.cli.export_cmd",
    "graph": "restoreplan.cli.graph_cmd",
    "scan": "restoreplan.cli.scan_cmd",
    "validate": "restoreplan.cli.validate_cmd",
    "audit": "restoreplan.cli.audit_cmd",
    "strategy": "restoreplan.cli.strategy_cmd",
    "rds-pitr": "restoreplan.cli.rds_cmd",
    "rds-tlog": "restoreplan.cli.rds_cmd",
}

DESCRIPTION = """Plan SQL Server restores from backup history: the minimal sequence of backups to reach a
point in time, LSN or mark, as an explained table, JSON, or a script that runs unchanged.

exit codes: 0 success, 1 problems found, 2 bad input or usage, 3 target not recoverable"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"restoreplan: usage: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``command`` alone when it is known."""
    parser = _Parser(prog="restoreplan", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"restoreplan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules = [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command not built into this version
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    fmt = getattr(args, "format", "text")
    try:
        return int(args.func(args))
    except RestorePlanError as exc:
        return report_error(exc, fmt)
    except KeyboardInterrupt:
        print("restoreplan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        gc.unfreeze()  # load_from_args froze the history for this command only


if __name__ == "__main__":
    raise SystemExit(main())
