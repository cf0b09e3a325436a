"""`pinwright diff`: show what changed between two locks, catalogs, Dockerfiles or revisions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.diff import diff_sides, load_sides
from compiler.report import FORMATS, render_changes

EXIT_NO_CHANGES = 0
EXIT_CHANGES = 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="show what changed: the catalog's locks against HEAD, two revisions, or two paths",
        description=(
            "Compare the catalog's locks in the working tree with those at HEAD, two git "
            "revisions with --from/--to, or two lockfiles, catalogs or generated Dockerfiles "
            "given as OLD NEW. Exits 0 without changes, 1 with changes, 2 on bad input."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="OLD NEW",
        help="two lockfiles, catalog folders or Dockerfiles with a `# BOM:` line",
    )
    parser.add_argument(
        "--from",
        dest="from_revision",
        metavar="REV",
        help="old side: a git revision (default: HEAD)",
    )
    parser.add_argument(
        "--to",
        dest="to_revision",
        metavar="REV",
        help="new side: a git revision (default: the working tree)",
    )
    parser.add_argument(
        "--format",
        dest="output_format",
        choices=("auto", *FORMATS),
        default="auto",
        help="output format (default: auto, a table on a terminal and plain text otherwise)",
    )
    parser.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when changes are found"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    old, new = load_sides(Path(args.catalog), args.paths, args.from_revision, args.to_revision)
    changes = diff_sides(old, new)

    output_format = args.output_format
    if output_format == "auto":
        output_format = "table" if console.is_terminal else "text"
    report = render_changes(changes, output_format)
    if isinstance(report, str):
        if report:
            console.print(report, markup=False, emoji=False, highlight=False)
    else:
        console.print(report)

    if changes and not args.exit_zero:
        return EXIT_CHANGES
    return EXIT_NO_CHANGES
