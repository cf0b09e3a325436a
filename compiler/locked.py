"""Locked inputs: what each declared input resolved to, with provenance.

Each kind serialises to and from the lockfile, lists its materials (the flat
name-to-version map that diffs are built from), and offers the value templates see.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from compiler.locked_releases import (
    LockedAlpineRelease,
    LockedGoRelease,
    LockedNpm,
    LockedPostgresRelease,
    LockedPypi,
    LockedUrlChecksum,
    LockedUrlRegex,
)


class LockedInput(Protocol):
    kind: ClassVar[str]

    def to_json(self) -> dict[str, Any]: ...

    def materials(self) -> dict[str, str]: ...

    def template_value(self, architectures: tuple[str, ...]) -> Any: ...


@dataclass(frozen=True)
class LockedImage:
    """An image reference pinned to the digest of its index or manifest."""

    kind: ClassVar[str] = "image"
    declared: str  # what the spec wrote: a catalog image name or a reference
    reference: str  # the reference resolved: the catalog's registry path for catalog images
    digest: str
    media_type: str
    platforms: tuple[str, ...]
    source: str  # the manifest URL the digest was read from

    @property
    def pinned(self) -> str:
        return f"{self.reference}@{self.digest}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "declared": self.declared,
            "reference": self.reference,
            "digest": self.digest,
            "media_type": self.media_type,
            "platforms": list(self.platforms),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedImage:
        return cls(
            declared=data["declared"],
            reference=data["reference"],
            digest=data["digest"],
            media_type=data["media_type"],
            platforms=tuple(data["platforms"]),
            source=data["source"],
        )

    def materials(self) -> dict[str, str]:
        return {f"image:{self.declared}": self.digest}

    def template_value(self, architectures: tuple[str, ...]) -> ImageValue:
        return ImageValue(self)


class ImageValue:
    """`inputs.NAME` for an image: renders as `REPO:TAG@sha256:...`."""

    def __init__(self, locked: LockedImage) -> None:
        self.reference = locked.reference
        self.digest = locked.digest
        self.pinned = locked.pinned
        self.platforms = locked.platforms

    def __str__(self) -> str:
        return self.pinned


@dataclass(frozen=True)
class LockedPackage:
    """One Alpine package of a closure."""

    name: str
    version: str
    checksum: str  # the index's `C:` value, the SHA-1 of the package's control segment
    repository: str  # URL of the index it came from

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "checksum": self.checksum,
            "repository": self.repository,
        }


@dataclass(frozen=True)
class IndexRecord:
    """Provenance of one APKINDEX the packages were resolved from."""

    url: str
    sha256: str
    description: str
    signed_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sha256": self.sha256,
            "description": self.description,
            "signed_by": self.signed_by,
        }


@dataclass(frozen=True)
class LockedPackages:
    """The whole dependency closure of an Alpine world, per architecture."""

    kind: ClassVar[str] = "alpine_packages"
    world: tuple[str, ...]
    architectures: Mapping[str, tuple[LockedPackage, ...]]  # sorted by name
    required_by: Mapping[str, tuple[str, ...]]  # package name -> what pulled it in
    indexes: tuple[IndexRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "world": list(self.world),
            "architectures": {
                arch: [package.to_json() for package in packages]
                for arch, packages in self.architectures.items()
            },
            "required_by": {name: list(parents) for name, parents in self.required_by.items()},
            "indexes": [index.to_json() for index in self.indexes],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedPackages:
        return cls(
            world=tuple(data["world"]),
            architectures={
                arch: tuple(LockedPackage(**package) for package in packages)
                for arch, packages in data["architectures"].items()
            },
            required_by={name: tuple(parents) for name, parents in data["required_by"].items()},
            indexes=tuple(IndexRecord(**index) for index in data["indexes"]),
        )

    def materials(self) -> dict[str, str]:
        # Versions agree across architectures (the resolver rejects a lock where they do not).
        result: dict[str, str] = {}
        for packages in self.architectures.values():
            for package in packages:
                result.setdefault(f"apk:{package.name}", package.version)
        return result

    def template_value(self, architectures: tuple[str, ...]) -> PackagesValue:
        return PackagesValue(self, architectures)


@dataclass(frozen=True)
class PackageValue:
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}={self.version}"


class PackagesValue:
    """`inputs.NAME` for Alpine packages: renders as sorted `name=version` pins.

    Iterating yields objects with `name` and `version`; `arch.ARCH` is the list of
    one architecture.
    """

    def __init__(self, locked: LockedPackages, architectures: tuple[str, ...]) -> None:
        self.arch = {
            arch: [PackageValue(package.name, package.version) for package in packages]
            for arch, packages in locked.architectures.items()
        }
        merged: dict[str, PackageValue] = {}
        for arch in architectures:
            for package in self.arch.get(arch, []):
                merged.setdefault(package.name, package)
        self.packages = [merged[name] for name in sorted(merged)]
        self.world = list(locked.world)

    def __iter__(self) -> Iterator[PackageValue]:
        return iter(self.packages)

    def __len__(self) -> int:
        return len(self.packages)

    def __str__(self) -> str:
        return " ".join(str(package) for package in self.packages)


@dataclass(frozen=True)
class LockedGitTag:
    """The latest tag of a git repository, with the commit it points at."""

    kind: ClassVar[str] = "git_tag"
    url: str
    tag: str
    version: str
    commit: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "tag": self.tag,
            "version": self.version,
            "commit": self.commit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedGitTag:
        return cls(url=data["url"], tag=data["tag"], version=data["version"], commit=data["commit"])

    def materials(self) -> dict[str, str]:
        return {f"git:{self.url}": self.tag}

    def template_value(self, architectures: tuple[str, ...]) -> GitTagValue:
        return GitTagValue(self)


class GitTagValue:
    """`inputs.NAME` for a git tag: renders as the tag."""

    def __init__(self, locked: LockedGitTag) -> None:
        self.url = locked.url
        self.tag = locked.tag
        self.version = locked.version
        self.commit = locked.commit

    def __str__(self) -> str:
        return self.tag


# Lockfile readers by the `kind` stored in each locked input.
LOCKED_KINDS: dict[str, Any] = {
    LockedImage.kind: LockedImage,
    LockedPackages.kind: LockedPackages,
    LockedGitTag.kind: LockedGitTag,
    LockedAlpineRelease.kind: LockedAlpineRelease,
    LockedGoRelease.kind: LockedGoRelease,
    LockedPostgresRelease.kind: LockedPostgresRelease,
    LockedUrlRegex.kind: LockedUrlRegex,
    LockedUrlChecksum.kind: LockedUrlChecksum,
    LockedPypi.kind: LockedPypi,
    LockedNpm.kind: LockedNpm,
}


def locked_from_json(data: Mapping[str, Any]) -> LockedInput:
    """Read one locked input; raises KeyError or TypeError on malformed data."""
    reader = LOCKED_KINDS[data["kind"]]
    locked: LockedInput = reader.from_json(data)
    return locked
