"""Go releases: the go.dev download listing in its JSON form (`?mode=json&include=all`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from compiler.locked_releases import LockedGoRelease, ReleaseFile
from compiler.sources.documents import (
    DocumentInvalidError,
    parse_json,
    require_sha256,
    require_text,
)
from compiler.sources.http import HttpClient
from compiler.versions import VersionPolicy, select_latest
from spec.errors import PinwrightError

logger = logging.getLogger(__name__)

# apk architecture names and the GOARCH of the Linux archive each one runs. Go publishes
# 32-bit ARM archives for ARMv6 only, which also run on ARMv7.
GO_ARCHITECTURES: dict[str, str] = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7": "armv6l",
    "armhf": "armv6l",
    "x86": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loong64",
}


class GoFileNotFoundError(PinwrightError):
    """A Go release has no file of the requested kind for an architecture."""


@dataclass(frozen=True)
class GoFile:
    """One file of a Go release as the listing describes it."""

    filename: str
    os: str
    arch: str
    kind: str  # "archive", "installer" or "source"
    sha256: str


@dataclass(frozen=True)
class GoRelease:
    """One release of the listing; `version` keeps the listing's `go` prefix."""

    version: str
    stable: bool
    files: tuple[GoFile, ...]


def parse_go_listing(content: bytes, *, source: str) -> list[GoRelease]:
    """Parse the JSON download listing into releases.

    Raises DocumentInvalidError when it is not a list of releases with `version` and
    `files`, or a file lacks its name, kind or sha256.
    """
    document = parse_json(content, source=source)
    if not isinstance(document, list):
        raise DocumentInvalidError(f"{source} is not a list of releases")

    releases = []
    for record in document:
        version = require_text(record, "version", source=source, item="a release")
        files = record.get("files")
        if not isinstance(files, list):
            raise DocumentInvalidError(f"{source}: release {version} has no list of files")
        releases.append(
            GoRelease(
                version=version,
                stable=record.get("stable") is True,
                files=tuple(_parse_file(item, version, source) for item in files),
            )
        )
    return releases


def _parse_file(record: object, version: str, source: str) -> GoFile:
    item = f"a file of {version}"
    filename = require_text(record, "filename", source=source, item=item)
    assert isinstance(record, dict)
    return GoFile(
        filename=filename,
        os=str(record.get("os") or ""),
        arch=str(record.get("arch") or ""),
        kind=require_text(record, "kind", source=source, item=f"{filename} in {version}"),
        sha256=require_sha256(record.get("sha256"), source=source, item=filename),
    )


def select_go_release(
    releases: Sequence[GoRelease], policy: VersionPolicy, *, source: str
) -> GoRelease:
    """Return the latest release that `policy` accepts.

    Versions are compared without the `go` prefix. Releases the listing does not mark
    stable count only when the policy allows prereleases. Raises NoMatchingVersionError.
    """
    by_version = {
        release.version.removeprefix("go"): release
        for release in releases
        if release.stable or policy.prerelease
    }
    latest = select_latest(by_version, policy, source=source)
    return by_version[latest]


def find_go_file(release: GoRelease, file: str, arch: str) -> GoFile | None:
    """Return the source archive, or the Linux `.tar.gz` archive for apk architecture `arch`."""
    for candidate in release.files:
        if file == "source" and candidate.kind == "source":
            return candidate
        if (
            file == "archive"
            and candidate.kind == "archive"
            and candidate.os == "linux"
            and candidate.arch == GO_ARCHITECTURES.get(arch)
            and candidate.filename.endswith(".tar.gz")
        ):
            return candidate
    return None


def resolve_go_release(
    http: HttpClient,
    *,
    listing: str,
    policy: VersionPolicy,
    file: str,
    architectures: Sequence[str],
) -> LockedGoRelease:
    """Pin the latest Go release and its `file` ("archive" or "source") per architecture.

    File URLs are the listing's file names resolved against the listing URL. Raises
    FetchError, DocumentInvalidError, NoMatchingVersionError or GoFileNotFoundError.
    """
    response = http.fetch(listing)
    releases = parse_go_listing(response.content, source=listing)
    release = select_go_release(releases, policy, source=listing)

    files = {}
    for arch in architectures:
        found = find_go_file(release, file, arch)
        if found is None:
            expected = "source archive" if file == "source" else f"Linux archive for {arch}"
            raise GoFileNotFoundError(f"{release.version} in {listing} has no {expected}")
        files[arch] = ReleaseFile(url=urljoin(listing, found.filename), sha256=found.sha256)
    logger.info("go release is %s", release.version)
    return LockedGoRelease(
        version=release.version.removeprefix("go"), file=file, listing=listing, architectures=files
    )
