"""`pinwright graph`: print or write the image graph for people, Graphviz, Bake or CI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.build.export import FORMATTERS
from compiler.build.targets import build_targets
from compiler.commands.options import add_image_arguments, open_catalog
from compiler.fsutil import write_atomic


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "graph", help="show the image graph, or export it as a Bake file or CI workflow"
    )
    add_image_arguments(parser)
    parser.add_argument(
        "--format",
        choices=sorted(FORMATTERS),
        default="text",
        help="text (default), json, dot (Graphviz), bake (docker-bake.json) or "
        "github-actions (a workflow with one job per image)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="file to write, such as docker-bake.json (default: standard output)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    catalog = open_catalog(args)
    text = FORMATTERS[args.format](build_targets(catalog, args.images))
    if args.output is None:
        console.file.write(text)
        return 0
    write_atomic(args.output, text)
    console.print(f"wrote {args.output}", markup=False)
    return 0
