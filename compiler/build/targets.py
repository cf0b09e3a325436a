"""What one catalog image builds to: its repository, tags, platforms and catalog bases.

Everything here is read from the catalog and the image's lock, with no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler.graph import catalog_dependencies, order_images
from compiler.locked import LockedImage
from compiler.lockfile import Lock, read_lock
from spec.catalog import Catalog
from spec.models import ARCHITECTURES

LATEST_TAG = "latest"
# A tag as the OCI distribution spec allows it: 1 to 128 of [A-Za-z0-9_.-], not starting
# with '.' or '-'.
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_TAG_INVALID = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class BuildTarget:
    """One image to build: where it goes and what it is built from."""

    name: str
    context: str  # catalog-relative folder of the image
    dockerfile: str  # catalog-relative path of the Dockerfile
    repository: str  # `{registry}/{name}`
    tags: tuple[str, ...]  # `latest` first, then the version tag when the spec names one
    platforms: tuple[str, ...]  # OCI platforms, in the order of `architectures`
    depends_on: tuple[str, ...]  # catalog images this image is built on, sorted
    bases: dict[str, str]  # catalog image -> the reference the Dockerfile pulls it by

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(f"{self.repository}:{tag}" for tag in self.tags)


def catalog_platforms(catalog: Catalog) -> tuple[str, ...]:
    """Return the OCI platforms of the catalog's architectures, in the configured order."""
    return tuple(ARCHITECTURES[arch] for arch in catalog.config.architectures)


def version_tag(lock: Lock | None, version_from: str | None) -> str | None:
    """Return the version tag taken from the `version_from` input of a lock, or None.

    Characters a tag cannot hold, such as `+` in `1.2.3+build`, become `-`; a version
    that still is no valid tag gives None.
    """
    if lock is None or version_from is None or version_from not in lock.inputs:
        return None
    version = getattr(lock.inputs[version_from], "version", None)
    if not isinstance(version, str) or not version:
        return None
    tag = _TAG_INVALID.sub("-", version)
    if not TAG_PATTERN.match(tag) or tag == LATEST_TAG:
        return None
    return tag


def build_targets(catalog: Catalog, names: list[str] | None = None) -> list[BuildTarget]:
    """Return the build targets of the named images (default: all) in dependency order.

    Reads each image's lock when there is one. Raises DependencyCycleError,
    UnknownImageError and LockInvalidError.
    """
    graph = catalog_dependencies(catalog)
    selected = set(catalog.select(names or []))
    platforms = catalog_platforms(catalog)
    targets = []
    for name in order_images(graph):
        if name not in selected:
            continue
        entry = catalog.images[name]
        lock = read_lock(entry.lock_path)
        repository = f"{catalog.config.registry}/{name}"
        tag = version_tag(lock, entry.spec.version_from)
        targets.append(
            BuildTarget(
                name=name,
                context=catalog.relative(entry.directory),
                dockerfile=catalog.relative(entry.dockerfile_path),
                repository=repository,
                tags=(LATEST_TAG,) if tag is None else (LATEST_TAG, tag),
                platforms=platforms,
                depends_on=graph[name],
                bases=_base_references(catalog, graph[name], lock),
            )
        )
    return targets


def _base_references(
    catalog: Catalog, dependencies: tuple[str, ...], lock: Lock | None
) -> dict[str, str]:
    """Map each catalog base to the pinned reference its Dockerfile names in `FROM`."""
    pinned: dict[str, str] = {}
    if lock is not None:
        for locked in lock.inputs.values():
            if isinstance(locked, LockedImage) and locked.declared in dependencies:
                pinned[locked.declared] = locked.pinned
    return {
        name: pinned.get(name, f"{catalog.config.registry}/{name}:{LATEST_TAG}")
        for name in dependencies
    }
