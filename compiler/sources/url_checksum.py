"""The sha256 of downloaded files, so a Dockerfile can verify what it fetches."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

from compiler.locked_releases import LockedUrlChecksum, ReleaseFile
from compiler.sources.http import HttpClient

logger = logging.getLogger(__name__)


def resolve_url_checksum(
    http: HttpClient, *, name: str, template: str, urls: Mapping[str, str]
) -> LockedUrlChecksum:
    """Download the URL of each architecture once and record its sha256.

    `urls` maps each architecture to its rendered URL; architectures sharing a URL share
    one download. Raises FetchError.

    NOTE: the HTTP client keeps the whole body in memory and in the disk cache, up to the
    2 GiB limit of the "archive" kind.
    """
    digests: dict[str, str] = {}
    files = {}
    for arch, url in urls.items():
        if url not in digests:
            digests[url] = hashlib.sha256(http.fetch(url, kind="archive").content).hexdigest()
        files[arch] = ReleaseFile(url=url, sha256=digests[url])
    logger.info("%s: hashed %d file(s)", name, len(digests))
    return LockedUrlChecksum(name=name, template=template, architectures=files)
