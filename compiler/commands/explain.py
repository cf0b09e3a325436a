"""`pinwright explain IMAGE apk:NAME`: print the chains that brought a package into a lock."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.apk.paths import MAX_PATHS, find_dependency_paths
from compiler.locked import LockedPackages
from compiler.lockfile import read_lock
from spec.catalog import IMAGES_DIR, LOCK_FILE, SPEC_FILE, UnknownImageError
from spec.errors import InvalidInputError, Location

MATERIAL_PREFIX = "apk:"


class MaterialNotFoundError(InvalidInputError):
    """A material that the image's lock does not contain, or cannot explain."""


class LockMissingError(InvalidInputError):
    """An image of the catalog that has no lockfile yet."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain", help="print the dependency chains that brought a package into an image"
    )
    parser.add_argument("image", metavar="IMAGE", help="image name (a folder under images/)")
    parser.add_argument("material", metavar="apk:NAME", help="Alpine package of the image's lock")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    package = _parse_material(args.material)
    lock_path = _find_lock(Path(args.catalog), args.image)
    lock = read_lock(lock_path)
    if lock is None:
        raise LockMissingError(
            f"image {args.image!r} has no lockfile; run `pinwright lock {args.image}`",
            location=Location(lock_path),
        )

    inputs = {
        name: locked
        for name, locked in sorted(lock.inputs.items())
        if isinstance(locked, LockedPackages)
        and f"{MATERIAL_PREFIX}{package}" in locked.materials()
    }
    if not inputs:
        raise MaterialNotFoundError(
            f"{args.material} is not in the lock of image {args.image!r}",
            location=Location(lock_path),
        )

    for input_name, locked in inputs.items():
        paths = find_dependency_paths(locked.required_by, package)
        if not paths:
            raise MaterialNotFoundError(
                f"input {input_name!r} of image {args.image!r} records nothing that pulled in "
                f"{package}; run `pinwright lock {args.image}` to record it",
                location=Location(lock_path),
            )
        prefix = f"{input_name}: " if len(inputs) > 1 else ""
        for path in paths:
            console.print(prefix + " -> ".join(path), markup=False)
        if len(paths) == MAX_PATHS:
            console.print(f"{prefix}(showing the first {MAX_PATHS} shortest chains)", markup=False)
    return 0


def _parse_material(text: str) -> str:
    name = text.removeprefix(MATERIAL_PREFIX)
    if not text.startswith(MATERIAL_PREFIX) or not name:
        raise InvalidInputError(
            f"invalid material {text!r}: explain takes an Alpine package as apk:NAME"
        )
    return name


def _find_lock(catalog: Path, image: str) -> Path:
    """Return the lockfile path of `image`; raises UnknownImageError for an unknown image."""
    images_dir = catalog / IMAGES_DIR
    if "/" in image or image in ("", ".", "..") or not (images_dir / image / SPEC_FILE).is_file():
        known = sorted(
            path.parent.name for path in images_dir.glob(f"*/{SPEC_FILE}") if path.is_file()
        )
        raise UnknownImageError(
            f"unknown image {image!r} (catalog images: {', '.join(known) or 'none'})"
        )
    return images_dir / image / LOCK_FILE
