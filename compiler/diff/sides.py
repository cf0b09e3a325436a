"""The two sides of a diff: the materials of each image, read from files or from git.

A side comes from a lockfile, a generated Dockerfile with a `# BOM:` line, a catalog
folder (Pinwright's, or a folder of contempt Dockerfiles), or a catalog at a git revision.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from compiler import gitrepo
from compiler.diff.bom import BomDockerfile, has_bom, parse_bom_dockerfile
from compiler.lockfile import LOCK_FORMAT, LockInvalidError, find_invalid_value
from compiler.report import CONTROL_CHARACTER
from spec.catalog import CONFIG_FILE, DOCKERFILE, IMAGES_DIR, LOCK_FILE, CatalogNotFoundError
from spec.errors import InvalidInputError, Location

logger = logging.getLogger(__name__)


class DiffInputNotFoundError(InvalidInputError):
    """A file or folder named for a diff does not exist or contains nothing to compare."""


class DiffInputMismatchError(InvalidInputError):
    """The two sides of a diff are not of the same shape: a file and a folder."""


class ImageDuplicateError(InvalidInputError):
    """Two Dockerfiles of one folder name the same image."""


@dataclass(frozen=True)
class Side:
    """One side of a diff: where it came from and each image's materials."""

    label: str
    images: Mapping[str, Mapping[str, str]]


