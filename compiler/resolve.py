"""Resolve the declared inputs of catalog images into locks, concurrently.

Every (image, input) pair is one job on a thread pool. Sources share their
downloads, so an index or manifest wanted by several images is fetched once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from compiler.apk.keys import load_keyring
from compiler.locked import LockedGitTag, LockedImage, LockedInput
from compiler.lockfile import Lock, find_invalid_value, inputs_checksum, sha256_text
from compiler.render import collect_templates
from compiler.scheduling import Job, run_jobs
from compiler.settings import DEFAULT_JOBS, ResolveOptions
from compiler.sources.alpine import AlpineSource
from compiler.sources.alpine_release import resolve_alpine_release
from compiler.sources.git import GitRef, github_url, list_tags_cached, resolve_git_tag
from compiler.sources.go_release import resolve_go_release
from compiler.sources.http import HttpClient, default_cache_dir
from compiler.sources.npm import resolve_npm
from compiler.sources.once import OnceMap
from compiler.sources.postgres_release import resolve_postgres_release
from compiler.sources.pypi import resolve_pypi
from compiler.sources.registry import ManifestNotFoundError, RegistryClient, RegistrySettings
from compiler.sources.results import ResultCache
from compiler.sources.url_checksum import resolve_url_checksum
from compiler.sources.url_regex import resolve_url_regex
from compiler.urltemplate import UrlTemplateError, referenced_inputs, render_url, uses_arch
from compiler.versions import VersionPolicy
from spec.catalog import Catalog, ImageEntry
from spec.errors import PinwrightError
from spec.models import (
    AlpinePackagesInput,
    AlpineReleaseInput,
    GithubTagInput,
    GitTagInput,
    GoReleaseInput,
    ImageInput,
    NpmInput,
    PostgresReleaseInput,
    PypiInput,
    StrictModel,
    UrlChecksumInput,
    UrlRegexInput,
    VersionOptions,
)
from spec.reference import parse_reference

logger = logging.getLogger(__name__)

class InputResolveError(PinwrightError):
    """One input of one image could not be resolved."""


@dataclass
class Sources:
    """The clients of one run, shared by every image.

    `results` stores registry and git look-ups for offline runs; with `offline`, git
    listings come from it alone.
    """

    catalog: Catalog
    http: HttpClient
    registry: RegistryClient
    alpine: AlpineSource
    results: ResultCache
    git_refs: OnceMap[tuple[GitRef, ...]] = field(default_factory=OnceMap)
    offline: bool = False

    def close(self) -> None:
        self.http.close()

    def list_git_tags(self, url: str) -> tuple[GitRef, ...]:
        """List the tags of the repository at `url` once per run; raises as `list_tags_cached`."""
        rewrites = self.catalog.config.git.url_rewrites
        return self.git_refs.get(
            url,
            lambda: list_tags_cached(
                url, results=self.results, offline=self.offline, rewrites=rewrites
            ),
        )


def open_sources(catalog: Catalog, options: ResolveOptions) -> Sources:
    """Create the HTTP client and the sources of one run.

    HTTP downloads and the registry and git results share one cache folder.
    """
    config = catalog.config
    cache_dir = options.cache_dir if options.cache_dir is not None else default_cache_dir()
    http = HttpClient(
        cache_dir=cache_dir,
        offline=options.offline,
        refresh=options.refresh,
        # Every job may talk to one registry at the same time.
        pool_size=options.jobs,
    )
    results = ResultCache(cache_dir)
    settings = {
        host: RegistrySettings(insecure=registry.insecure, mirror=registry.mirror)
        for host, registry in config.registries.items()
    }
    keyring = load_keyring([catalog.root / folder for folder in config.alpine.keys])
    return Sources(
        catalog=catalog,
        http=http,
        registry=RegistryClient(
            http.session, settings=settings, results=results, offline=options.offline
        ),
        alpine=AlpineSource(http, config.alpine, keyring),
        results=results,
        offline=options.offline,
    )


@dataclass
class LockOutcome:
    """Locks of the images that resolved, and the errors of those that did not."""

    locks: dict[str, Lock] = field(default_factory=dict)
    failures: dict[str, list[PinwrightError]] = field(default_factory=dict)


def lock_images(sources: Sources, names: Sequence[str], *, jobs: int = DEFAULT_JOBS) -> LockOutcome:
    """Resolve every input of the named images; a failed image is recorded, not raised."""
    catalog = sources.catalog
    outcome = LockOutcome()
    jobs_by_input: dict[tuple[str, str], Job[tuple[str, str]]] = {}
    for image in names:
        jobs_by_input.update(input_jobs(sources, catalog.images[image]))
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="resolve") as pool:
        results = run_jobs(pool, jobs_by_input, describe=lambda key: f"input {key[1]!r}")

    for image in names:
        errors: list[PinwrightError] = []
        resolved: dict[str, LockedInput] = {}
        for name in catalog.images[image].spec.inputs:
            result = results[(image, name)]
            if isinstance(result, PinwrightError):
                errors.append(_input_error(catalog.images[image], name, result))
            elif isinstance(result, BaseException):
                raise result
            else:
                resolved[name] = result
        if errors:
            outcome.failures[image] = errors
            continue
        try:
            outcome.locks[image] = build_lock(catalog.images[image], catalog, resolved)
        except PinwrightError as error:
            outcome.failures[image] = [error]
    return outcome


def input_jobs(sources: Sources, entry: ImageEntry) -> dict[tuple[str, str], Job[tuple[str, str]]]:
    """Return one job per input of `entry`, keyed by (image, input).

    A `url_checksum` input depends on the inputs its URL template names, so it runs after
    them and receives their locked values.
    """
    jobs: dict[tuple[str, str], Job[tuple[str, str]]] = {}
    for name, declared in entry.spec.inputs.items():
        dependencies: frozenset[tuple[str, str]] = frozenset()
        if isinstance(declared, UrlChecksumInput):
            try:
                used = referenced_inputs(declared.url_checksum.url) & entry.spec.inputs.keys()
            except UrlTemplateError:
                used = frozenset()  # the job itself raises the syntax error when it renders
            dependencies = frozenset((entry.name, other) for other in used)

        def call(
            dependency_results: Mapping[tuple[str, str], LockedInput],
            name: str = name,
            declared: StrictModel = declared,
        ) -> LockedInput:
            resolved = {key[1]: locked for key, locked in dependency_results.items()}
            return resolve_input(sources, entry, name, declared, resolved=resolved)

        jobs[(entry.name, name)] = Job(call=call, dependencies=dependencies)
    return jobs


class CatalogImageNotPushedError(PinwrightError):
    """An input names a catalog image that is not in the catalog's registry yet."""


