"""Commit each updated image on its own: its lock and Dockerfile, with a readable message."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from compiler import gitrepo
from compiler.changes import diff_materials
from compiler.diff.sides import read_lock_materials
from compiler.report import format_commit_message
from spec.catalog import Catalog
from spec.errors import InvalidInputError, PinwrightError

logger = logging.getLogger(__name__)

# Staged paths named in the error message; the rest are counted.
LISTED_PATHS = 5


class UnrelatedStagedChangesError(InvalidInputError):
    """The index contains staged changes that an image commit must not carry along."""


class ImageCommitError(PinwrightError):
    """git failed to commit the files of one image, for example because a hook rejected it.

    The files themselves are fine, so this is not invalid input and exits with 1.
    """


@dataclass(frozen=True)
class CommitPlan:
    """A repository checked for committing the files of `images`."""

    catalog: Catalog
    toplevel: Path
    images: tuple[str, ...]


@dataclass(frozen=True)
class ImageCommit:
    """One commit made for one image."""

    image: str
    commit: str
    subject: str


def prepare_commits(catalog: Catalog, images: Sequence[str]) -> CommitPlan:
    """Check that the files of `images` can be committed, before anything is written.

    Raises GitRepositoryNotFoundError outside a git working tree, GitIdentityMissingError
    when git cannot name an author, and UnrelatedStagedChangesError when the index holds
    staged changes to any file other than the locks and Dockerfiles of `images`.
    """
    toplevel = gitrepo.find_toplevel(catalog.root)
    gitrepo.check_identity(toplevel)

    allowed = {path for image in images for path in image_paths(catalog, toplevel, image)}
    unrelated = [path for path in gitrepo.staged_paths(toplevel) if path not in allowed]
    if unrelated:
        listed = ", ".join(unrelated[:LISTED_PATHS])
        more = len(unrelated) - LISTED_PATHS
        if more > 0:
            listed += f" and {more} more"
        raise UnrelatedStagedChangesError(
            f"staged changes unrelated to the update: {listed}; commit them or unstage them "
            "with `git restore --staged PATH` before `pinwright update --commit`"
        )
    return CommitPlan(catalog=catalog, toplevel=toplevel, images=tuple(images))


def commit_images(plan: CommitPlan, order: Sequence[str]) -> Iterator[ImageCommit]:
    """Commit, in `order`, each image of the plan whose lock or Dockerfile differs from HEAD.

    Each commit holds only that image's lock and Dockerfile, and is yielded once made.
    Raises ImageCommitError when a commit fails, after resetting the index entries of
    that image; earlier commits stay.
    """
    for image in order:
        if image not in plan.images:
            continue
        paths = image_paths(plan.catalog, plan.toplevel, image)
        changed = gitrepo.changed_paths(plan.toplevel, paths)
        if not changed:
            continue
        message = build_commit_message(plan, image, paths[0])
        try:
            commit = gitrepo.commit_paths(plan.toplevel, changed, message)
        except gitrepo.GitCommandError as error:
            raise ImageCommitError(f"committing image {image} failed: {error.message}") from error
        logger.info("committed %s for %s", commit, image)
        yield ImageCommit(image=image, commit=commit, subject=message.splitlines()[0])


def build_commit_message(plan: CommitPlan, image: str, lock_path: str) -> str:
    """Describe the material changes of `image` between the lock at HEAD and the working tree."""
    old = _head_materials(plan.toplevel, lock_path)
    new_path = plan.toplevel / lock_path
    new = read_lock_materials(new_path.read_text(encoding="utf-8"), new_path)[1]
    changes = diff_materials(image, old, new)
    if not changes:
        return f"[{image}] regenerate Dockerfile and lock, materials unchanged"
    return format_commit_message(image, changes)


def image_paths(catalog: Catalog, toplevel: Path, image: str) -> list[str]:
    """Return the lock and Dockerfile paths of `image`, relative to the repository top."""
    entry = catalog.images[image]
    return [
        entry.lock_path.resolve().relative_to(toplevel).as_posix(),
        entry.dockerfile_path.resolve().relative_to(toplevel).as_posix(),
    ]


def _head_materials(toplevel: Path, lock_path: str) -> dict[str, str]:
    """Return the materials of the lock at HEAD; a missing or unreadable lock counts as empty."""
    if not gitrepo.has_commits(toplevel):
        return {}
    if lock_path not in gitrepo.list_files(toplevel, "HEAD", lock_path):
        return {}
    text = gitrepo.read_file(toplevel, "HEAD", lock_path).decode("utf-8", "replace")
    try:
        return read_lock_materials(text, Path(f"HEAD:{lock_path}"))[1]
    except PinwrightError as error:
        logger.warning("describing the lock at HEAD as empty: %s", error)
        return {}
