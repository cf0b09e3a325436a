"""`pinwright check`: validate, then compare locks and Dockerfiles with their sources."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.commands.validate import add_report_arguments, print_findings
from compiler.settings import DEFAULT_JOBS, ResolveOptions
from compiler.validate import ALL_RULES, check_catalog


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
    parser.add_argument(
        "--online",
        action="store_true",
        help="also check that every pinned package version, image digest and git tag "
        "still exists upstream",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help=f"upstream checks run at the same time with --online (default: {DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="download cache folder for --online (default: the user cache folder, or "
        "$PINWRIGHT_CACHE_DIR)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    upstream = None
    if args.online:
        upstream = ResolveOptions(jobs=max(1, args.jobs), cache_dir=args.cache_dir)
    _, report = check_catalog(Path(args.catalog), args.images, upstream=upstream)
    return print_findings(report.findings, args, ALL_RULES, console)