class ResolvedValueInvalidError(PinwrightError):
    """Upstream returned a value that cannot go into a lock, such as a version with a line break."""


def build_lock(entry: ImageEntry, catalog: Catalog, inputs: dict[str, LockedInput]) -> Lock:
    """Assemble the lock of one image.

    Raises TemplateRenderError for a broken template, and ResolvedValueInvalidError when a
    resolved value fails the checks every lockfile passes when it is read.
    """
    lock = Lock(
        image=entry.name,
        spec_sha256=sha256_text(entry.spec_bytes),
        inputs_sha256=inputs_checksum(entry, catalog),
        templates=collect_templates(entry, catalog),
        inputs=dict(sorted(inputs.items())),
    )
    problem = find_invalid_value(lock.to_json())
    if problem is not None:
        raise ResolvedValueInvalidError(
            f"image {entry.name}: upstream gave a value that cannot be locked: {problem}",
            location=entry.document.locate(("inputs",)),
        )
    return lock


def resolve_input(
    sources: Sources,
    entry: ImageEntry,
    name: str,
    declared: StrictModel,
    *,
    resolved: Mapping[str, LockedInput] | None = None,
) -> LockedInput:
    """Resolve one declared input; raises PinwrightError subclasses from the sources.

    `resolved` holds the locked inputs that a `url_checksum` URL template names.
    """
    catalog = sources.catalog
    config = catalog.config
    logger.info("resolving %s input %s", entry.name, name)

    if isinstance(declared, ImageInput):
        reference = declared.image
        in_catalog = reference in catalog.images
        if in_catalog:
            reference = f"{config.registry}/{reference}:latest"
        try:
            image = sources.registry.resolve(reference)
        except ManifestNotFoundError as error:
            if not in_catalog:
                raise
            raise CatalogImageNotPushedError(
                f"{error.message}; catalog images are resolved where they are pushed, so build "
                f"and push it first: `pinwright build --push {declared.image}`, or "
                "`pinwright update --build --push`"
            ) from error
        return LockedImage(
            declared=declared.image,
            reference=reference,
            digest=image.digest,
            media_type=image.media_type,
            platforms=tuple(image.platforms),
            source=manifest_url(reference, catalog),
        )
    if isinstance(declared, AlpinePackagesInput):
        return sources.alpine.resolve(declared.alpine_packages, config.architectures)
    if isinstance(declared, GitTagInput | GithubTagInput):
        url = (
            declared.git_tag
            if isinstance(declared, GitTagInput)
            else github_url(declared.github_tag)
        )
        listed = sources.list_git_tags(url)
        tag = resolve_git_tag(url, version_policy(declared), listed=listed)
        # `tag.url` is the declared URL without any user name or password.
        return LockedGitTag(url=tag.url, tag=tag.tag, version=tag.version, commit=tag.commit)
    upstream = resolve_upstream_input(sources, name, declared, resolved or {})
    if upstream is not None:
        return upstream
    raise TypeError(f"no source for input kind {type(declared).__name__}")


