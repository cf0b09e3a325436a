"""Build and push catalog images in dependency order.

An image whose build or push fails stops the images built on it; independent images
carry on. Each successful build writes `images/NAME/image.build.json`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

from compiler.build.auth import lock_hosts, registry_host, write_credentials
from compiler.build.builders import BuilderSettings, Credentials, Driver, create_driver
from compiler.build.process import CommandResult, OutputHandler, run_command
from compiler.build.record import BuildRecord, PushRecord, read_record, record_path, write_record
from compiler.build.targets import BuildTarget, build_targets
from compiler.graph import with_dependents
from compiler.lockfile import read_lock
from compiler.pipeline import Outcome, update_each
from compiler.settings import ResolveOptions
from compiler.sources.credentials import CredentialStore
from spec.catalog import Catalog
from spec.errors import Location, PinwrightError

logger = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS = (2.0, 4.0, 8.0)
# Output of a failed push that points at the network or an overloaded registry rather than
# at the request, so the push is worth another attempt.
TRANSIENT_MARKERS = (
    "connection refused",
    "connection reset",
    "broken pipe",
    "i/o timeout",
    "tls handshake timeout",
    "timeout exceeded",
    "no such host",
    "network is unreachable",
    "unexpected eof",
    ": eof",
    "502 bad gateway",
    "503 service unavailable",
    "504 gateway timeout",
    "429 too many requests",
    "toomanyrequests",
)


def pause(seconds: float) -> None:
    """Wait before a retry; a separate function so tests can record the delays."""
    time.sleep(seconds)


class DockerfileMissingError(PinwrightError):
    """An image has no Dockerfile to build."""


class ImageBuildError(PinwrightError):
    """The builder failed to build an image."""


class ImagePushError(PinwrightError):
    """An image could not be pushed, after retries for network errors."""


class BaseImageFailedError(PinwrightError):
    """An image was not built because a catalog image it is built on failed."""


StatusHandler = Callable[[str], None]


@dataclass(frozen=True)
class BuildOptions:
    """What `pinwright build` does and with which builder."""

    push: bool = False
    platforms: tuple[str, ...] | None = None  # None: the catalog's architectures
    changed_only: bool = False
    builder: BuilderSettings = field(default_factory=BuilderSettings)
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS  # seconds before each retry


@dataclass
class BuildOutcome:
    """What a build run did per image, in dependency order."""

    order: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    pushed: dict[str, str] = field(default_factory=dict)  # image -> pushed digest
    unchanged: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # catalog-relative paths
    failures: list[PinwrightError] = field(default_factory=list)


def dockerfile_sha256(path: Path) -> str:
    """Return the sha256 of a Dockerfile; raises DockerfileMissingError."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise DockerfileMissingError(
            f"{path.parent.name} has no Dockerfile: run `pinwright compile {path.parent.name}`",
            location=Location(path),
        ) from None


def change_reason(
    record: BuildRecord | None, sha256: str, target: BuildTarget, push: bool
) -> str | None:
    """Return why `target` needs a build compared with its record, or None when it does not."""
    if record is None:
        return "never built"
    if record.dockerfile_sha256 != sha256:
        return "Dockerfile changed"
    if record.platforms != target.platforms:
        return "platforms changed"
    if push:
        pushed = record.pushed
        if pushed is None or pushed.repository != target.repository:
            return "not pushed"
        if set(pushed.tags) != set(target.tags):
            return "tags changed"
    return None


def is_transient(result: CommandResult) -> bool:
    """Return True when a failed command's output names a network or overload error."""
    text = "\n".join(result.tail).lower()
    return any(marker in text for marker in TRANSIENT_MARKERS)


