"""The main jobs: lock, compile and update a selection of catalog images."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from compiler.changes import Change, diff_materials
from compiler.fsutil import write_atomic
from compiler.graph import catalog_dependencies, order_catalog
from compiler.lockfile import Lock, inputs_checksum, read_lock, sha256_text, write_lock
from compiler.render import collect_templates, render_dockerfile
from compiler.settings import ResolveOptions
from spec.catalog import Catalog, ImageEntry
from spec.errors import Location, PinwrightError

logger = logging.getLogger(__name__)


class LockMissingError(PinwrightError):
    """An image has no lockfile yet."""


class LockStaleError(PinwrightError):
    """A lockfile no longer matches the inputs its spec declares."""


class BaseUpdateFailedError(PinwrightError):
    """An image was not updated because a catalog image it is built on failed."""


@dataclass
class Outcome:
    """The record of a job: images in dependency order, files written, changes and failures."""

    order: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # catalog-relative paths of changed files
    changes: dict[str, list[Change]] = field(default_factory=dict)
    failures: list[PinwrightError] = field(default_factory=list)


def select_images(catalog: Catalog, names: Sequence[str]) -> list[str]:
    """Return the selected images in dependency order; raises for unknown names and cycles."""
    selected = set(catalog.select(names))
    order = order_catalog(catalog)
    return [name for name in order if name in selected]


def lock(
    catalog: Catalog, names: Sequence[str], options: ResolveOptions, *, render: bool = False
) -> Outcome:
    """Resolve and write the locks of the selected images.

    With `render`, each image's Dockerfile is rendered from its new lock too, and both
    files are written only when both succeed. A failed image keeps its old files; the
    others are written.
    """
    # Imported here so the offline commands never load the network stack.
    from compiler.resolve import lock_images, open_sources

    outcome = Outcome(order=select_images(catalog, names))
    sources = open_sources(catalog, options)
    try:
        result = lock_images(sources, outcome.order, jobs=options.jobs)
    finally:
        sources.close()

    for name in outcome.order:
        entry = catalog.images[name]
        if name in result.failures:
            outcome.failures.extend(result.failures[name])
            continue
        new = result.locks[name]
        try:
            dockerfile = render_dockerfile(entry, catalog, new) if render else None
        except PinwrightError as error:
            outcome.failures.append(error)
            continue

        outcome.changes[name] = diff_materials(name, _old_materials(entry), new.materials())
        if write_lock(entry.lock_path, new):
            outcome.written.append(catalog.relative(entry.lock_path))
        if dockerfile is not None and write_atomic(entry.dockerfile_path, dockerfile):
            outcome.written.append(catalog.relative(entry.dockerfile_path))
    return outcome


def compile_images(catalog: Catalog, names: Sequence[str]) -> Outcome:
    """Render the Dockerfiles of the selected images from their locks, with no network."""
    outcome = Outcome(order=select_images(catalog, names))
    for name in outcome.order:
        entry = catalog.images[name]
        try:
            compile_image(entry, catalog, outcome)
        except PinwrightError as error:
            outcome.failures.append(error)
    return outcome


def compile_image(entry: ImageEntry, catalog: Catalog, outcome: Outcome) -> None:
    """Render one Dockerfile and keep the lock's record of the spec and templates current."""
    current = load_current_lock(entry, catalog)
    text = render_dockerfile(entry, catalog, current)
    refreshed = replace(
        current,
        spec_sha256=sha256_text(entry.spec_bytes),
        templates=collect_templates(entry, catalog),
    )
    if write_atomic(entry.dockerfile_path, text):
        outcome.written.append(catalog.relative(entry.dockerfile_path))
    if refreshed != current and write_lock(entry.lock_path, refreshed):
        outcome.written.append(catalog.relative(entry.lock_path))


def load_current_lock(entry: ImageEntry, catalog: Catalog) -> Lock:
    """Read the lock of `entry` and check that it matches the spec's declared inputs.

    Raises LockMissingError or LockStaleError, both telling the user to run `lock`.
    """
    current = read_lock(entry.lock_path)
    where = Location(entry.lock_path)
    if current is None:
        raise LockMissingError(
            f"{entry.name} has no lock: run `pinwright lock {entry.name}`", location=where
        )
    if current.inputs_sha256 != inputs_checksum(entry, catalog) or set(current.inputs) != set(
        entry.spec.inputs
    ):
        raise LockStaleError(
            f"lock of {entry.name} does not match the inputs in "
            f"{catalog.relative(entry.spec_path)}: run `pinwright lock {entry.name}`",
            location=where,
        )
    return current


def update(catalog: Catalog, names: Sequence[str], options: ResolveOptions) -> Outcome:
    """Lock and compile the selected images in dependency order."""
    return lock(catalog, names, options, render=True)


def update_each(
    catalog: Catalog,
    names: Sequence[str],
    options: ResolveOptions,
    after_image: Callable[[str, Outcome], None],
) -> Outcome:
    """Lock and compile one image at a time in dependency order, calling `after_image` after each.

    Each image is locked only after `after_image` has run for the images it is built on,
    so a base that `after_image` pushes is the digest its dependents lock. An image whose
    update or `after_image` call fails (raising PinwrightError) stops its dependents.
    """
    outcome = Outcome(order=select_images(catalog, names))
    graph = catalog_dependencies(catalog)
    failed: set[str] = set()
    for name in outcome.order:
        blocked = [base for base in graph[name] if base in failed]
        if blocked:
            failed.add(name)
            outcome.failures.append(
                BaseUpdateFailedError(f"{name} not updated: its base image {blocked[0]} failed")
            )
            continue
        step = update(catalog, [name], options)
        outcome.written.extend(step.written)
        outcome.changes.update(step.changes)
        outcome.failures.extend(step.failures)
        if step.failures:
            failed.add(name)
            continue
        try:
            after_image(name, outcome)
        except PinwrightError as error:
            failed.add(name)
            outcome.failures.append(error)
    return outcome


def _old_materials(entry: ImageEntry) -> dict[str, str]:
    """Return the materials of the lock being replaced; an unreadable lock counts as empty."""
    try:
        previous = read_lock(entry.lock_path)
    except PinwrightError as error:
        logger.warning("replacing unreadable lock: %s", error)
        return {}
    return previous.materials() if previous is not None else {}
