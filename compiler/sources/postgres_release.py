"""PostgreSQL releases: the source listing's `vVERSION/` folders and their `.sha256` files."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from html.parser import HTMLParser
from urllib.parse import urljoin

from compiler.locked_releases import LockedPostgresRelease, ReleaseFile
from compiler.sources.documents import parse_sha256_file
from compiler.sources.http import HttpClient
from compiler.versions import VersionPolicy, select_latest

logger = logging.getLogger(__name__)


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        for name, value in attrs:
            if name == "href" and value:
                self.links.append(value)


def parse_postgres_listing(content: bytes) -> list[str]:
    """Return the versions of the `vVERSION/` folder links of the listing page, in page order."""
    collector = _LinkCollector()
    collector.feed(content.decode("utf-8", errors="replace"))
    collector.close()
    versions = []
    for link in collector.links:
        name = link.rstrip("/").rsplit("/", 1)[-1]
        if link.endswith("/") and name.startswith("v") and name[1:2].isdigit():
            versions.append(name[1:])
    return versions


def archive_name(version: str, archive: str) -> str:
    return f"postgresql-{version}.{archive}"


def resolve_postgres_release(
    http: HttpClient,
    *,
    listing: str,
    policy: VersionPolicy,
    major: int,
    archive: str,
    architectures: Sequence[str],
) -> LockedPostgresRelease:
    """Pin the latest release of `major` and the sha256 of its source archive.

    The sha256 comes from `ARCHIVE.sha256`, published next to the archive; the archive
    itself is not downloaded. Raises FetchError, NoMatchingVersionError or
    DocumentInvalidError.
    """
    response = http.fetch(listing)
    versions = parse_postgres_listing(response.content)
    version = select_latest(versions, policy, source=f"PostgreSQL {major} in {listing}")

    name = archive_name(version, archive)
    url = urljoin(listing, f"v{version}/{name}")
    checksum = http.fetch(url + ".sha256")
    sha256 = parse_sha256_file(checksum.content, name, source=url + ".sha256")
    logger.info("postgres %d is %s", major, version)
    file = ReleaseFile(url=url, sha256=sha256)
    return LockedPostgresRelease(
        major=major,
        version=version,
        listing=listing,
        architectures={arch: file for arch in architectures},
    )
