"""The apk dependency solver: pick the packages `apk add WORLD...` would install.

This follows the algorithm of apk-tools' solver (solver.c): constraints are propagated
down from the world, names whose candidates all share a dependency pass it on early,
packages whose dependencies can no longer be met are disqualified, and one name at a
time is then locked to its best provider (allowed pinning, highest version, provider
priority, first repository). It never backtracks; like apk, it reports every package of
its best attempt that breaks a constraint when no consistent choice is left.
Each step only ever disqualifies packages or locks names, so it terminates on any input.
"""

from __future__ import annotations

import binascii
import itertools
import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from compiler.apk.index import ApkPackage, Dependency, InvalidDependencyError, parse_dependency
from compiler.apk.version import (
    FUZZY,
    GREATER,
    LESS,
    OPERATORS,
    Token,
    compare_tokens,
    tokenize_version,
)
from spec.errors import InvalidInputError, PinwrightError

logger = logging.getLogger(__name__)

WORLD = "world"
NO_ARCH = "noarch"


class UnsatisfiableError(PinwrightError):
    """No set of packages meets the world; `lines()` explains it the way apk does."""

    def __init__(self, arch: str, reasons: list[str]) -> None:
        super().__init__(f"unable to select packages for {arch}")
        self.arch = arch
        self.reasons = reasons

    def lines(self) -> list[str]:
        return [f"ERROR: unable to select packages ({self.arch}):", *self.reasons]


class InvalidWorldError(InvalidInputError):
    """A world entry that is not `name(@tag)([<>~=]version)` or names an unknown tag."""


@dataclass(frozen=True, eq=False)
class Repository:
    """The packages of one index. A tagged repository serves only `name@tag` requests."""

    packages: Sequence[ApkPackage]
    name: str
    tag: str | None = None

    @cached_property
    def packages_by_name(self) -> Mapping[str, list[ApkPackage]]:
        """Every package name with its packages, in index order."""
        table = {package.name: [package] for package in self.packages}
        if len(table) == len(self.packages):
            return table
        table = {}
        for package in self.packages:
            entry = table.get(package.name)
            if entry is None:
                table[package.name] = [package]
            else:
                entry.append(package)
        return table

    @cached_property
    def provides_candidates(self) -> Mapping[str, list[ApkPackage]]:
        """Every name with the packages whose raw p: value names it, in index order.

        Built without parsing dependency fields, so loading an index stays cheap. A
        malformed provide only adds a candidate that `providers_of` then drops.
        """
        table: dict[str, list[ApkPackage]] = {}
        for package in [package for package in self.packages if package.provides_text]:
            for word in package.provides_text.split():
                provided = word.partition("=")[0]
                entry = table.get(provided)
                if entry is None:
                    table[provided] = [package]
                else:
                    entry.append(package)
        return table

    @property
    def provider_candidates(self) -> Mapping[str, list[ApkPackage]]:
        """Every name with the packages whose P: or raw p: value names it, in index order."""
        names = dict.fromkeys(self.packages_by_name) | dict.fromkeys(self.provides_candidates)
        return {name: self._candidates_of(name) for name in names}

    def _candidates_of(self, name: str) -> list[ApkPackage]:
        owners = self.packages_by_name.get(name, [])
        providers = self.provides_candidates.get(name)
        if providers is None:
            return owners
        if not owners:
            return list(dict.fromkeys(providers))
        position = self._positions
        candidates = dict.fromkeys([*owners, *providers])
        return sorted(candidates, key=lambda package: position[id(package)])

    @cached_property
    def _positions(self) -> dict[int, int]:
        return dict(zip(map(id, self.packages), itertools.count()))

    def providers_of(self, name: str) -> tuple[tuple[ApkPackage, str | None], ...]:
        """Return the packages that provide `name`, each with the version it provides.

        A package provides its own name at its version; an unversioned provide has None.
        """
        cache = self._provider_cache
        entries = cache.get(name)
        if entries is None:
            found: list[tuple[ApkPackage, str | None]] = []
            for package in self._candidates_of(name):
                if package.name == name:
                    found.append((package, package.version))
                for provide in package.provides:
                    if provide.name == name:
                        found.append((package, provide.version))
            entries = cache[name] = tuple(found)
        return entries

    def first_providers_of(self, name: str) -> tuple[tuple[ApkPackage, str | None], ...]:
        """Return `providers_of(name)` with each package replaced by the first package of
        this index with its identity, without duplicates.

        apk-tools drops an entry whose identity an earlier package has, so an entry whose
        first package has another name is left out.
        """
        cache = self._first_provider_cache
        entries = cache.get(name)
        if entries is None and self._identities_are_distinct:
            # Every package is then the first of its identity.
            entries = self.providers_of(name)
            if len(entries) > 1:
                entries = tuple(dict.fromkeys(entries))
            cache[name] = entries
        if entries is None:
            by_identity = self.packages_by_identity
            found: dict[tuple[ApkPackage, str | None], None] = {}
            for package, version in self.providers_of(name):
                first = by_identity[package_identity(package)]
                if first.name == package.name:
                    found[(first, version)] = None
            entries = cache[name] = tuple(found)
        return entries

    @cached_property
    def _identities_are_distinct(self) -> bool:
        return len(self.packages_by_identity) == len(self.packages)

    @cached_property
    def _first_provider_cache(self) -> dict[str, tuple[tuple[ApkPackage, str | None], ...]]:
        return {}

    @cached_property
    def _provider_cache(self) -> dict[str, tuple[tuple[ApkPackage, str | None], ...]]:
        return {}

    @cached_property
    def providers(self) -> Mapping[str, tuple[tuple[ApkPackage, str | None], ...]]:
        """Every name with its providers, as `providers_of` returns them.

        This parses the dependency fields of every package; a solve uses `providers_of`.
        """
        return {name: self.providers_of(name) for name in self.provider_candidates}

    @cached_property
    def packages_by_identity(self) -> Mapping[object, ApkPackage]:
        """The first package of this index for each identity (see `package_identity`)."""
        return _index_identities(self.packages)

    @cached_property
    def install_if_candidates(self) -> Mapping[str, list[ApkPackage]]:
        """Every name with the packages whose raw i: value may name it.

        Built without parsing dependency fields, so `install_if_dependents_of` drops the
        packages whose parsed install_if does not name it.
        """
        table: dict[str, list[ApkPackage]] = {}
        find_names = _CONDITION_NAME.findall
        for package in self.packages:
            text = package.install_if_text
            if not text:
                continue
            for name in find_names(text):
                entry = table.get(name)
                if entry is None:
                    table[name] = [package]
                elif entry[-1] is not package:
                    entry.append(package)
        return table

    def install_if_dependents_of(self, name: str) -> tuple[str, ...]:
        """Return the names of the packages whose install_if mentions `name`, and what
        those packages provide, in index order."""
        cache = self._install_if_cache
        names = cache.get(name)
        if names is None:
            found: dict[str, None] = {}
            for package in self.install_if_candidates.get(name, ()):
                if any(condition.name == name for condition in package.install_if):
                    found[package.name] = None
                    for provide in package.provides:
                        found[provide.name] = None
            names = cache[name] = tuple(found)
        return names

    @cached_property
    def _install_if_cache(self) -> dict[str, tuple[str, ...]]:
        return {}

    @property
    def install_if_dependents(self) -> Mapping[str, tuple[str, ...]]:
        """Every name with the names of the packages whose install_if mentions it.

        This parses the dependency fields of every package that has an i: field. A solve
        calls `install_if_dependents_of` for the names it reaches instead.
        """
        table = {name: self.install_if_dependents_of(name) for name in self.install_if_candidates}
        return {name: names for name, names in table.items() if names}


