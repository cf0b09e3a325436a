"""Alpine packages: the mirror's signed APKINDEX files and the apk solver over them."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence

from compiler.apk.index import read_index_archive
from compiler.apk.keys import KeyRing
from compiler.apk.solver import Repository, find_arch_differences, solve_architectures
from compiler.locked import IndexRecord, LockedPackage, LockedPackages
from compiler.sources.http import HttpClient, redact_url
from compiler.sources.once import OnceMap
from spec.errors import PinwrightError
from spec.models import AlpineConfig

logger = logging.getLogger(__name__)


class PackageVersionsDifferError(PinwrightError):
    """A package resolves to different versions on different architectures."""


class AlpineSource:
    """Resolve Alpine worlds against one branch of a mirror, for several architectures.

    Each index is downloaded, verified and parsed once per run, however many
    images ask for it.
    """

    def __init__(self, http: HttpClient, config: AlpineConfig, keyring: KeyRing) -> None:
        self.http = http
        self.config = config
        self.keyring = keyring
        self._repositories: OnceMap[tuple[Repository, IndexRecord]] = OnceMap()

    def index_url(self, repository: str, arch: str) -> str:
        return f"{self.config.mirror}/{self.config.branch}/{repository}/{arch}/APKINDEX.tar.gz"

    def load_repository(self, repository: str, arch: str) -> tuple[Repository, IndexRecord]:
        """Return the parsed index of one repository and architecture, with its provenance."""
        url = self.index_url(repository, arch)
        return self._repositories.get(url, lambda: self._download(url, repository))

    def _download(self, url: str, repository: str) -> tuple[Repository, IndexRecord]:
        response = self.http.fetch(url, kind="index")
        # The lock names the index without any user name or password the mirror URL holds.
        public_url = redact_url(url)
        index = read_index_archive(
            response.content,
            source=public_url,
            keys=self.keyring,
            allow_unsigned=repository in self.config.unsigned,
        )
        logger.info("loaded %s: %d packages", public_url, len(index.packages))
        record = IndexRecord(
            url=public_url,
            sha256=hashlib.sha256(response.content).hexdigest(),
            description=index.description,
            signed_by=index.signed_by,
        )
        return Repository(packages=index.packages, name=public_url), record

    def resolve(self, world: Sequence[str], architectures: Sequence[str]) -> LockedPackages:
        """Resolve `world` on every architecture; raises when versions differ between them."""
        repositories: dict[str, list[Repository]] = {}
        records: list[IndexRecord] = []
        for arch in architectures:
            repositories[arch] = []
            for name in self.config.repositories:
                repository, record = self.load_repository(name, arch)
                repositories[arch].append(repository)
                records.append(record)

        solutions = solve_architectures(list(world), repositories)
        differences = find_arch_differences(solutions)
        if differences:
            raise PackageVersionsDifferError(_describe_differences(differences))

        locked: dict[str, tuple[LockedPackage, ...]] = {}
        required_by: dict[str, tuple[str, ...]] = {}
        for arch in architectures:
            solution = solutions[arch]
            chosen = {id(package) for package in solution.packages.values()}
            repository_of = {
                id(package): repository.name
                for repository in reversed(repositories[arch])
                for package in repository.packages
                if id(package) in chosen
            }
            locked[arch] = tuple(
                LockedPackage(
                    name=package.name,
                    version=package.version,
                    checksum=package.checksum or "",
                    repository=repository_of.get(id(package), ""),
                )
                for _, package in sorted(solution.packages.items())
            )
            for name, parents in solution.required_by.items():
                merged = set(required_by.get(name, ())) | set(parents)
                required_by[name] = tuple(sorted(merged))
        return LockedPackages(
            world=tuple(world),
            architectures=locked,
            required_by=dict(sorted(required_by.items())),
            indexes=tuple(records),
        )


def _describe_differences(differences: Mapping[str, Mapping[str, str]]) -> str:
    parts = []
    for name, versions in sorted(differences.items()):
        listed = ", ".join(f"{arch} {version}" for arch, version in sorted(versions.items()))
        parts.append(f"{name} ({listed})")
    return "package versions differ between architectures: " + "; ".join(parts)
