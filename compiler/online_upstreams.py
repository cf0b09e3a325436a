"""`check --online` for release, package registry and URL inputs.

Each locked file URL of a release or `url_checksum` input must still respond to a HEAD,
or to a GET of its first byte when the server rejects HEAD, with a 2xx status. A PyPI or npm
version must still be listed in the project or package document, and a `url_regex` page
must still yield the locked value.

The network modules are imported inside the functions, so that offline commands, which
import this module through `compiler.online`, never load requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compiler.findings import Finding, Rule
from compiler.locked import LockedInput
from compiler.locked_releases import (
    LockedAlpineRelease,
    LockedGoRelease,
    LockedNpm,
    LockedPostgresRelease,
    LockedPypi,
    LockedUrlChecksum,
    LockedUrlRegex,
    ReleaseFile,
)
from compiler.sources.once import OnceMap
from spec.errors import PinwrightError

if TYPE_CHECKING:
    from compiler.resolve import Sources
    from compiler.sources.http import HttpClient

logger = logging.getLogger(__name__)

UPSTREAM_RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("release-vanished", "error", "A locked release file is no longer served."),
        Rule("url-vanished", "error", "A locked download URL is no longer served."),
        Rule(
            "package-version-vanished",
            "error",
            "A locked PyPI or npm version is no longer listed by its registry.",
        ),
        Rule(
            "url-value-changed",
            "warning",
            "A page no longer yields the value locked from it.",
        ),
    )
}

SUCCESS = frozenset(range(200, 300))
# Statuses that mean a file or document is not there (RFC 9110 sections 15.5.5, 15.5.11).
GONE = frozenset({404, 410})
# Statuses after which a HEAD is sent again as a GET of the first byte: 405 and 501 for
# servers that do not allow HEAD, 403 for object stores whose signed URLs allow GET alone.
HEAD_REJECTED = frozenset({403, 405, 501})

Report = Callable[[str, str], Finding]
Check = Callable[[], list[Finding]]


@dataclass
class UpstreamChecks:
    """The HTTP client of one `check --online` run, and the probe of each URL, made once."""

    sources: Sources
    probes: OnceMap[None] = field(default_factory=OnceMap)

    def checks_for(self, locked: LockedInput, report: Report) -> list[Check]:
        """Return the checks of a release, package registry or URL input; [] for other kinds."""
        if isinstance(locked, LockedAlpineRelease | LockedGoRelease | LockedPostgresRelease):
            return self._file_checks(locked.architectures, "release-vanished", report)
        if isinstance(locked, LockedUrlChecksum):
            return self._file_checks(locked.architectures, "url-vanished", report)
        upstreams = self.sources.catalog.config.upstreams
        http = self.sources.http
        if isinstance(locked, LockedPypi):
            return [lambda: check_pypi(http, upstreams.pypi, locked, report)]
        if isinstance(locked, LockedNpm):
            return [lambda: check_npm(http, upstreams.npm, locked, report)]
        if isinstance(locked, LockedUrlRegex):
            return [lambda: check_url_regex(http, locked, report)]
        return []

    def _file_checks(
        self, files: Mapping[str, ReleaseFile], rule: str, report: Report
    ) -> list[Check]:
        urls = sorted({file.url for file in files.values()})
        return [self._bind_file_check(url, rule, report) for url in urls]

    def _bind_file_check(self, url: str, rule: str, report: Report) -> Check:
        return lambda: self.check_file(url, rule, report)

    def check_file(self, url: str, rule: str, report: Report) -> list[Finding]:
        """Report `rule` when `url` returns 404 or 410, `upstream-unreachable` on other failures."""
        from compiler.sources.http import FetchError

        try:
            self.probes.get(url, lambda: probe_url(self.sources.http, url))
        except FetchError as error:
            if error.status in GONE:
                return [report(rule, f"{url} returned HTTP {error.status}")]
            return [report("upstream-unreachable", error.message)]
        return []


def probe_url(http: HttpClient, url: str) -> None:
    """Check that `url` responds to a HEAD, or to a GET of its first byte, with a 2xx status.

    Raises FetchError with the status of the last response otherwise.
    """
    from compiler.sources.http import FetchError

    try:
        http.request("HEAD", url, ok_statuses=SUCCESS)
        return
    except FetchError as error:
        if error.status not in HEAD_REJECTED:
            raise
        logger.info("HEAD %s returned HTTP %s, trying a ranged GET", url, error.status)

    try:
        http.request("GET", url, headers={"Range": "bytes=0-0"}, ok_statuses=SUCCESS)
    except FetchError as error:
        # A server that ignores Range sends the whole file. The client stops reading it at
        # the limit of a document, and the 2xx status already shows that the file exists.
        if error.status not in SUCCESS:
            raise


def check_pypi(http: HttpClient, base: str, locked: LockedPypi, report: Report) -> list[Finding]:
    """Report `package-version-vanished` when PyPI no longer lists the locked version.

    A version whose files are all yanked counts as gone, as it does for `lock`.
    """
    from compiler.sources.pypi import parse_pypi_project, project_url

    url = project_url(base, locked.project)
    package = f"PyPI project {locked.project}"
    try:
        project = parse_pypi_project(http.fetch(url).content, source=url)
    except PinwrightError as error:
        return [_document_failure(error, package, url, report)]
    if locked.version in project.releases:
        return []
    message = f"version {locked.version} of {package} is no longer listed, or is yanked, at {url}"
    return [report("package-version-vanished", message)]


def check_npm(http: HttpClient, base: str, locked: LockedNpm, report: Report) -> list[Finding]:
    """Report `package-version-vanished` when the npm registry no longer lists the version."""
    from compiler.sources.npm import ABBREVIATED_DOCUMENT, package_url, parse_npm_document

    url = package_url(base, locked.package)
    package = f"npm package {locked.package}"
    try:
        response = http.fetch(url, headers={"Accept": ABBREVIATED_DOCUMENT})
        versions = parse_npm_document(response.content, source=url)
    except PinwrightError as error:
        return [_document_failure(error, package, url, report)]
    if locked.version in versions:
        return []
    message = f"version {locked.version} of {package} is no longer listed at {url}"
    return [report("package-version-vanished", message)]


def check_url_regex(http: HttpClient, locked: LockedUrlRegex, report: Report) -> list[Finding]:
    """Report `url-value-changed` when the page yields another value, or none."""
    from compiler.sources.http import FetchError
    from compiler.sources.url_regex import UrlRegexNoMatchError, extract_capture

    try:
        content = http.fetch(locked.url).content
    except FetchError as error:
        if error.status in GONE:
            message = f"{locked.url} returned HTTP {error.status}, so the value cannot be read"
            return [report("url-value-changed", message)]
        return [report("upstream-unreachable", error.message)]

    text = content.decode("utf-8", errors="replace")
    try:
        value = extract_capture(text, locked.regex, source=locked.url)
    except UrlRegexNoMatchError as error:
        return [report("url-value-changed", error.message)]
    if value == locked.value:
        return []
    message = f"{locked.url} now yields {value!r}, not the locked {locked.value!r}"
    return [report("url-value-changed", message)]


def _document_failure(error: PinwrightError, package: str, url: str, report: Report) -> Finding:
    """Turn a failed registry document into `package-version-vanished` or unreachable."""
    status = getattr(error, "status", None)
    if status in GONE:
        return report(
            "package-version-vanished", f"{package} is gone: {url} returned HTTP {status}"
        )
    return report("upstream-unreachable", error.message)