# The name in each word of a raw i: value: what follows an optional "!" up to a tag or
# an operator. A word that does not parse still yields a name, which is then dropped.
_CONDITION_NAME = re.compile(r"(?:^|(?<=\s))!?([^<>=~@!\s]+)")


def package_identity(package: ApkPackage) -> object:
    """Return the key apk-tools uses to tell packages apart: the decoded `C:` checksum.

    apk-tools keeps only the first package it loads with a given checksum, across every
    repository, even when a later entry has another name. A `Q1` checksum is base64 of a
    SHA-1 digest and is compared decoded, so spellings that differ only in the unused low
    bits of the last character are one identity. The key of a decodable `Q1` checksum is
    its canonical spelling, the checksum itself in real indexes. A package without `C:` is
    known by its name and version.
    """
    checksum = package.checksum
    if checksum is None:
        return (package.name, package.version)
    if checksum.startswith("Q1"):
        if _CANONICAL_Q1.fullmatch(checksum):
            return checksum
        try:
            decoded = binascii.a2b_base64(checksum[2:])
        except binascii.Error:
            return checksum
        return "Q1" + binascii.b2a_base64(decoded, newline=False).decode("ascii")
    return checksum


# The canonical base64 spelling of a 20-byte digest: 27 characters, the last of which has
# its 2 unused low bits at zero, then one "=" of padding.
_CANONICAL_Q1 = re.compile(r"Q1[A-Za-z0-9+/]{26}[AEIMQUYcgkosw048]=")
_CANONICAL_Q1_LINE = re.compile(r"\nQ1[A-Za-z0-9+/]{26}[AEIMQUYcgkosw048]=(?=\n)")


def _index_identities(packages: Sequence[ApkPackage]) -> dict[object, ApkPackage]:
    """Map each identity to the first package that has it."""
    checksums = [package.checksum for package in packages]
    if None not in checksums:
        # Checksums that are all canonical are their own identities, so no call per package.
        column = "\n" + "\n".join(checksums) + "\n"  # type: ignore[arg-type]
        if column.count("\nQ1") == len(_CANONICAL_Q1_LINE.findall(column)):
            return dict(zip(reversed(checksums), reversed(packages), strict=True))
    table: dict[object, ApkPackage] = {}
    for package in packages:
        table.setdefault(package_identity(package), package)
    return table


