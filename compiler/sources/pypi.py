"""PyPI projects: the JSON API document `BASE/NAME/json`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from compiler.locked_releases import DistributionFile, LockedPypi
from compiler.sources.documents import (
    DocumentInvalidError,
    parse_json,
    require_sha256,
    require_text,
)
from compiler.sources.http import HttpClient
from compiler.versions import VersionPolicy, select_latest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PypiProject:
    """A project's releases: version to its files that are not yanked, sorted by name."""

    name: str
    releases: dict[str, tuple[DistributionFile, ...]]


def parse_pypi_project(content: bytes, *, source: str) -> PypiProject:
    """Parse the project document of the PyPI JSON API.

    Versions whose files are all yanked, or that have no files, are left out. Raises
    DocumentInvalidError when `info.name` or `releases` is missing or a file lacks its
    name, URL or sha256.
    """
    document = parse_json(content, source=source)
    info = document.get("info") if isinstance(document, dict) else None
    name = require_text(info, "name", source=source, item="the project info")
    releases = document.get("releases")
    if not isinstance(releases, dict):
        raise DocumentInvalidError(f"{source} has no `releases` mapping")

    parsed: dict[str, tuple[DistributionFile, ...]] = {}
    for version, records in releases.items():
        if not isinstance(records, list):
            raise DocumentInvalidError(f"{source}: release {version} is not a list of files")
        files = [
            _parse_file(record, version, source)
            for record in records
            if not (isinstance(record, dict) and record.get("yanked") is True)
        ]
        if files:
            parsed[version] = tuple(sorted(files, key=lambda file: file.filename))
    return PypiProject(name=name, releases=parsed)


def _parse_file(record: object, version: str, source: str) -> DistributionFile:
    item = f"a file of {version}"
    filename = require_text(record, "filename", source=source, item=item)
    assert isinstance(record, dict)
    digests = record.get("digests")
    sha256 = digests.get("sha256") if isinstance(digests, dict) else None
    return DistributionFile(
        filename=filename,
        url=require_text(record, "url", source=source, item=filename),
        sha256=require_sha256(sha256, source=source, item=filename),
        packagetype=str(record.get("packagetype") or ""),
    )


def project_url(base: str, project: str) -> str:
    return f"{base.rstrip('/')}/{quote(project)}/json"


def resolve_pypi(http: HttpClient, *, base: str, project: str, policy: VersionPolicy) -> LockedPypi:
    """Pin the latest version of `project` that `policy` accepts and its files.

    Raises FetchError, DocumentInvalidError or NoMatchingVersionError.
    """
    url = project_url(base, project)
    parsed = parse_pypi_project(http.fetch(url).content, source=url)
    version = select_latest(parsed.releases, policy, source=f"PyPI project {project}")
    logger.info("pypi %s is %s", project, version)
    return LockedPypi(project=parsed.name, version=version, files=parsed.releases[version])