class BuildSession:
    """The builder, scratch folder and registry files of one run. Use it as a context manager."""

    def __init__(
        self,
        catalog: Catalog,
        options: BuildOptions,
        *,
        on_status: StatusHandler | None = None,
        on_output: OutputHandler | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.options = options
        self.driver: Driver = create_driver(options.builder)
        self._on_status = on_status
        self._on_output = on_output
        self._sleep = sleep
        self._scratch = tempfile.TemporaryDirectory(prefix="pinwright-build-")
        self.workdir = Path(self._scratch.name)
        self._store = CredentialStore()

    def __enter__(self) -> BuildSession:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._scratch.cleanup()

    def platforms(self, target: BuildTarget) -> tuple[str, ...]:
        return self.options.platforms or target.platforms

    def change_reason(self, target: BuildTarget) -> str | None:
        """Return why `target` needs a build now, or None; raises for a missing Dockerfile."""
        sha256 = dockerfile_sha256(self.catalog.root / target.dockerfile)
        record = read_record(record_path(self.catalog.root / target.context))
        effective = _with_platforms(target, self.platforms(target))
        return change_reason(record, sha256, effective, self.options.push)

    def build(self, target: BuildTarget) -> BuildRecord:
        """Build `target` for each platform, push it when asked, and write its build record.

        Raises DockerfileMissingError, ImageBuildError, ImagePushError and
        BuilderUnsupportedError.
        """
        directory = self.catalog.root / target.context
        dockerfile = self.catalog.root / target.dockerfile
        sha256 = dockerfile_sha256(dockerfile)
        platforms = self.platforms(target)
        credentials = self._credentials(target)

        image_ids = [
            self._build_platform(target, dockerfile, directory, platform, credentials)
            for platform in platforms
        ]
        previous = read_record(record_path(directory))
        pushed = None
        if self.options.push:
            pushed = self._push(target, image_ids, credentials)
        elif previous is not None and (previous.dockerfile_sha256, previous.platforms) == (
            sha256,
            platforms,
        ):
            # The same Dockerfile builds the same digest, so the earlier push still holds.
            pushed = previous.pushed

        record = BuildRecord(
            image=target.name,
            dockerfile_sha256=sha256,
            platforms=platforms,
            builder=self.options.builder.name,
            pushed=pushed,
        )
        write_record(record_path(directory), record)
        return record

    def _credentials(self, target: BuildTarget) -> Credentials:
        folder = self.workdir / "registries"
        folder.mkdir(mode=0o700, exist_ok=True)
        lock = read_lock(self.catalog.root / target.context / "image.lock.json")
        hosts = {registry_host(target.repository), *lock_hosts(lock)}
        return write_credentials(folder, self.catalog, hosts, self._store)

    def _build_platform(
        self,
        target: BuildTarget,
        dockerfile: Path,
        context: Path,
        platform: str,
        credentials: Credentials,
    ) -> str:
        self._status(f"building {target.name} for {platform}")
        iidfile = self.workdir / f"{target.name}-{platform.replace('/', '-')}.iid"
        iidfile.unlink(missing_ok=True)
        arguments = self.driver.build(
            dockerfile=dockerfile,
            context=context,
            platform=platform,
            iidfile=iidfile,
            credentials=credentials,
        )
        result = self._run(arguments, credentials)
        if result.returncode != 0:
            raise ImageBuildError(
                f"building {target.name} for {platform} failed: {result.error_line}",
                location=Location(dockerfile),
            )
        return iidfile.read_text(encoding="utf-8").strip()

    def _push(
        self, target: BuildTarget, image_ids: Sequence[str], credentials: Credentials
    ) -> PushRecord:
        insecure = self._insecure(target.repository)
        manifest = None
        if len(image_ids) > 1:
            manifest = f"pinwright-build/{target.name}"
            # Entries go in platform order, so the index digest is the same on every build.
            commands = self.driver.create_manifest(manifest)
            self._run(commands[0], credentials)
            for arguments in [
                *commands[1:],
                *(self.driver.add_to_manifest(manifest, image) for image in image_ids),
            ]:
                result = self._run(arguments, credentials)
                if result.returncode != 0:
                    raise ImageBuildError(
                        f"assembling the index of {target.name} failed: {result.error_line}"
                    )

        tags: dict[str, str] = {}
        for tag in target.tags:
            destination = f"{target.repository}:{tag}"
            digestfile = self.workdir / f"{target.name}.digest"
            digestfile.unlink(missing_ok=True)
            if manifest is None:
                commands = self.driver.push(
                    image=image_ids[0],
                    destination=destination,
                    digestfile=digestfile,
                    credentials=credentials,
                    insecure=insecure,
                )
            else:
                commands = self.driver.push_manifest(
                    name=manifest,
                    destination=destination,
                    digestfile=digestfile,
                    credentials=credentials,
                    insecure=insecure,
                )
            tags[tag] = self._push_with_retry(
                target, destination, commands, digestfile, credentials
            )

        digests = set(tags.values())
        if len(digests) != 1:
            raise ImagePushError(
                f"tags of {target.name} were pushed with different digests: "
                + ", ".join(f"{tag}={digest}" for tag, digest in sorted(tags.items()))
            )
        return PushRecord(repository=target.repository, digest=digests.pop(), tags=tags)

    def _push_with_retry(
        self,
        target: BuildTarget,
        destination: str,
        commands: list[list[str]],
        digestfile: Path,
        credentials: Credentials,
    ) -> str:
        attempts = len(self.options.retry_delays) + 1
        for attempt in range(1, attempts + 1):
            self._status(f"pushing {target.name} to {destination}")
            result = self._run_all(commands, credentials)
            if result.returncode == 0:
                digest = self.driver.read_digest(digestfile, result.tail)
                if digest is None:
                    raise ImagePushError(
                        f"pushing {target.name} to {destination}: the builder reported no digest"
                    )
                return digest
            if attempt == attempts or not is_transient(result):
                raise ImagePushError(
                    f"pushing {target.name} to {destination} failed after {attempt} "
                    f"attempt{'s' if attempt > 1 else ''}: {result.error_line}"
                )
            delay = self.options.retry_delays[attempt - 1]
            logger.warning(
                "push of %s to %s failed (%s); retrying in %g s",
                target.name,
                destination,
                result.error_line,
                delay,
            )
            (self._sleep or pause)(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _run_all(self, commands: list[list[str]], credentials: Credentials) -> CommandResult:
        result = CommandResult(returncode=0, tail=())
        for arguments in commands:
            result = self._run(arguments, credentials)
            if result.returncode != 0:
                break
        return result

    def _run(self, arguments: list[str], credentials: Credentials) -> CommandResult:
        environment = dict(os.environ)
        environment.update(self.driver.environment(credentials))
        return run_command(arguments, environment=environment, on_output=self._on_output)

    def _insecure(self, repository: str) -> bool:
        settings = self.catalog.config.registries.get(registry_host(repository))
        return settings is not None and settings.insecure

    def _status(self, message: str) -> None:
        logger.info("%s", message)
        if self._on_status is not None:
            self._on_status(message)


def build_images(
    catalog: Catalog,
    names: Sequence[str],
    options: BuildOptions,
    *,
    on_status: StatusHandler | None = None,
    on_output: OutputHandler | None = None,
    sleep: Callable[[float], None] | None = None,
) -> BuildOutcome:
    """Build (and push) the selected images in dependency order.

    With `changed_only`, only images whose Dockerfile differs from their build record,
    and every selected image built on them, are built. Failures are collected in the
    outcome; raises only for a bad selection (UnknownImageError, DependencyCycleError).
    """
    targets = build_targets(catalog, list(names))
    outcome = BuildOutcome(order=[target.name for target in targets])
    failed: set[str] = set()
    with BuildSession(
        catalog, options, on_status=on_status, on_output=on_output, sleep=sleep
    ) as session:
        selected = _select_changed(session, targets, outcome, failed)
        for target in targets:
            if target.name in failed or target.name not in selected:
                continue
            blocked = [base for base in target.depends_on if base in failed]
            if blocked:
                failed.add(target.name)
                outcome.failures.append(
                    BaseImageFailedError(
                        f"{target.name} not built: its base image {blocked[0]} failed"
                    )
                )
                continue
            try:
                record = session.build(target)
            except PinwrightError as error:
                failed.add(target.name)
                outcome.failures.append(error)
                continue
            note_record(outcome, catalog, target, record)
    return outcome


def note_record(
    outcome: BuildOutcome, catalog: Catalog, target: BuildTarget, record: BuildRecord
) -> None:
    """Add a finished build to the outcome."""
    outcome.built.append(target.name)
    if record.pushed is not None:
        outcome.pushed[target.name] = record.pushed.digest
    outcome.written.append(catalog.relative(record_path(catalog.root / target.context)))


def _select_changed(
    session: BuildSession,
    targets: Sequence[BuildTarget],
    outcome: BuildOutcome,
    failed: set[str],
) -> set[str]:
    names = {target.name for target in targets}
    if not session.options.changed_only:
        return names
    changed: set[str] = set()
    for target in targets:
        try:
            reason = session.change_reason(target)
        except PinwrightError as error:
            failed.add(target.name)
            outcome.failures.append(error)
            continue
        if reason is not None:
            logger.info("%s needs a build: %s", target.name, reason)
            changed.add(target.name)
    graph = {target.name: target.depends_on for target in targets}
    selected = with_dependents(graph, changed) & names
    outcome.unchanged = [name for name in outcome.order if name not in selected | failed]
    return selected


def _with_platforms(target: BuildTarget, platforms: tuple[str, ...]) -> BuildTarget:
    return target if platforms == target.platforms else replace(target, platforms=platforms)


def update_and_build(
    catalog: Catalog,
    names: Sequence[str],
    resolve_options: ResolveOptions,
    options: BuildOptions,
    *,
    on_status: StatusHandler | None = None,
    on_output: OutputHandler | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Outcome:
    """Lock, compile, then build (and push) each changed image before its dependents lock.

    An image is built when its Dockerfile differs from its build record (or, with push,
    when it has not been pushed with its current tags), so a dependent then locks the
    digest just pushed and the whole chain updates in one run.
    """
    with BuildSession(
        catalog, options, on_status=on_status, on_output=on_output, sleep=sleep
    ) as session:

        def build_if_changed(name: str, outcome: Outcome) -> None:
            target = build_targets(catalog, [name])[0]
            reason = session.change_reason(target)
            if reason is None:
                return
            logger.info("%s needs a build: %s", name, reason)
            session.build(target)
            outcome.written.append(catalog.relative(record_path(catalog.root / target.context)))

        return update_each(catalog, names, resolve_options, build_if_changed)