@dataclass(frozen=True)
class Solution:
    """The packages one architecture installs, by name, and what pulled each one in.

    `required_by` maps a package name to the package names (or "world") whose
    dependencies, or install_if conditions, brought it in.
    """

    arch: str
    packages: Mapping[str, ApkPackage]
    required_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def parse_world(world: Iterable[str]) -> list[Dependency]:
    """Parse world entries and sort them by name, as apk does; raise InvalidWorldError."""
    entries = []
    for text in world:
        try:
            dependency = parse_dependency(text)
        except InvalidDependencyError:
            raise InvalidWorldError(
                f"{text!r} is not a valid world dependency, "
                "the format is name(@tag)([<>~=]version)"
            ) from None
        entries.append(dependency)
    return sorted(entries, key=lambda dependency: dependency.name)


def solve(world: Sequence[str], repositories: Sequence[Repository], *, arch: str) -> Solution:
    """Resolve `world` over `repositories` for `arch`, as `apk add` into an empty root.

    Packages whose A: is neither `arch`, `noarch` nor absent cannot be installed.
    Raises InvalidWorldError for a malformed entry or unknown tag, and UnsatisfiableError
    with apk-style reasons when the world cannot be met.
    """
    entries = parse_world(world)
    tags = {repository.tag for repository in repositories if repository.tag is not None}
    for entry in entries:
        if entry.tag is not None and entry.tag not in tags:
            raise InvalidWorldError(
                f"world entry {str(entry)!r} names the repository tag @{entry.tag}, "
                "but no repository has that tag"
            )

    state = _Solver(repositories, arch)
    state.run(entries)
    selected, required_by = state.collect(entries)
    if state.errors:
        raise UnsatisfiableError(arch, _explain_failure(entries, selected, state))
    packages = {item.package.name: item.package for item in selected}
    logger.info(
        "resolved %d world entries to %d packages for %s", len(entries), len(packages), arch
    )
    return Solution(arch, packages, required_by)


def solve_architectures(
    world: Sequence[str], repositories: Mapping[str, Sequence[Repository]]
) -> dict[str, Solution]:
    """Resolve `world` for each architecture over that architecture's repositories."""
    return {
        arch: solve(world, arch_repositories, arch=arch)
        for arch, arch_repositories in sorted(repositories.items())
    }


def find_arch_differences(solutions: Mapping[str, Solution]) -> dict[str, dict[str, str]]:
    """Return the packages whose version is not the same in every solution.

    The result maps a package name to {arch: version}; an architecture that does not
    install the package is left out of the inner mapping.
    """
    names = sorted({name for solution in solutions.values() for name in solution.packages})
    differences = {}
    for name in names:
        versions = {
            arch: solution.packages[name].version
            for arch, solution in sorted(solutions.items())
            if name in solution.packages
        }
        if len(versions) != len(solutions) or len(set(versions.values())) > 1:
            differences[name] = versions
    return differences


class _Package:
    """Solver state of one package, shared by every name it provides."""

    __slots__ = (
        "available", "conflicts", "dependencies_merged", "dependencies_used", "depends",
        "error", "first_repository", "iif_failed", "iif_triggered", "in_changeset",
        "install_if", "max_dep_chain", "package", "pinning_allowed", "pinning_preferred",
        "provides", "repository_mask", "seen", "selectable", "tag_ok", "tag_preferred",
        "version_tokens",
    )  # fmt: skip

    def __init__(self, package: ApkPackage, first_repository: int, selectable: bool) -> None:
        self.package = package
        # The parsed fields of `package`, kept here because the solver reads them often.
        self.depends = package.depends
        self.provides = package.provides
        self.install_if = package.install_if
        # Tokenized on first use by `version_tokens_of`.
        self.version_tokens: tuple[Token, ...] | None = None
        self.first_repository = first_repository
        self.repository_mask = 0
        self.seen = False
        self.selectable = selectable
        self.available = selectable
        self.iif_failed = True
        self.iif_triggered = False
        self.tag_ok = False
        self.tag_preferred = False
        self.pinning_allowed = 1
        self.pinning_preferred = 1
        self.max_dep_chain = 0
        self.conflicts = 0
        self.dependencies_merged = False
        self.dependencies_used = False
        self.error = False
        self.in_changeset = False


def version_tokens_of(package: _Package) -> tuple[Token, ...]:
    """Return the tokens of the version of `package`."""
    tokens = package.version_tokens
    if tokens is None:
        tokens = package.version_tokens = tokenize_version(package.package.version)[0]
    return tokens


# A provider is a package with the version it provides a name at (None when unversioned).
_Provider = tuple["_Package | None", "str | None"]
_NO_PROVIDER: _Provider = (None, None)


