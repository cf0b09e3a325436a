"""`pinwright update`: lock, then compile, then show what changed."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from compiler import pipeline
from compiler.build.chain import update_and_build
from compiler.commands.build import add_build_arguments, build_options
from compiler.commands.options import (
    add_image_arguments,
    add_network_arguments,
    finish,
    open_catalog,
    resolve_options,
)
from compiler.report import changes_table
from spec.errors import InvalidInputError


class UsageError(InvalidInputError):
    """Command-line options that do not go together."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "update", help="lock and compile in dependency order, then show what changed"
    )
    add_image_arguments(parser)
    add_network_arguments(parser)
    parser.add_argument(
        "--build",
        action="store_true",
        help="build each image whose Dockerfile changed before its dependents lock",
    )
    add_build_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.push and not args.build:
        raise UsageError("--push needs --build: run `pinwright update --build --push`")
    catalog = open_catalog(args)
    if args.build:
        with console.status("updating", spinner="dots") as status:
            outcome = update_and_build(
                catalog,
                args.images,
                resolve_options(args),
                build_options(args),
                on_status=lambda message: status.update(message),
                on_output=lambda line: console.print(line, markup=False, highlight=False),
            )
    else:
        outcome = pipeline.update(catalog, args.images, resolve_options(args))
    table = changes_table(outcome.changes)
    if table is None:
        console.print("no changes", markup=False)
    else:
        console.print(table)
    return finish(outcome, console)
