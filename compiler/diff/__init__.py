"""Compare the materials of two sides, image by image: locks, catalogs, Dockerfiles, revisions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compiler.changes import Change, diff_materials
from compiler.diff.sides import Side, read_catalog_side, read_path_sides, read_revision_side
from spec.errors import InvalidInputError

__all__ = ["DiffArgumentsError", "Side", "diff_sides", "load_sides"]


class DiffArgumentsError(InvalidInputError):
    """The command line names the sides of a diff in a way that cannot work."""


def load_sides(
    catalog_root: Path,
    paths: Sequence[Path] = (),
    from_revision: str | None = None,
    to_revision: str | None = None,
) -> tuple[Side, Side]:
    """Read the old and new side of a diff.

    With two `paths`, compare those files or folders. Otherwise compare the catalog at
    `catalog_root` between git revisions: `from_revision` (HEAD when None) and
    `to_revision` (the working tree when None).
    Raises DiffArgumentsError and the InvalidInputError subclasses of the readers.
    """
    if paths:
        if len(paths) != 2:
            raise DiffArgumentsError(
                f"expected two files or folders to compare (OLD NEW), got {len(paths)}"
            )
        if from_revision is not None or to_revision is not None:
            raise DiffArgumentsError("--from and --to compare git revisions: drop OLD and NEW")
        return read_path_sides(paths[0], paths[1])

    old = read_revision_side(catalog_root, from_revision or "HEAD")
    if to_revision is None:
        return old, read_catalog_side(catalog_root)
    return old, read_revision_side(catalog_root, to_revision)


def diff_sides(old: Side, new: Side) -> dict[str, list[Change]]:
    """Return the changes of each image that differs, sorted by image name."""
    result: dict[str, list[Change]] = {}
    for image in sorted(set(old.images) | set(new.images)):
        changes = diff_materials(image, old.images.get(image, {}), new.images.get(image, {}))
        if changes:
            result[image] = changes
    return result