class _Name:
    """Solver state of one name: its providers and the decisions taken on it."""

    __slots__ = (
        "chosen", "has_iif", "has_options", "has_virtual_provides", "in_changeset", "locked",
        "max_dep_chain", "merge_depends", "merge_provides", "name", "no_iif", "priority",
        "providers", "rdepends", "reevaluate_deps", "reevaluate_iif", "requirers",
        "reverse_deps_done", "rinstall_if", "seen",
    )  # fmt: skip

    def __init__(self, name: str, providers: list[tuple[_Package, str | None]]) -> None:
        self.name = name
        self.providers = providers
        self.rdepends: dict[_Name, None] = {}
        self.rinstall_if: list[_Name] = []
        self.seen = False
        self.locked = False
        self.chosen: _Provider = _NO_PROVIDER
        self.requirers = 0
        self.has_iif = False
        self.no_iif = True
        self.reevaluate_deps = False
        self.reevaluate_iif = False
        self.has_options = False
        self.reverse_deps_done = False
        self.max_dep_chain = 0
        self.merge_depends = 0
        self.merge_provides = 0
        self.has_virtual_provides = False
        self.in_changeset = False
        unversioned = [version for _package, version in providers].count(None)
        # Names provided only without a version are decided last.
        if unversioned == 0:
            self.priority = 0
        elif unversioned != len(providers):
            self.priority = 1
        else:
            self.priority = 2


def is_provided(dependency: Dependency, provider: _Provider) -> bool:
    """Return whether `provider` meets `dependency`; no provider meets only a conflict."""
    package, version = provider
    if package is None:
        return dependency.conflict
    if dependency.op == "><":
        return (package.package.checksum == dependency.version) != dependency.conflict
    if not dependency.op:
        return not dependency.conflict
    if version is None or dependency.version is None:
        return dependency.conflict
    mask = OPERATORS[dependency.op]
    provided_tokens = (
        version_tokens_of(package)
        if version is package.package.version
        else tokenize_version(version)[0]
    )
    result = compare_tokens(
        provided_tokens, tokenize_version(dependency.version)[0], fuzzy=bool(mask & FUZZY)
    )
    return bool(result & mask) != dependency.conflict


