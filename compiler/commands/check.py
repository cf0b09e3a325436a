"""`pinwright check`: validate, then compare locks and Dockerfiles with their sources."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.commands.validate import add_report_arguments, print_findings
from compiler.validate import RULES, check_catalog


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate, and check that locks and Dockerfiles are current (no network "
        "unless --online)",
    )
    parser.add_argument(
        "images", nargs="*", metavar="IMAGE", help="images whose locks to check (default: all)"
    )
    add_report_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    _, report = check_catalog(Path(args.catalog), args.images)
    return print_findings(report.findings, args, RULES, console)
