"""Options shared by several commands, and the printing of an outcome."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from compiler.pipeline import Outcome
from compiler.settings import DEFAULT_JOBS, ResolveOptions
from spec.catalog import Catalog, load_catalog
from spec.errors import InvalidInputError, ProblemsError


def add_image_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "images", nargs="*", metavar="IMAGE", help="images to act on (default: all)"
    )


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        default=DEFAULT_JOBS,
        help=f"inputs resolved at the same time (default: {DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="resolve from what earlier runs saved in the cache (downloads, registry digests, "
        "git tags) and open no connection",
    )
    parser.add_argument(
        "--refresh", action="store_true", help="ignore cached downloads and fetch everything again"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="download cache folder (default: the user cache folder, or $PINWRIGHT_CACHE_DIR)",
    )


def resolve_options(args: argparse.Namespace) -> ResolveOptions:
    if args.offline and args.refresh:
        raise InvalidInputError(
            "--offline and --refresh cannot be combined: --refresh ignores the cache that "
            "--offline reads"
        )
    return ResolveOptions(
        jobs=args.jobs, offline=args.offline, refresh=args.refresh, cache_dir=args.cache_dir
    )


def open_catalog(args: argparse.Namespace) -> Catalog:
    return load_catalog(Path(args.catalog))


def print_written(outcome: Outcome, console: Console) -> None:
    """Print one line for every file the job wrote."""
    for path in outcome.written:
        console.print(f"wrote {path}", markup=False)


def raise_failures(outcome: Outcome) -> int:
    """Raise the job's failures for the CLI to print; return 0 when there are none."""
    if outcome.failures:
        raise ProblemsError(outcome.failures)
    return 0


def finish(outcome: Outcome, console: Console) -> int:
    """Print the files written, then raise the failures for the CLI to print."""
    print_written(outcome, console)
    return raise_failures(outcome)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
