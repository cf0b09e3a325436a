"""`pinwright update`: lock, then compile, then show what changed."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from compiler import pipeline
from compiler.commands.options import (
    add_image_arguments,
    add_network_arguments,
    finish,
    open_catalog,
    resolve_options,
)
from compiler.report import changes_table


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "update", help="lock and compile in dependency order, then show what changed"
    )
    add_image_arguments(parser)
    add_network_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    catalog = open_catalog(args)
    outcome = pipeline.update(catalog, args.images, resolve_options(args))
    table = changes_table(outcome.changes)
    if table is None:
        console.print("no changes", markup=False)
    else:
        console.print(table)
    return finish(outcome, console)