class _Solver:
    """One run of the solver over a fixed set of repositories."""

    def __init__(self, repositories: Sequence[Repository], arch: str) -> None:
        self.repositories = repositories
        self.arch = arch
        tags = sorted({repository.tag for repository in repositories if repository.tag})
        # Bit 0 is the untagged repositories; each tag gets the next bit.
        self.tag_bits: dict[str | None, int] = {None: 1}
        self.tag_bits.update({tag: 2 << index for index, tag in enumerate(tags)})
        self.names: dict[str, _Name] = {}
        self.packages: dict[int, _Package] = {}  # by id() of the kept ApkPackage
        self.dirty: deque[_Name] = deque()
        self.dirty_set: set[_Name] = set()
        self.unresolved: list[_Name] = []
        self.errors = 0
        self.pinning_inherit = 0

    # Building state lazily, so a solve touches only the names it reaches.

    def name(self, name: str) -> _Name:
        state = self.names.get(name)
        if state is None:
            state = _Name(name, self._find_providers(name))
            self.names[name] = state
        return state

    def _find_providers(self, name: str) -> list[tuple[_Package, str | None]]:
        providers: list[tuple[_Package, str | None]] = []
        if len(self.repositories) == 1:
            repository = self.repositories[0]
            bit = self.tag_bits[repository.tag]
            for package, version in repository.first_providers_of(name):
                state = self.packages.get(id(package)) or self._package(package, 0)
                state.repository_mask |= bit
                providers.append((state, version))
            return providers

        seen: set[tuple[int, str | None]] = set()
        for index, repository in enumerate(self.repositories):
            bit = self.tag_bits[repository.tag]
            for package, version in repository.providers_of(name):
                first, first_index = self._first_loaded(package, index)
                if first.name != package.name:
                    # apk-tools drops an entry whose checksum an earlier package has.
                    continue
                state = self._package(first, first_index)
                state.repository_mask |= bit
                if (id(state), version) not in seen:
                    seen.add((id(state), version))
                    providers.append((state, version))
        return providers

    def _first_loaded(self, package: ApkPackage, index: int) -> tuple[ApkPackage, int]:
        """Return the package apk-tools keeps for `package`'s identity, and its repository."""
        identity = package_identity(package)
        for earlier in range(index + 1):
            first = self.repositories[earlier].packages_by_identity.get(identity)
            if first is not None:
                return first, earlier
        return package, index

    def _package(self, package: ApkPackage, repository_index: int) -> _Package:
        state = self.packages.get(id(package))
        if state is None:
            arch_ok = package.arch in (None, NO_ARCH, self.arch)
            selectable = arch_ok and package.broken is None
            state = _Package(package, repository_index + 1, selectable)
            self.packages[id(package)] = state
        return state

    def _rinstall_if(self, name: str) -> list[_Name]:
        names: dict[str, None] = {}
        for repository in self.repositories:
            for dependent in repository.install_if_dependents_of(name):
                names[dependent] = None
        return [self.name(dependent) for dependent in names]

    # The steps of apk's solver.

    def mark_error(self, package: _Package | None) -> None:
        if package is None or package.error:
            return
        package.error = True
        self.errors += 1

    def queue_dirty(self, name: _Name) -> None:
        if name in self.dirty_set or name.locked:
            return
        if name.requirers == 0 and not name.reevaluate_iif:
            return
        self.dirty_set.add(name)
        self.dirty.append(name)

    def queue_unresolved(self, name: _Name) -> None:
        if name.locked:
            return
        wanted = name.requirers > 0 or name.has_iif
        listed = name in self.unresolved
        if wanted and not listed:
            self.unresolved.insert(0, name)
        elif not wanted and listed:
            self.unresolved.remove(name)

    def reevaluate_reverse_deps(self, name: _Name) -> None:
        for dependent in name.rdepends:
            if dependent.seen:
                dependent.reevaluate_deps = True
                self.queue_dirty(dependent)

    def reevaluate_reverse_installif(self, name: _Name) -> None:
        for dependent in name.rinstall_if:
            if dependent.seen and not dependent.no_iif:
                dependent.reevaluate_iif = True
                self.queue_dirty(dependent)

    def disqualify(self, package: _Package) -> None:
        package.selectable = False
        self.reevaluate_reverse_deps(self.name(package.package.name))
        for provide in package.provides:
            self.reevaluate_reverse_deps(self.name(provide.name))
        self.reevaluate_reverse_installif(self.name(package.package.name))

    def is_satisfiable(self, dependency: Dependency) -> bool:
        name = self.name(dependency.name)
        if name.locked:
            return is_provided(dependency, name.chosen)
        if name.requirers == 0 and is_provided(dependency, _NO_PROVIDER):
            return True
        return any(
            package.selectable and is_provided(dependency, (package, version))
            for package, version in name.providers
        )

    def discover(self, name: _Name) -> None:
        if name.seen:
            return
        name.seen = True
        name.no_iif = True
        default_bit = self.tag_bits[None]
        for package, _version in name.providers:
            if not package.seen:
                package.seen = True
                package.iif_failed = not package.install_if
                package.tag_preferred = bool(
                    package.package.installed_size == 0 or package.repository_mask & default_bit
                )
                package.tag_ok = package.tag_preferred
                for dependency in package.depends:
                    dependency_name = self.name(dependency.name)
                    self.discover(dependency_name)
                    package.max_dep_chain = max(
                        package.max_dep_chain, dependency_name.max_dep_chain + 1
                    )
            for dependency in package.depends:
                self.name(dependency.name).rdepends[name] = None
            name.no_iif = name.no_iif and package.iif_failed
            name.max_dep_chain = max(name.max_dep_chain, package.max_dep_chain)
        name.rinstall_if = self._rinstall_if(name.name)
        for dependent in name.rinstall_if:
            self.discover(dependent)

    def requirers_changed(self, name: _Name) -> None:
        self.queue_unresolved(name)
        self.reevaluate_reverse_installif(name)
        self.queue_dirty(name)

    def inherit_pinning(self, package: _Package, parent: _Package | None) -> None:
        if parent is not None:
            package.pinning_allowed |= parent.pinning_allowed
        else:
            package.pinning_allowed |= self.pinning_inherit
            package.pinning_preferred = self.pinning_inherit
            package.tag_preferred = bool(package.repository_mask & package.pinning_preferred)
        if package.repository_mask & package.pinning_allowed:
            package.tag_ok = True

    def apply_constraint(self, parent: _Package | None, dependency: Dependency) -> None:
        name = self.name(dependency.name)
        if not dependency.conflict:
            name.requirers += 1
            if name.requirers == 1:
                self.requirers_changed(name)
        for package, version in name.providers:
            provided = is_provided(dependency, (package, version))
            if not provided:
                package.conflicts += 1
            if package.selectable and package.conflicts:
                self.disqualify(package)
            if provided:
                self.inherit_pinning(package, parent)

    def exclude_non_providers(self, name: _Name, must_provide: _Name, skip_virtuals: bool) -> None:
        if name is must_provide:
            return
        for package, version in name.providers:
            if package.package.name == must_provide.name or not package.selectable:
                continue
            if skip_virtuals and version is None:
                continue
            if any(
                provide.name == must_provide.name or (skip_virtuals and provide.version is None)
                for provide in package.provides
            ):
                continue
            self.disqualify(package)

    def reconsider(self, name: _Name) -> None:
        reevaluate_deps, reevaluate_iif = name.reevaluate_deps, name.reevaluate_iif
        name.reevaluate_deps = name.reevaluate_iif = False
        first: _Package | None = None
        options = tag_not_ok = 0
        has_iif, no_iif = False, True

        for package, version in name.providers:
            package.dependencies_merged = False
            if reevaluate_deps and package.selectable:
                for dependency in package.depends:
                    if not self.is_satisfiable(dependency):
                        self.disqualify(package)
                        break
            if not package.selectable:
                continue
            if reevaluate_iif and not package.iif_triggered and not package.iif_failed:
                self._check_install_if(package)
            if reevaluate_iif and package.iif_triggered:
                for condition in package.install_if:
                    self.inherit_pinning(package, self.name(condition.name).chosen[0])
            has_iif = has_iif or package.iif_triggered
            no_iif = no_iif and package.iif_failed
            if name.requirers == 0:
                continue

            # Count, per name, how many candidates so far share a dependency or provide.
            package.dependencies_merged = True
            if first is None:
                first = package
            for dependency in package.depends:
                if not dependency.conflict:
                    _merge(self.name(dependency.name), "merge_depends", options)
            own = self.name(package.package.name)
            if _merge(own, "merge_provides", options):
                own.has_virtual_provides |= version is None
            for provide in package.provides:
                provided = self.name(provide.name)
                if _merge(provided, "merge_provides", options):
                    provided.has_virtual_provides |= provide.version is None
            tag_not_ok += not package.tag_ok
            options += 1

        name.has_options = options > 1 or tag_not_ok > 0
        name.has_iif = has_iif
        name.no_iif = no_iif
        self.queue_unresolved(name)
        if first is not None:
            self._propagate_common(name, first, options)

        name.reverse_deps_done = not any(
            dependent.seen and not dependent.locked for dependent in name.rdepends
        )

    def _check_install_if(self, package: _Package) -> None:
        package.iif_triggered = True
        package.iif_failed = False
        for condition in package.install_if:
            condition_name = self.name(condition.name)
            if not condition_name.locked:
                package.iif_triggered = False
                return
            if not is_provided(condition, condition_name.chosen):
                package.iif_triggered = False
                package.iif_failed = True
                return

    def _propagate_common(self, name: _Name, first: _Package, options: int) -> None:
        """Apply what every candidate of `name` depends on or provides."""
        for package, _version in name.providers:
            package.dependencies_used = package.dependencies_merged

        if options == 1:
            for dependency in first.depends:
                if _merge_complete(self.name(dependency.name), "merge_depends", options):
                    self.apply_constraint(first, dependency)
        else:
            for dependency in first.depends:
                common = self.name(dependency.name)
                if _merge_complete(common, "merge_depends", options) and common.requirers == 0:
                    common.requirers += 1
                    self.requirers_changed(common)
                    for package, _version in common.providers:
                        self.inherit_pinning(package, first)

        own = self.name(first.package.name)
        provided = [self.name(provide.name) for provide in first.provides]
        for other in (own, *provided):
            if _merge_complete(other, "merge_provides", options):
                self.exclude_non_providers(other, name, other.has_virtual_provides)
        for other in (own, *provided):
            other.has_virtual_provides = False

    def compare_providers(self, a: _Provider, b: _Provider) -> int:
        """Return > 0 when provider `a` is preferred over `b`, in apk's order of criteria."""
        package_a, version_a = a
        package_b, version_b = b
        if package_a is None or package_b is None:
            return (package_a is not None) - (package_b is not None)

        for key in ("selectable", "dependencies_used"):
            difference = int(getattr(package_a, key)) - int(getattr(package_b, key))
            if difference:
                return difference
        if package_a.conflicts != package_b.conflicts:
            return package_b.conflicts - package_a.conflicts
        for key in ("tag_ok", "tag_preferred"):
            difference = int(getattr(package_a, key)) - int(getattr(package_b, key))
            if difference:
                return difference

        if version_a is not None and version_b is not None:
            result = compare_tokens(tokenize_version(version_a)[0], tokenize_version(version_b)[0])
            if result != 2:
                return 1 if result == GREATER else -1
        if package_a.package.name == package_b.package.name:
            result = compare_tokens(version_tokens_of(package_a), version_tokens_of(package_b))
            if result == LESS:
                return -1
            if result == GREATER:
                return 1
        difference = package_a.package.provider_priority - package_b.package.provider_priority
        if difference:
            return difference
        return package_b.first_repository - package_a.first_repository

    def assign(self, name: _Name, provider: _Provider) -> None:
        package, version = provider
        if name.locked:
            if version is None and name.chosen[1] is None:
                return
            self.mark_error(package)
            self.mark_error(name.chosen[0])
            return
        name.locked = True
        name.chosen = provider
        if name in self.unresolved:
            self.unresolved.remove(name)
        for other, other_version in name.providers:
            if other is package or (version is None and other_version is None):
                continue
            self.disqualify(other)
        self.reevaluate_reverse_deps(name)
        self.reevaluate_reverse_installif(name)

    def select(self, name: _Name) -> None:
        chosen: _Provider = _NO_PROVIDER
        if name.requirers or name.has_iif:
            for package, version in name.providers:
                if name.requirers == 0 and not (package.iif_triggered and package.tag_ok):
                    continue
                # A name provided without a version is not chosen for the user unless its
                # provider has a priority, is requested by its own name, or is the only one.
                if (
                    version is None
                    and self.name(package.package.name).requirers == 0
                    and package.package.provider_priority == 0
                    and len(name.providers) > 1
                ):
                    continue
                if self.compare_providers((package, version), chosen) > 0:
                    chosen = (package, version)

        selected = chosen[0]
        if selected is None:
            self.assign(name, _NO_PROVIDER)
            if name.requirers > 0:
                self.errors += 1
            return
        if not selected.selectable or not selected.tag_ok:
            self.mark_error(selected)
        self.assign(self.name(selected.package.name), (selected, selected.package.version))
        for provide in selected.provides:
            self.assign(self.name(provide.name), (selected, provide.version))
        for dependency in selected.depends:
            self.apply_constraint(selected, dependency)

    def run(self, world: list[Dependency]) -> None:
        for entry in world:
            self.discover(self.name(entry.name))
        for entry in world:
            self.pinning_inherit = self.tag_bits[entry.tag]
            self.apply_constraint(None, entry)
        self.pinning_inherit = 0

        while True:
            while self.dirty:
                name = self.dirty.popleft()
                self.dirty_set.discard(name)
                self.reconsider(name)
            unresolved = self._next_unresolved()
            if unresolved is None:
                return
            self.select(unresolved)

    def _next_unresolved(self) -> _Name | None:
        # Required names come first, then lower priority, then deeper dependency chains.
        # Of equal names, the first in the list wins.
        best: _Name | None = None
        best_key = (True, 3, 0)
        for name in self.unresolved:
            if name.reverse_deps_done and name.requirers and not name.has_options:
                return name
            key = (not name.requirers, name.priority, -name.max_dep_chain)
            if best is None or key < best_key:
                best, best_key = name, key
        return best

    # Walking the decisions from the world, in install order.

    def collect(self, world: list[Dependency]) -> tuple[list[_Package], dict[str, tuple[str, ...]]]:
        """Return the chosen packages reachable from `world` and who requires each one."""
        selected: list[_Package] = []
        required_by: dict[str, dict[str, None]] = {}

        def add_dependency(parent: _Package | None, dependency: Dependency) -> None:
            name = self.name(dependency.name)
            if not is_provided(dependency, name.chosen):
                self.mark_error(parent)
            add_name(name)
            package = name.chosen[0]
            if package is not None and not dependency.conflict:
                requirer = WORLD if parent is None else parent.package.name
                required_by.setdefault(package.package.name, {})[requirer] = None
            if package is not None and package.error:
                self.mark_error(parent)

        def add_name(name: _Name) -> None:
            if name.in_changeset:
                return
            name.in_changeset = True
            package = name.chosen[0]
            if package is None or package.in_changeset:
                return
            package.in_changeset = True
            self.name(package.package.name).in_changeset = True
            for provide in package.provides:
                self.name(provide.name).in_changeset = True
            for dependency in package.depends:
                add_dependency(package, dependency)
            selected.append(package)
            for dependent in self.name(package.package.name).rinstall_if:
                add_if_triggered(dependent)

        def add_if_triggered(name: _Name) -> None:
            package = name.chosen[0]
            if package is None or not name.seen or name.in_changeset:
                return
            for condition in package.install_if:
                condition_name = self.name(condition.name)
                if not condition_name.in_changeset:
                    return
                if not is_provided(condition, condition_name.chosen):
                    return
            for condition in package.install_if:
                required_by.setdefault(package.package.name, {})[condition.name] = None
            add_name(name)

        for entry in world:
            add_dependency(None, entry)
        return selected, {name: tuple(requirers) for name, requirers in required_by.items()}


