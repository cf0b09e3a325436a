"""`pinwright compile`: render the Dockerfiles from specs and locks, with no network."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from compiler import pipeline
from compiler.commands.options import add_image_arguments, finish, open_catalog


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compile", help="render images/NAME/Dockerfile from the spec and lock (no network)"
    )
    add_image_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    catalog = open_catalog(args)
    outcome = pipeline.compile_images(catalog, args.images)
    if not outcome.written and not outcome.failures:
        console.print(f"{len(outcome.order)} Dockerfiles up to date", markup=False)
    return finish(outcome, console)
