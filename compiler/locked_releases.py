"""Locked upstream releases, package versions and downloaded files.

Release inputs (`alpine_release`, `go_release`, `postgres_release`) pin a version and one
file per catalog architecture. An architecture-independent file, such as a source
tarball, is listed under every architecture, so templates read all of them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ReleaseFile:
    """One downloadable file and the sha256 that verifies it."""

    url: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReleaseFile:
        return cls(url=data["url"], sha256=data["sha256"])


def files_to_json(files: Mapping[str, ReleaseFile]) -> dict[str, Any]:
    return {arch: file.to_json() for arch, file in files.items()}


def files_from_json(data: Mapping[str, Any]) -> dict[str, ReleaseFile]:
    return {arch: ReleaseFile.from_json(file) for arch, file in data.items()}


class FileValue:
    """`inputs.NAME.arch.ARCH`: the `url` and `sha256` of one architecture's file."""

    def __init__(self, file: ReleaseFile) -> None:
        self.url = file.url
        self.sha256 = file.sha256


class ReleaseValue:
    """`inputs.NAME` for a release: renders as the version.

    `url` and `sha256` are those of the catalog's first architecture, and `arch.ARCH`
    contains them for every architecture.
    """

    def __init__(
        self, version: str, files: Mapping[str, ReleaseFile], architectures: tuple[str, ...]
    ) -> None:
        self.version = version
        # The catalog's order, not the lockfile's sorted one, so loops follow the config.
        order = [arch for arch in architectures if arch in files]
        order += sorted(arch for arch in files if arch not in architectures)
        self.arch = {arch: FileValue(files[arch]) for arch in order}
        self.url = files[order[0]].url
        self.sha256 = files[order[0]].sha256

    def __str__(self) -> str:
        return self.version


@dataclass(frozen=True)
class LockedAlpineRelease:
    """One flavor of the latest release of an Alpine branch, per architecture."""

    kind: ClassVar[str] = "alpine_release"
    branch: str
    flavor: str
    version: str
    architectures: Mapping[str, ReleaseFile]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "branch": self.branch,
            "flavor": self.flavor,
            "version": self.version,
            "architectures": files_to_json(self.architectures),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedAlpineRelease:
        return cls(
            branch=data["branch"],
            flavor=data["flavor"],
            version=data["version"],
            architectures=files_from_json(data["architectures"]),
        )

    def materials(self) -> dict[str, str]:
        return {f"alpine_release:{self.flavor}": self.version}

    def template_value(self, architectures: tuple[str, ...]) -> ReleaseValue:
        return ReleaseValue(self.version, self.architectures, architectures)


@dataclass(frozen=True)
class LockedGoRelease:
    """A Go release and its source archive or per-architecture Linux archives."""

    kind: ClassVar[str] = "go_release"
    version: str  # without the "go" prefix of the listing: "1.23.4"
    file: str  # "archive" or "source"
    listing: str  # URL of the download listing the release was read from
    architectures: Mapping[str, ReleaseFile]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "file": self.file,
            "listing": self.listing,
            "architectures": files_to_json(self.architectures),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedGoRelease:
        return cls(
            version=data["version"],
            file=data["file"],
            listing=data["listing"],
            architectures=files_from_json(data["architectures"]),
        )

    def materials(self) -> dict[str, str]:
        return {"go:go": self.version}

    def template_value(self, architectures: tuple[str, ...]) -> ReleaseValue:
        return ReleaseValue(self.version, self.architectures, architectures)


@dataclass(frozen=True)
class LockedPostgresRelease:
    """The latest minor release of a PostgreSQL major version and its source archive."""

    kind: ClassVar[str] = "postgres_release"
    major: int
    version: str
    listing: str  # URL of the source listing the version was read from
    architectures: Mapping[str, ReleaseFile]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "major": self.major,
            "version": self.version,
            "listing": self.listing,
            "architectures": files_to_json(self.architectures),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedPostgresRelease:
        return cls(
            major=data["major"],
            version=data["version"],
            listing=data["listing"],
            architectures=files_from_json(data["architectures"]),
        )

    def materials(self) -> dict[str, str]:
        return {f"postgres:{self.major}": self.version}

    def template_value(self, architectures: tuple[str, ...]) -> ReleaseValue:
        return ReleaseValue(self.version, self.architectures, architectures)


@dataclass(frozen=True)
class DistributionFile:
    """One file of a PyPI release: an sdist or a wheel."""

    filename: str
    url: str
    sha256: str
    packagetype: str  # "sdist", "bdist_wheel", ... as PyPI names it

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "url": self.url,
            "sha256": self.sha256,
            "packagetype": self.packagetype,
        }