def _merge(name: _Name, counter: str, options: int) -> bool:
    """Count one more candidate sharing `name`, if every earlier candidate shared it too."""
    if getattr(name, counter) != options:
        return False
    setattr(name, counter, options + 1)
    return True


def _merge_complete(name: _Name, counter: str, options: int) -> bool:
    """Return whether all `options` candidates shared `name`, and reset the count."""
    complete = getattr(name, counter) == options
    setattr(name, counter, 0)
    return bool(complete)


# Explaining a failure the way `apk add` prints "unable to select packages".

_WIDTH = 50  # apk-tools wraps its error report at 50 columns when output is not a terminal


class _Report:
    """Lines of `  label:` headings, each followed by `    key: item item` groups."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.pending_label: str | None = None
        self.group: str | None = None

    def start(self, label: str) -> None:
        self.pending_label = label

    def add(self, key: str, item: str) -> None:
        if self.pending_label is not None:
            self.lines.append(f"  {self.pending_label}:")
            self.pending_label = None
        if self.group != key:
            self.group = key
            self.lines.append(f"    {key}: {item}")
            return
        indent = len(f"    {key}: ")
        if len(self.lines[-1]) + 1 + len(item) > _WIDTH:
            self.lines.append(" " * indent + item)
        else:
            self.lines[-1] += " " + item

    def end_group(self) -> None:
        self.group = None

    @property
    def label_printed(self) -> bool:
        return self.pending_label is None


def _explain_failure(
    world: list[Dependency], selected: list[_Package], solver: _Solver
) -> list[str]:
    """Build apk's reasons: missing names, then every selected package that breaks something."""
    report = _Report()
    provided = {package.package.name for package in selected} | {
        provide.name for package in selected for provide in package.provides
    }
    reported: set[str] = set()

    def check_missing(dependencies: Iterable[Dependency]) -> None:
        for dependency in dependencies:
            if dependency.conflict or dependency.name in provided or dependency.name in reported:
                continue
            reported.add(dependency.name)
            _explain_missing(report, dependency.name, world, selected, solver)

    check_missing(world)
    for package in selected:
        _explain_package(report, package, world, selected, solver)
        check_missing(package.depends)
    if not report.lines:
        report.lines.append("  the solver found no single broken constraint to report")
    return report.lines


