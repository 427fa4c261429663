"""Entry point: subcommands, one error line, documented exit codes.

Exit codes: 0 success, 1 problems found, 2 bad input or usage, 3 target not recoverable.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

from restoreplan import __version__
from restoreplan.cli.common import EXIT_BROKEN_PIPE, EXIT_USAGE, report_error
from restoreplan.core.errors import RestorePlanError, UsageError

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

exit codes: 0 success, 1 problems found, 2 bad input or usage, 3 target not recoverable,
141 output closed early (a broken pipe, as in `| head`)"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # one line, as every other bad input: the whole usage block is what --help is for
        print(f"restoreplan: usage: {message} (see '{self.prog} --help')", file=sys.stderr)
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code == EXIT_USAGE and argv[:1] == ["validate"] and "--nagios" in argv:
            # the usage line is on stderr; exit 2 would read as CRITICAL to Nagios
            print("RESTOREPLAN UNKNOWN - bad usage (see stderr)")
            return 3
        raise
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    fmt = getattr(args, "format", "text")
    # A command is one batch over one history. The cyclic collector would traverse its millions
    # of objects, and all the command builds from them, again and again for the few cycles there
    # are (10-15% of audit's own time, on 1,000,000 rows as on 20,000 small databases);
    # reference counting still frees what is dropped. It resumes when the command is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _refuse_empty_values(parser, args)
        return int(args.func(args))
    except RestorePlanError as exc:
        return report_error(exc, fmt)
    except KeyboardInterrupt:
        print("restoreplan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`| head`, a sqlcmd that stopped): the output is incomplete, which
        # is not success; 141 is what a shell shows for a writer SIGPIPE stopped (Nagios: UNKNOWN)
        _silence_stdout()
        try:
            print("restoreplan: the output was closed before it was all written (broken pipe)", file=sys.stderr)
        except OSError:
            pass
        return 3 if getattr(args, "nagios", False) else EXIT_BROKEN_PIPE
    except UnicodeEncodeError as exc:
        # stdout's encoding (PYTHONIOENCODING, a non-UTF-8 locale) cannot write a name of the history
        print(f"restoreplan: cannot write {exc.object[exc.start:exc.end]!r} in the output encoding {exc.encoding}: "
              "set PYTHONIOENCODING=utf-8 (or a UTF-8 locale); --format json writes \\u escapes instead",
              file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        # an I/O error the sources did not turn into an input error: most often writing the output
        # (a full disk, /dev/full, a file system gone read-only). One line, not a traceback that
        # reads as exit 1; the output may be incomplete.
        _silence_stdout()
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"restoreplan: input/output error{where}: {exc.strerror or exc}; the output may be incomplete",
              file=sys.stderr)
        return EXIT_USAGE
    finally:
        if collecting:
            gc.enable()


def _silence_stdout() -> None:
    """Point stdout's descriptor at /dev/null, so that the interpreter's last flush of a closed
    pipe does not fail again (a stdout without a descriptor, a StringIO, is left as it is)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _refuse_empty_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--target-name ""`` or ``-d ""`` is a mistake (an unset shell variable), not "no value":
    taken as absent it would restore over the source database or check every database."""
    names: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and args.command in action.choices:
            for a in action.choices[args.command]._actions:
                longs = [o for o in a.option_strings if o.startswith("--")]
                names[a.dest] = longs[0] if longs else a.dest.upper()
    for dest, value in vars(args).items():
        if value == "" or (isinstance(value, list) and "" in value):
            raise UsageError(f"{names.get(dest, '--' + dest.replace('_', '-'))} was given an empty value",
                             hint="give a value, or leave the option out")


if __name__ == "__main__":
    raise SystemExit(main())
