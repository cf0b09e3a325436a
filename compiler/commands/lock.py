"""`pinwright lock`: resolve every declared input and write the lockfiles."""

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


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lock", help="resolve inputs and write images/NAME/image.lock.json"
    )
    add_image_arguments(parser)
    add_network_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    catalog = open_catalog(args)
    outcome = pipeline.lock(catalog, args.images, resolve_options(args))
    return finish(outcome, console)