def _explain_missing(
    report: _Report, name: str, world: list[Dependency], selected: list[_Package], solver: _Solver
) -> None:
    providers = solver.name(name).providers
    if providers:
        report.start(f"{name} (virtual)")
        for word in "please select one of the 'provided by' packages explicitly".split():
            report.add("note", word)
        report.end_group()
        for item in _provider_names(providers, solver):
            report.add("provided by", item)
    else:
        report.start(f"{name} (no such package)")
    report.end_group()
    for dependency in world:
        if dependency.name == name and not dependency.conflict:
            report.add("required by", f"{WORLD}[{dependency}]")
    for package in selected:
        for dependency in package.depends:
            if dependency.name == name and not dependency.conflict:
                report.add("required by", f"{package.package}[{dependency}]")
                break
    report.end_group()


def _provider_names(providers: list[tuple[_Package, str | None]], solver: _Solver) -> list[str]:
    """Name a provider by its package name when every package of that name provides it."""
    items: dict[str, None] = {}
    for package, _version in providers:
        name = package.package.name
        same_name = [entry for entry in providers if entry[0].package.name == name]
        own = [entry for entry in solver.name(name).providers if entry[0].package.name == name]
        items[name if len(same_name) == len(own) else str(package.package)] = None
    return list(items)


def _explain_package(
    report: _Report,
    package: _Package,
    world: list[Dependency],
    selected: list[_Package],
    solver: _Solver,
) -> None:
    report.start(str(package.package))
    marked = {id(item) for item in selected}
    if not package.tag_ok:
        for repository in solver.repositories:
            if repository.tag and package.repository_mask & solver.tag_bits[repository.tag]:
                report.add("masked in", f"@{repository.tag}")
        report.end_group()
    if not package.available:
        report.add("error", "uninstallable")
        report.end_group()
        if package.package.arch not in (None, NO_ARCH, solver.arch):
            report.add("arch", str(package.package.arch))
            report.end_group()

    for other, _version in solver.name(package.package.name).providers:
        same_name = other.package.name == package.package.name
        if other is not package and id(other) in marked and same_name:
            report.add("conflicts", str(other.package))
    for provide in package.provides:
        skipped_self = False
        for other, version in solver.name(provide.name).providers:
            if id(other) not in marked or (provide.version is None and version is None):
                continue
            if not skipped_self and other is package and version == provide.version:
                skipped_self = True
                continue
            report.add("conflicts", f"{other.package}[{provide}]")
    report.end_group()

    discovery = {name: index for index, name in enumerate(solver.names)}
    _report_requirers(report, package, world, selected, discovery, satisfied=False)
    if report.label_printed:
        _report_requirers(report, package, world, selected, discovery, satisfied=True)


def _report_requirers(
    report: _Report,
    package: _Package,
    world: list[Dependency],
    selected: list[_Package],
    discovery: Mapping[str, int],
    *,
    satisfied: bool,
) -> None:
    key = "satisfies" if satisfied else "breaks"
    for dependency in world:
        if _analyze(dependency, package) is satisfied:
            report.add(key, f"{WORLD}[{dependency}]")
    # Requirers in the order their names were reached, as apk walks reverse dependencies.
    for requirer in sorted(selected, key=lambda item: discovery[item.package.name]):
        for dependency in requirer.depends:
            if _analyze(dependency, package) is satisfied:
                report.add(key, f"{requirer.package}[{dependency}]")
    report.end_group()


def _analyze(dependency: Dependency, package: _Package) -> bool | None:
    """Return whether `package` meets `dependency`, or None when it is about another name."""
    if dependency.name == package.package.name:
        return is_provided(dependency, (package, package.package.version))
    for provide in package.provides:
        if provide.name == dependency.name:
            return is_provided(dependency, (package, provide.version))
    return None