def manifest_url(reference: str, catalog: Catalog) -> str:
    """Return the manifest URL of `reference` at its own registry, where anyone can verify it.

    Mirrors are left out on purpose, so a lock made through a pull-through cache names the
    same source as one made directly.
    """
    parsed = parse_reference(reference)
    settings = catalog.config.registries.get(parsed.registry)
    scheme = "http" if settings is not None and settings.insecure else "https"
    return (
        f"{scheme}://{parsed.api_host}/v2/{parsed.repository}/manifests/{parsed.manifest_reference}"
    )


def resolve_upstream_input(
    sources: Sources, name: str, declared: StrictModel, resolved: Mapping[str, LockedInput]
) -> LockedInput | None:
    """Resolve a release, package registry or URL input; return None for other kinds."""
    config = sources.catalog.config
    architectures = config.architectures
    upstreams = config.upstreams
    http = sources.http

    if isinstance(declared, AlpineReleaseInput):
        options = declared.alpine_release
        return resolve_alpine_release(
            http,
            mirror=config.alpine.mirror,
            branch=options.branch or config.alpine.branch,
            flavor=options.flavor,
            architectures=architectures,
        )
    if isinstance(declared, GoReleaseInput):
        go = declared.go_release
        return resolve_go_release(
            http,
            listing=upstreams.go,
            policy=version_policy(go),
            file=go.file,
            architectures=architectures,
        )
    if isinstance(declared, PostgresReleaseInput):
        postgres = declared.postgres_release
        return resolve_postgres_release(
            http,
            listing=upstreams.postgres,
            policy=version_policy(postgres),
            major=postgres.major,
            archive=postgres.archive,
            architectures=architectures,
        )
    if isinstance(declared, UrlRegexInput):
        page = declared.url_regex
        return resolve_url_regex(http, name=name, url=page.url, regex=page.regex)
    if isinstance(declared, UrlChecksumInput):
        template = declared.url_checksum.url
        arch_names = tuple(architectures)
        values = {other: locked.template_value(arch_names) for other, locked in resolved.items()}
        per_arch = uses_arch(template)
        urls: dict[str, str] = {
            arch: render_url(template, values, arch if per_arch else "") for arch in architectures
        }
        return resolve_url_checksum(http, name=name, template=template, urls=urls)
    if isinstance(declared, PypiInput):
        return resolve_pypi(
            http, base=upstreams.pypi, project=declared.pypi, policy=version_policy(declared)
        )
    if isinstance(declared, NpmInput):
        return resolve_npm(
            http, base=upstreams.npm, package=declared.npm, policy=version_policy(declared)
        )
    return None


def version_policy(options: VersionOptions) -> VersionPolicy:
    return VersionPolicy(
        prefix=options.prefix,
        filter=options.filter,
        ordering=options.ordering,
        prerelease=options.prerelease,
        major=options.major,
        minor=options.minor,
    )


def _input_error(entry: ImageEntry, name: str, error: PinwrightError) -> PinwrightError:
    location = error.location or entry.document.locate(("inputs", name))
    lines = error.lines()
    first = lines[0] if error.location is None else error.message.splitlines()[0]
    detail = " ".join(line.strip() for line in [first, *lines[1:]]).removeprefix("ERROR: ")
    result = InputResolveError(f"input {name!r} of image {entry.name}: {detail}", location=location)
    result.exit_code = error.exit_code
    return result
