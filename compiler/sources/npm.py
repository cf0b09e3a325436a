"""npm packages: the registry's package document `BASE/NAME`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from compiler.locked_releases import LockedNpm
from compiler.sources.documents import DocumentInvalidError, parse_json, require_text
from compiler.sources.http import HttpClient
from compiler.versions import VersionPolicy, select_latest

logger = logging.getLogger(__name__)

# The abbreviated document, which npm sends when asked for it, still contains every `dist`.
ABBREVIATED_DOCUMENT = "application/vnd.npm.install-v1+json"


@dataclass(frozen=True)
class NpmDist:
    """The tarball URL of one version and the checksums the registry publishes for it."""

    tarball: str
    integrity: str  # `sha512-BASE64`, empty for versions published without one
    shasum: str


def parse_npm_document(content: bytes, *, source: str) -> dict[str, NpmDist]:
    """Parse a package document into version -> `dist`.

    Raises DocumentInvalidError when `versions` is missing or a version lacks its tarball
    or shasum. Versions published before npm added `integrity` get an empty one.
    """
    document = parse_json(content, source=source)
    versions = document.get("versions") if isinstance(document, dict) else None
    if not isinstance(versions, dict):
        raise DocumentInvalidError(f"{source} has no `versions` mapping")

    parsed = {}
    for version, manifest in versions.items():
        dist = manifest.get("dist") if isinstance(manifest, dict) else None
        item = f"the dist of {version}"
        parsed[version] = NpmDist(
            tarball=require_text(dist, "tarball", source=source, item=item),
            integrity=str(dist.get("integrity") or "") if isinstance(dist, dict) else "",
            shasum=require_text(dist, "shasum", source=source, item=item),
        )
    return parsed


def package_url(base: str, package: str) -> str:
    # A scoped name keeps its "@" and encodes its "/", as the registry expects.
    return f"{base.rstrip('/')}/{quote(package, safe='@')}"


def resolve_npm(http: HttpClient, *, base: str, package: str, policy: VersionPolicy) -> LockedNpm:
    """Pin the latest version of `package` that `policy` accepts.

    Raises FetchError, DocumentInvalidError or NoMatchingVersionError.
    """
    url = package_url(base, package)
    response = http.fetch(url, headers={"Accept": ABBREVIATED_DOCUMENT})
    versions = parse_npm_document(response.content, source=url)
    version = select_latest(versions, policy, source=f"npm package {package}")
    dist = versions[version]
    logger.info("npm %s is %s", package, version)
    return LockedNpm(
        package=package,
        version=version,
        tarball=dist.tarball,
        integrity=dist.integrity,
        shasum=dist.shasum,
    )