def read_lock_materials(text: str, origin: Path) -> tuple[str, dict[str, str]]:
    """Return the image name and the `materials` map of lockfile `text` read from `origin`.

    Only the flat map is read, so locks holding input kinds this version does not know
    still compare. Every value is checked like `pinwright lock` checks it, and material
    names must be free of control characters, because a lock from another revision may
    be hostile. Raises LockInvalidError.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        location = Location(origin, error.lineno, error.colno)
        raise LockInvalidError(f"invalid JSON: {error.msg}", location=location) from error
    except RecursionError as error:
        raise LockInvalidError(
            "invalid JSON: nested too deeply to read", location=Location(origin)
        ) from error
    if not isinstance(data, dict):
        raise LockInvalidError(
            "invalid lockfile: expected a JSON object at the top level",
            location=Location(origin),
        )
    if data.get("format") != LOCK_FORMAT:
        found = data.get("format")
        raise LockInvalidError(
            f"unsupported lockfile format {found!r} (expected {LOCK_FORMAT})",
            location=Location(origin),
        )
    image = data.get("image")
    materials = data.get("materials")
    if not isinstance(image, str) or not isinstance(materials, dict):
        raise LockInvalidError(
            "malformed lockfile: `image` must be a string and `materials` an object",
            location=Location(origin),
        )
    if not all(isinstance(value, str) for value in materials.values()):
        raise LockInvalidError(
            "malformed lockfile: every value of `materials` must be a string",
            location=Location(origin),
        )
    _check_lock_values(data, materials, origin)
    return image, dict(sorted(materials.items()))


def _check_lock_values(data: Any, materials: Mapping[str, str], origin: Path) -> None:
    """Raise LockInvalidError for a value or material name that cannot be trusted."""
    try:
        problem = find_invalid_value(data)
    except RecursionError as error:
        raise LockInvalidError(
            "invalid lockfile: values nested too deeply to check", location=Location(origin)
        ) from error
    if problem is not None:
        raise LockInvalidError(f"invalid lockfile value {problem}", location=Location(origin))

    for name in sorted(materials):
        if CONTROL_CHARACTER.search(name):
            raise LockInvalidError(
                f"invalid material name {name!r}: it contains a control character or "
                "line separator",
                location=Location(origin),
            )


def read_file_side(path: Path) -> Side:
    """Read one lockfile or one generated Dockerfile as a side with a single image.

    Raises DiffInputNotFoundError, LockInvalidError, BomMissingError or BomInvalidError.
    """
    text = _read_text(path)
    # A Dockerfile never starts with `{` or `[`, so a JSON object or array is read as a
    # lockfile and gets the lockfile's error, not the missing `# BOM:` line's.
    if text.lstrip().startswith(("{", "[")):
        image, materials = read_lock_materials(text, path)
        return Side(label=str(path), images={image: materials})
    bom = parse_bom_dockerfile(text, path)
    return Side(label=str(path), images={bom.image: bom.materials})


def read_folder_side(folder: Path) -> Side:
    """Read a Pinwright catalog's locks, or a folder of contempt Dockerfiles `NAME/Dockerfile`.

    Raises DiffInputNotFoundError when the folder is neither, LockInvalidError,
    BomInvalidError or ImageDuplicateError.
    """
    if (folder / CONFIG_FILE).is_file():
        return read_catalog_side(folder, label=str(folder))

    found: dict[str, BomDockerfile] = {}
    for path in sorted(folder.glob(f"*/{DOCKERFILE}")):
        text = _read_text(path)
        if not has_bom(text):
            logger.info("skipping %s: no `# BOM:` line", path)
            continue
        bom = parse_bom_dockerfile(text, path)
        if bom.image in found:
            raise ImageDuplicateError(
                f"image {bom.image!r} is generated by two Dockerfiles in {folder}",
                location=Location(path),
            )
        found[bom.image] = bom
    if not found:
        raise DiffInputNotFoundError(
            f"{folder} is neither a catalog (no {CONFIG_FILE}) nor a folder of generated "
            f"Dockerfiles with a `# BOM:` line (NAME/{DOCKERFILE})"
        )
    images = {name: found[name].materials for name in sorted(found)}
    return Side(label=str(folder), images=images)


def read_catalog_side(root: Path, label: str = "working tree") -> Side:
    """Read the locks of the catalog at `root` from the working tree.

    Raises CatalogNotFoundError or LockInvalidError.
    """
    if not (root / CONFIG_FILE).is_file():
        raise CatalogNotFoundError(
            f"no {CONFIG_FILE} found in {root}; run from a catalog folder or pass -C CATALOG_DIR"
        )
    images: dict[str, dict[str, str]] = {}
    for path in sorted((root / IMAGES_DIR).glob(f"*/{LOCK_FILE}")):
        _, materials = read_lock_materials(_read_text(path), path)
        images[path.parent.name] = materials
    return Side(label=label, images=images)


def read_revision_side(root: Path, revision: str) -> Side:
    """Read the locks of the catalog at `root` as they were at git `revision`.

    Raises GitRepositoryNotFoundError, GitRevisionNotFoundError, CatalogNotFoundError
    or LockInvalidError.
    """
    toplevel = gitrepo.find_toplevel(root)
    commit = gitrepo.resolve_revision(toplevel, revision)
    prefix = root.resolve().relative_to(toplevel).as_posix()
    prefix = "" if prefix == "." else prefix
    files = gitrepo.list_files(toplevel, commit, prefix)

    config = str(PurePosixPath(prefix, CONFIG_FILE))
    if config not in files:
        raise CatalogNotFoundError(f"no {CONFIG_FILE} in {root} at revision {revision}")
    images: dict[str, dict[str, str]] = {}
    for path in files:
        parts = PurePosixPath(path).relative_to(prefix or ".").parts
        if len(parts) != 3 or parts[0] != IMAGES_DIR or parts[2] != LOCK_FILE:
            continue
        text = gitrepo.read_file(toplevel, commit, path).decode("utf-8", "replace")
        _, materials = read_lock_materials(text, Path(f"{revision}:{path}"))
        images[parts[1]] = materials
    return Side(label=revision, images=images)


def read_path_sides(old: Path, new: Path) -> tuple[Side, Side]:
    """Read two files or two folders named on the command line.

    Raises DiffInputNotFoundError, DiffInputMismatchError and the errors of the readers.
    """
    for path in (old, new):
        if not path.exists():
            raise DiffInputNotFoundError(f"{path} not found")
    if old.is_dir() != new.is_dir():
        raise DiffInputMismatchError(
            f"cannot compare {old} with {new}: pass two files or two folders"
        )
    if old.is_dir():
        return read_folder_side(old), read_folder_side(new)

    old_side, new_side = read_file_side(old), read_file_side(new)
    # Two single files compare as one image even when their names differ.
    ((old_name, old_materials),) = old_side.images.items()
    ((new_name, _),) = new_side.images.items()
    if old_name != new_name:
        old_side = Side(label=old_side.label, images={new_name: old_materials})
    return old_side, new_side


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise DiffInputNotFoundError(f"{path} not found") from error
    except (OSError, UnicodeDecodeError) as error:
        raise DiffInputNotFoundError(f"cannot read {path}: {error}") from error
