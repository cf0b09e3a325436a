"""`pinwright build`: build, and with --push push, catalog images in dependency order."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.build.builders import BUILDERS, BuilderSettings
from compiler.build.chain import BuildOptions, BuildOutcome, build_images
from compiler.commands.options import add_image_arguments, open_catalog
from spec.errors import ProblemsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "build", help="build images from their Dockerfiles in dependency order, and push them"
    )
    add_image_arguments(parser)
    add_build_arguments(parser)
    parser.add_argument(
        "--changed-only",
        action="store_true",
        help="build only images whose Dockerfile changed since their last build "
        "(images/NAME/image.build.json), and the images built on them",
    )
    parser.set_defaults(run=run)


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the builder options shared by `build` and `update --build`."""
    parser.add_argument(
        "--push", action="store_true", help="push each image to the catalog registry"
    )
    parser.add_argument(
        "--builder", choices=BUILDERS, default="buildah", help="builder to run (default: buildah)"
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=None,
        metavar="OS/ARCH",
        help="platform to build, such as linux/arm64; repeat for several "
        "(default: the catalog's architectures)",
    )
    parser.add_argument("--root", type=Path, help="builder storage root (buildah, podman)")
    parser.add_argument("--runroot", type=Path, help="builder state folder (buildah, podman)")
    parser.add_argument(
        "--storage-driver", help="builder storage driver, such as vfs (buildah, podman)"
    )
    parser.add_argument(
        "--isolation", help="isolation of RUN steps, such as chroot (buildah, podman)"
    )


def build_options(args: argparse.Namespace, *, changed_only: bool = False) -> BuildOptions:
    settings = BuilderSettings(
        name=args.builder,
        root=args.root,
        runroot=args.runroot,
        storage_driver=args.storage_driver,
        isolation=args.isolation,
    )
    platforms = tuple(args.platform) if args.platform else None
    return BuildOptions(
        push=args.push, platforms=platforms, changed_only=changed_only, builder=settings
    )


def run(args: argparse.Namespace, console: Console) -> int:
    catalog = open_catalog(args)
    options = build_options(args, changed_only=args.changed_only)
    with console.status("building", spinner="dots") as status:
        outcome = build_images(
            catalog,
            args.images,
            options,
            on_status=lambda message: status.update(message),
            on_output=lambda line: console.print(line, markup=False, highlight=False),
        )
    return finish_build(outcome, console)


def finish_build(outcome: BuildOutcome, console: Console) -> int:
    """Print what was built and pushed, then raise the failures for the CLI to print."""
    for name in outcome.order:
        if name in outcome.pushed:
            console.print(f"pushed {name} {outcome.pushed[name]}", markup=False)
        elif name in outcome.built:
            console.print(f"built {name}", markup=False)
        elif name in outcome.unchanged:
            console.print(f"unchanged {name}", markup=False)
    for path in outcome.written:
        console.print(f"wrote {path}", markup=False)
    if outcome.failures:
        raise ProblemsError(outcome.failures)
    return 0
