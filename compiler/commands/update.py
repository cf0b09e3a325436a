"""`pinwright update`: lock, then compile, then show what changed; optionally commit it."""

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
    open_catalog,
    print_written,
    raise_failures,
    resolve_options,
)
from compiler.diff.commits import ImageCommitError, commit_images, prepare_commits
from compiler.report import render_changes
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
        "--commit",
        action="store_true",
        help="commit each changed image's lock and Dockerfile on its own, in dependency order",
    )
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
    plan = None
    if args.commit:
        # Checked before anything is written, so a refusal leaves the repository as it was.
        plan = prepare_commits(catalog, pipeline.select_images(catalog, args.images))

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
    report = render_changes(outcome.changes, "table" if console.is_terminal else "text")
    console.print(report, markup=False, emoji=False, highlight=False)

    print_written(outcome, console)

    if plan is not None:
        try:
            for commit in commit_images(plan, outcome.order):
                console.print(f"committed {commit.commit[:12]} {commit.subject}", markup=False)
        except ImageCommitError as error:
            outcome.failures.append(error)
    return raise_failures(outcome)
