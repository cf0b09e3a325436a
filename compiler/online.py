"""`check --online`: confirm that everything a lock pins still exists upstream.

Alpine mirrors drop superseded package builds, registries can delete manifests,
tags can be deleted or moved, and release files, package versions and download URLs
can disappear. Each of those breaks a build of a Dockerfile that was correct when it
was compiled. Every check uses the same sources as `lock`. The checks of release,
package registry and URL inputs are in `compiler.online_upstreams`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from compiler.findings import Finding, Rule
from compiler.locked import LockedGitTag, LockedImage, LockedInput, LockedPackages
from compiler.lockfile import read_lock
from compiler.online_upstreams import UPSTREAM_RULES, UpstreamChecks
from compiler.settings import ResolveOptions
from compiler.sources.git import GitRef, GitTagsNotFoundError, list_tags
from compiler.sources.once import OnceMap
from spec.catalog import Catalog, ImageEntry
from spec.errors import Location, PinwrightError

if TYPE_CHECKING:
    from compiler.resolve import Sources

logger = logging.getLogger(__name__)

ONLINE_RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("apk-vanished", "error", "A locked apk version is gone from its repository index."),
        Rule("image-vanished", "error", "A locked image digest is no longer served."),
        Rule("git-tag-vanished", "error", "A locked git tag is gone from its repository."),
        Rule("git-tag-moved", "error", "A locked git tag now points at another commit."),
        Rule("image-tag-moved", "warning", "An image tag now points at a newer digest."),
        Rule("upstream-unreachable", "error", "An upstream source could not be asked."),
    )
} | UPSTREAM_RULES

Check = Callable[[], list[Finding]]


def check_upstream(
    catalog: Catalog, names: Sequence[str], options: ResolveOptions
) -> list[Finding]:
    """Check every pin in the locks of the named images against upstream.

    Images without a readable lock are skipped, because the offline check reports them.
    An upstream failure (a PinwrightError from a source) becomes an `upstream-unreachable`
    finding instead of being raised.
    """
    # Imported here so that offline checks never load the network stack.
    from compiler.resolve import open_sources

    sources = open_sources(catalog, options)
    tags: OnceMap[tuple[GitRef, ...]] = OnceMap()
    upstream = UpstreamChecks(sources)
    checks: list[Check] = []
    for name in names:
        entry = catalog.images[name]
        try:
            lock = read_lock(entry.lock_path)
        except PinwrightError:
            continue
        if lock is None:
            continue
        for input_name, locked in sorted(lock.inputs.items()):
            checks.extend(_checks_for(sources, tags, upstream, entry, input_name, locked))

    try:
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            results = list(pool.map(lambda check: check(), checks))
    finally:
        sources.close()
    return [finding for found in results for finding in found]


def _checks_for(
    sources: Sources,
    tags: OnceMap[tuple[GitRef, ...]],
    upstream: UpstreamChecks,
    entry: ImageEntry,
    input_name: str,
    locked: LockedInput,
) -> list[Check]:
    location = entry.document.locate(("inputs", input_name))
    report = _Reporter(entry, input_name, location)
    if isinstance(locked, LockedImage):
        return [lambda: _check_image(sources, locked, report)]
    if isinstance(locked, LockedPackages):
        return [
            _bind_packages(sources, locked, arch, report) for arch in sorted(locked.architectures)
        ]
    if isinstance(locked, LockedGitTag):
        return [lambda: _check_git_tag(sources, tags, locked, report)]
    return upstream.checks_for(locked, report.finding)


class _Reporter:
    """Build findings located at one input of one image."""

    def __init__(self, entry: ImageEntry, input_name: str, location: Location) -> None:
        self.entry = entry
        self.input_name = input_name
        self.location = location

    def finding(self, rule: str, message: str) -> Finding:
        return Finding(
            rule=rule,
            severity=ONLINE_RULES[rule].severity,
            path=self.location.path,
            line=self.location.line,
            column=self.location.column,
            message=f"input {self.input_name!r} of image {self.entry.name}: {message}",
            fix=f"pinwright update {self.entry.name}",
        )


def _check_image(sources: Sources, locked: LockedImage, report: _Reporter) -> list[Finding]:
    from compiler.sources.registry import ManifestNotFoundError

    reference = locked.reference.split("@", 1)[0]
    try:
        sources.registry.resolve(f"{reference}@{locked.digest}")
    except ManifestNotFoundError:
        return [report.finding("image-vanished", f"{reference}@{locked.digest} is not served")]
    except PinwrightError as error:
        return [report.finding("upstream-unreachable", error.message)]
    if "@" in locked.reference:
        return []

    # The pinned digest still builds; a tag that moved on is an update waiting, not a break.
    try:
        current = sources.registry.resolve(reference)
    except PinwrightError as error:
        return [report.finding("upstream-unreachable", error.message)]
    if current.digest == locked.digest:
        return []
    message = (
        f"{reference} now points at {current.digest}, not at the locked {locked.digest}; "
        f"run `pinwright update {report.entry.name}` to move to it"
    )
    return [report.finding("image-tag-moved", message)]


def _bind_packages(sources: Sources, locked: LockedPackages, arch: str, report: _Reporter) -> Check:
    return lambda: _check_packages(sources, locked, arch, report)


def _check_packages(
    sources: Sources, locked: LockedPackages, arch: str, report: _Reporter
) -> list[Finding]:
    available: set[tuple[str, str]] = set()
    config = sources.catalog.config.alpine
    for repository_name in config.repositories:
        try:
            repository, _ = sources.alpine.load_repository(repository_name, arch)
        except PinwrightError as error:
            return [report.finding("upstream-unreachable", error.message)]
        available.update((package.name, package.version) for package in repository.packages)

    missing = [
        f"{package.name}={package.version}"
        for package in locked.architectures[arch]
        if (package.name, package.version) not in available
    ]
    if not missing:
        return []
    where = f"{config.branch} {', '.join(config.repositories)} for {arch}"
    return [report.finding("apk-vanished", f"not in the current {where}: {', '.join(missing)}")]


def _check_git_tag(
    sources: Sources,
    tags: OnceMap[tuple[GitRef, ...]],
    locked: LockedGitTag,
    report: _Reporter,
) -> list[Finding]:
    rewrites = sources.catalog.config.git.url_rewrites
    try:
        refs = tags.get(locked.url, lambda: list_tags(locked.url, rewrites=rewrites))
    except GitTagsNotFoundError:
        refs = ()
    except PinwrightError as error:
        return [report.finding("upstream-unreachable", error.message)]

    by_tag = {ref.tag: ref for ref in refs if ref.tag is not None}
    current = by_tag.get(locked.tag)
    if current is None:
        return [report.finding("git-tag-vanished", f"tag {locked.tag} is gone from {locked.url}")]
    if current.commit != locked.commit:
        message = (
            f"tag {locked.tag} of {locked.url} now points at {current.commit}, "
            f"not at the locked {locked.commit}"
        )
        return [report.finding("git-tag-moved", message)]
    return []