@dataclass(frozen=True)
class LockedPypi:
    """The latest version of a PyPI project and every file of that release."""

    kind: ClassVar[str] = "pypi"
    project: str
    version: str
    files: tuple[DistributionFile, ...]  # sorted by file name

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "project": self.project,
            "version": self.version,
            "files": [file.to_json() for file in self.files],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedPypi:
        return cls(
            project=data["project"],
            version=data["version"],
            files=tuple(DistributionFile(**file) for file in data["files"]),
        )

    def materials(self) -> dict[str, str]:
        return {f"pypi:{self.project}": self.version}

    def template_value(self, architectures: tuple[str, ...]) -> PypiValue:
        return PypiValue(self)


class PypiValue:
    """`inputs.NAME` for a PyPI project: renders as the version.

    `url` and `sha256` are those of the sdist, or of the first wheel when the release has
    no sdist. `hashes` lists the sha256 of every file, for `pip install --hash`.
    """

    def __init__(self, locked: LockedPypi) -> None:
        self.project = locked.project
        self.version = locked.version
        self.files = list(locked.files)
        self.hashes = [file.sha256 for file in locked.files]
        main = next((file for file in locked.files if file.packagetype == "sdist"), None)
        if main is None and locked.files:
            main = locked.files[0]
        self.url = main.url if main is not None else ""
        self.sha256 = main.sha256 if main is not None else ""

    def __str__(self) -> str:
        return self.version


@dataclass(frozen=True)
class LockedNpm:
    """The latest version of an npm package and the checksums the registry publishes."""

    kind: ClassVar[str] = "npm"
    package: str
    version: str
    tarball: str
    integrity: str  # Subresource Integrity string, `sha512-BASE64`, as npm verifies it
    shasum: str  # SHA-1 of the tarball, in hex

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "package": self.package,
            "version": self.version,
            "tarball": self.tarball,
            "integrity": self.integrity,
            "shasum": self.shasum,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedNpm:
        return cls(
            package=data["package"],
            version=data["version"],
            tarball=data["tarball"],
            integrity=data["integrity"],
            shasum=data["shasum"],
        )

    def materials(self) -> dict[str, str]:
        return {f"npm:{self.package}": self.version}

    def template_value(self, architectures: tuple[str, ...]) -> NpmValue:
        return NpmValue(self)


class NpmValue:
    """`inputs.NAME` for an npm package: renders as the version.

    The registry publishes no sha256, so the value offers `integrity` and `shasum`.
    """

    def __init__(self, locked: LockedNpm) -> None:
        self.package = locked.package
        self.version = locked.version
        self.url = locked.tarball
        self.tarball = locked.tarball
        self.integrity = locked.integrity
        self.shasum = locked.shasum

    def __str__(self) -> str:
        return self.version


@dataclass(frozen=True)
class LockedUrlRegex:
    """A value read from a web page by a regular expression."""

    kind: ClassVar[str] = "url_regex"
    name: str  # the input's name, shown in materials and reports
    url: str
    regex: str
    value: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "url": self.url,
            "regex": self.regex,
            "value": self.value,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedUrlRegex:
        return cls(name=data["name"], url=data["url"], regex=data["regex"], value=data["value"])

    def materials(self) -> dict[str, str]:
        return {f"url:{self.name}": self.value}

    def template_value(self, architectures: tuple[str, ...]) -> UrlRegexValue:
        return UrlRegexValue(self)


class UrlRegexValue:
    """`inputs.NAME` for a scraped value: renders as the captured text, also `version`."""

    def __init__(self, locked: LockedUrlRegex) -> None:
        self.value = locked.value
        self.version = locked.value
        self.url = locked.url

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class LockedUrlChecksum:
    """The sha256 of a downloaded file, per architecture when its URL names one."""

    kind: ClassVar[str] = "url_checksum"
    name: str  # the input's name, shown in materials and reports
    template: str  # the URL template as declared
    architectures: Mapping[str, ReleaseFile]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "template": self.template,
            "architectures": files_to_json(self.architectures),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockedUrlChecksum:
        return cls(
            name=data["name"],
            template=data["template"],
            architectures=files_from_json(data["architectures"]),
        )

    def materials(self) -> dict[str, str]:
        files = list(self.architectures.items())
        if len({file.url for _, file in files}) == 1:
            return {f"url:{self.name}": files[0][1].sha256}
        return {f"url:{self.name}:{arch}": file.sha256 for arch, file in files}

    def template_value(self, architectures: tuple[str, ...]) -> ChecksumValue:
        return ChecksumValue(self, architectures)


class ChecksumValue:
    """`inputs.NAME` for a downloaded file: renders as the sha256 of the first architecture."""

    def __init__(self, locked: LockedUrlChecksum, architectures: tuple[str, ...]) -> None:
        release = ReleaseValue("", locked.architectures, architectures)
        self.arch = release.arch
        self.url = release.url
        self.sha256 = release.sha256

    def __str__(self) -> str:
        return self.sha256
