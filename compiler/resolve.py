"""Resolve the declared inputs of catalog images into locks, concurrently.

Every (image, input) pair is one job on a thread pool. Sources share their
downloads, so an index or manifest wanted by several images is fetched once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from compiler.apk.keys import load_keyring
from compiler.locked import LockedGitTag, LockedImage, LockedInput
from compiler.lockfile import Lock, inputs_checksum, sha256_text
from compiler.render import collect_templates
from compiler.settings import DEFAULT_JOBS, ResolveOptions
from compiler.sources.alpine import AlpineSource
from compiler.sources.git import GitRef, github_url, list_tags, resolve_git_tag
from compiler.sources.http import HttpClient
from compiler.sources.once import OnceMap
from compiler.sources.reference import parse_reference
from compiler.sources.registry import RegistryClient, RegistrySettings
from compiler.versions import VersionPolicy
from spec.catalog import Catalog, ImageEntry
from spec.errors import PinwrightError
from spec.models import (
    AlpinePackagesInput,
    GithubTagInput,
    GitTagInput,
    ImageInput,
    StrictModel,
    VersionOptions,
)

logger = logging.getLogger(__name__)

class InputResolveError(PinwrightError):
    """One input of one image could not be resolved."""


@dataclass
class Sources:
    """The clients of one run, shared by every image."""

    catalog: Catalog
    http: HttpClient
    registry: RegistryClient
    alpine: AlpineSource
    git_refs: OnceMap[tuple[GitRef, ...]] = field(default_factory=OnceMap)

    def close(self) -> None:
        self.http.close()


def open_sources(catalog: Catalog, options: ResolveOptions) -> Sources:
    """Create the HTTP client and the sources of one run."""
    config = catalog.config
    http = HttpClient(
        cache_dir=options.cache_dir,
        offline=options.offline,
        refresh=options.refresh,
    )
    settings = {
        host: RegistrySettings(insecure=registry.insecure, mirror=registry.mirror)
        for host, registry in config.registries.items()
    }
    keyring = load_keyring([catalog.root / folder for folder in config.alpine.keys])
    return Sources(
        catalog=catalog,
        http=http,
        registry=RegistryClient(http.session, settings=settings),
        alpine=AlpineSource(http, config.alpine, keyring),
    )


@dataclass
class LockOutcome:
    """Locks of the images that resolved, and the errors of those that did not."""

    locks: dict[str, Lock] = field(default_factory=dict)
    failures: dict[str, list[PinwrightError]] = field(default_factory=dict)


def lock_images(sources: Sources, names: Sequence[str], *, jobs: int = DEFAULT_JOBS) -> LockOutcome:
    """Resolve every input of the named images; never raises for a single image's failure."""
    catalog = sources.catalog
    outcome = LockOutcome()
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="resolve") as pool:
        futures: dict[str, dict[str, Future[LockedInput]]] = {}
        for image in names:
            entry = catalog.images[image]
            futures[image] = {
                name: pool.submit(resolve_input, sources, entry, name, declared)
                for name, declared in entry.spec.inputs.items()
            }

        for image in names:
            errors: list[PinwrightError] = []
            resolved: dict[str, LockedInput] = {}
            for name, future in futures[image].items():
                try:
                    resolved[name] = future.result()
                except PinwrightError as error:
                    errors.append(_input_error(catalog.images[image], name, error))
            if errors:
                outcome.failures[image] = errors
                continue
            try:
                outcome.locks[image] = build_lock(catalog.images[image], catalog, resolved)
            except PinwrightError as error:
                outcome.failures[image] = [error]
    return outcome


def build_lock(entry: ImageEntry, catalog: Catalog, inputs: dict[str, LockedInput]) -> Lock:
    """Assemble the lock of one image; raises TemplateRenderError for a broken template."""
    return Lock(
        image=entry.name,
        spec_sha256=sha256_text(entry.spec_bytes),
        inputs_sha256=inputs_checksum(entry, catalog),
        templates=collect_templates(entry, catalog),
        inputs=dict(sorted(inputs.items())),
    )


def resolve_input(
    sources: Sources, entry: ImageEntry, name: str, declared: StrictModel
) -> LockedInput:
    """Resolve one declared input; raises PinwrightError subclasses from the sources."""
    catalog = sources.catalog
    config = catalog.config
    logger.info("resolving %s input %s", entry.name, name)

    if isinstance(declared, ImageInput):
        reference = declared.image
        if reference in catalog.images:
            reference = f"{config.registry}/{reference}:latest"
        image = sources.registry.resolve(reference)
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
        rewrites = config.git.url_rewrites
        listed = sources.git_refs.get(url, lambda: list_tags(url, rewrites=rewrites))
        tag = resolve_git_tag(url, version_policy(declared), listed=listed)
        return LockedGitTag(url=url, tag=tag.tag, version=tag.version, commit=tag.commit)
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
