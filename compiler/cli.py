"""The `pinwright` command: parse options, build the console, run one command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from rich.console import Console

from compiler.commands import (
    apk,
    build,
    check,
    diff,
    explain,
    graph,
    lint,
    lock,
    schema,
    update,
    validate,
)
from compiler.commands import compile as compile_command
from spec.errors import PinwrightError

# Each module defines `register(subparsers)`, which adds its parser and sets `run`.
# They are imported here, like any module, and import the network stack only when a
# command that needs it runs.
COMMAND_MODULES: tuple[ModuleType, ...] = (
    lock,
    compile_command,
    update,
    diff,
    schema,
    apk,
    explain,
    graph,
    build,
    validate,
    check,
    lint,
)


# Exit code for an unexpected exception, which is a bug rather than bad input.
INTERNAL_ERROR = 3


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="pinwright",
        description="Compile YAML image specs into pinned Dockerfiles and lockfiles.",
    )
    parser.add_argument(
        "-C",
        dest="catalog",
        default=".",
        metavar="CATALOG_DIR",
        help="catalog folder holding pinwright.yaml (default: the current folder)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log decisions and one line per HTTP request; twice for everything",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    # `-v` is accepted after the command too, as in `pinwright lock -v`.
    for command in subparsers.choices.values():
        command.add_argument(
            "-v",
            "--verbose",
            dest="command_verbose",
            action="count",
            default=0,
            help="the same as -v before the command",
        )
    return parser


# Loggers whose DEBUG records are one line per request, shown from -v on.
REQUEST_LOGGERS = ("compiler.sources.http", "compiler.sources.registry")


def configure_logging(verbosity: int) -> None:
    """Send log records to stderr.

    Warnings by default; with -v, decisions (INFO) and one line per HTTP request; with
    -vv, every DEBUG record.
    """
    level = logging.WARNING
    if verbosity == 1:
        level = logging.INFO
    elif verbosity >= 2:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="[%(levelname)s] %(name)s: %(message)s")
    if verbosity == 1:
        for name in REQUEST_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose + args.command_verbose)
    # emoji=False keeps `:x:` in user text (an image name, a package) as it was written.
    console = Console(highlight=False, soft_wrap=True, emoji=False)
    error_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

    try:
        exit_code: int = args.run(args, console)
    except PinwrightError as error:
        for line in error.lines():
            error_console.print(line, markup=False)
        return error.exit_code
    except KeyboardInterrupt:
        error_console.print("interrupted", markup=False)
        return 130
    except Exception as error:  # The boundary that turns a bug into one line of output.
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        error_console.print(
            f"internal error: {type(error).__name__}: {error} "
            "(this is a bug in Pinwright; run with -vv for the traceback)",
            markup=False,
        )
        return INTERNAL_ERROR
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
