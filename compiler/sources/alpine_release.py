"""Alpine releases: the mirror's `releases/ARCH/latest-releases.yaml` per architecture."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from compiler.locked_releases import LockedAlpineRelease, ReleaseFile
from compiler.sources.documents import (
    DocumentInvalidError,
    parse_yaml,
    require_sha256,
    require_text,
)
from compiler.sources.http import HttpClient
from spec.errors import PinwrightError

logger = logging.getLogger(__name__)

RELEASES_FILE = "latest-releases.yaml"


class AlpineReleaseNotFoundError(PinwrightError):
    """A branch has no release of the requested flavor for an architecture."""


class AlpineReleaseVersionsDifferError(PinwrightError):
    """The latest release of a flavor has different versions on different architectures."""


@dataclass(frozen=True)
class AlpineReleaseEntry:
    """One entry of `latest-releases.yaml`."""

    branch: str
    arch: str
    flavor: str  # as the file writes it, such as "alpine-minirootfs"
    version: str
    file: str
    sha256: str


def parse_latest_releases(content: bytes, *, source: str) -> list[AlpineReleaseEntry]:
    """Parse a `latest-releases.yaml` document into its entries.

    Raises DocumentInvalidError when the document is not a list of mappings with the
    `branch`, `arch`, `flavor`, `version`, `file` and `sha256` fields.
    """
    document = parse_yaml(content, source=source)
    if not isinstance(document, list):
        raise DocumentInvalidError(f"{source} is not a list of releases")

    entries = []
    for position, record in enumerate(document, start=1):
        item = f"release {position}"
        entries.append(
            AlpineReleaseEntry(
                branch=str(record.get("branch", "")) if isinstance(record, dict) else "",
                arch=require_text(record, "arch", source=source, item=item),
                flavor=require_text(record, "flavor", source=source, item=item),
                version=require_text(record, "version", source=source, item=item),
                file=require_text(record, "file", source=source, item=item),
                sha256=require_sha256(record.get("sha256"), source=source, item=item),
            )
        )
    return entries


def select_flavor(
    entries: Sequence[AlpineReleaseEntry], flavor: str, arch: str
) -> AlpineReleaseEntry | None:
    """Return the entry of `flavor` for `arch`, accepting `minirootfs` for `alpine-minirootfs`."""
    for entry in entries:
        if entry.arch == arch and entry.flavor in (flavor, f"alpine-{flavor}"):
            return entry
    return None


def releases_url(mirror: str, branch: str, arch: str) -> str:
    return f"{mirror.rstrip('/')}/{branch}/releases/{arch}/{RELEASES_FILE}"


def resolve_alpine_release(
    http: HttpClient, *, mirror: str, branch: str, flavor: str, architectures: Sequence[str]
) -> LockedAlpineRelease:
    """Pin the latest release of `flavor` on `branch` for every architecture.

    File URLs use the branch the document names (`v3.20` rather than `latest-stable`), so
    they stay valid when the branch alias moves. Raises FetchError, DocumentInvalidError,
    AlpineReleaseNotFoundError, or AlpineReleaseVersionsDifferError.
    """
    chosen: dict[str, AlpineReleaseEntry] = {}
    for arch in architectures:
        url = releases_url(mirror, branch, arch)
        response = http.fetch(url)
        entry = select_flavor(parse_latest_releases(response.content, source=url), flavor, arch)
        if entry is None:
            raise AlpineReleaseNotFoundError(
                f"{url} lists no {flavor} release for {arch}; check the flavor and branch"
            )
        chosen[arch] = entry

    versions = {entry.version for entry in chosen.values()}
    if len(versions) > 1:
        listed = ", ".join(f"{arch} {entry.version}" for arch, entry in chosen.items())
        raise AlpineReleaseVersionsDifferError(
            f"the latest {flavor} release of {branch} differs between architectures: {listed}"
        )

    files = {}
    for arch, entry in chosen.items():
        folder = entry.branch or branch
        url = f"{mirror.rstrip('/')}/{folder}/releases/{arch}/{entry.file}"
        files[arch] = ReleaseFile(url=url, sha256=entry.sha256)
    first = chosen[architectures[0]]
    logger.info("alpine %s %s on %s is %s", flavor, branch, ", ".join(chosen), first.version)
    return LockedAlpineRelease(
        branch=first.branch or branch, flavor=flavor, version=first.version, architectures=files
    )
