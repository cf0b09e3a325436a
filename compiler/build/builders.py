"""Builder drivers: the argument lists that build, push and assemble images.

buildah is the reference driver. podman takes the same options under the same names;
docker builds one platform per image and pushes through its daemon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from spec.errors import InvalidInputError

BUILDERS = ("buildah", "podman", "docker")
# `docker push` prints `TAG: digest: sha256:... size: N` when the push succeeds.
_DOCKER_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


class BuilderUnsupportedError(InvalidInputError):
    """The chosen builder cannot do what the build needs."""


@dataclass(frozen=True)
class BuilderSettings:
    """Which builder runs and where it keeps its images."""

    name: str = "buildah"
    root: Path | None = None  # storage root (`--root`); None uses the builder's default
    runroot: Path | None = None  # state folder (`--runroot`)
    storage_driver: str | None = None  # such as `vfs` or `overlay`
    isolation: str | None = None  # RUN isolation for buildah and podman, such as `chroot`
    timestamp: int | None = 0  # image creation time in epoch seconds; 0 makes builds repeatable


@dataclass(frozen=True)
class Credentials:
    """Files the builder reads registry settings from; both stay off the command line."""

    authfile: Path  # a Docker config.json with an `auths` entry per registry
    registries_conf: Path  # a containers registries.conf marking insecure registries


class BuildahDriver:
    """Commands for buildah; podman uses the same options."""

    def __init__(self, settings: BuilderSettings) -> None:
        self.settings = settings
        self.program = settings.name

    @property
    def supports_manifests(self) -> bool:
        return True

    def environment(self, credentials: Credentials) -> dict[str, str]:
        return {"CONTAINERS_REGISTRIES_CONF": str(credentials.registries_conf)}

    def global_options(self) -> list[str]:
        options: list[str] = []
        if self.settings.root is not None:
            options += ["--root", str(self.settings.root)]
        if self.settings.runroot is not None:
            options += ["--runroot", str(self.settings.runroot)]
        if self.settings.storage_driver is not None:
            options += ["--storage-driver", self.settings.storage_driver]
        return options

    def build(
        self,
        *,
        dockerfile: Path,
        context: Path,
        platform: str,
        iidfile: Path,
        credentials: Credentials,
    ) -> list[str]:
        arguments = [self.program, *self.global_options(), "build", "--platform", platform]
        if self.settings.timestamp is not None:
            arguments += ["--timestamp", str(self.settings.timestamp)]
        if self.settings.isolation is not None:
            arguments += ["--isolation", self.settings.isolation]
        arguments += ["--authfile", str(credentials.authfile), "--iidfile", str(iidfile)]
        return [*arguments, "--file", str(dockerfile), str(context)]

    def push(
        self,
        *,
        image: str,
        destination: str,
        digestfile: Path,
        credentials: Credentials,
        insecure: bool,
    ) -> list[list[str]]:
        arguments = [self.program, *self.global_options(), "push"]
        arguments += self._push_options(digestfile, credentials, insecure)
        if self.program == "buildah":
            # Pinwright retries with its own backoff, so buildah's retries are turned off.
            arguments += ["--retry", "0"]
        return [[*arguments, image, f"docker://{destination}"]]

    def create_manifest(self, name: str) -> list[list[str]]:
        """Return the commands that replace any local manifest list `name` by an empty one."""
        base = [self.program, *self.global_options(), "manifest"]
        return [[*base, "rm", name], [*base, "create", name]]

    def add_to_manifest(self, name: str, image: str) -> list[str]:
        return [self.program, *self.global_options(), "manifest", "add", name, image]

    def push_manifest(
        self,
        *,
        name: str,
        destination: str,
        digestfile: Path,
        credentials: Credentials,
        insecure: bool,
    ) -> list[list[str]]:
        arguments = [self.program, *self.global_options(), "manifest", "push", "--all"]
        arguments += ["--format", "oci"]
        arguments += self._push_options(digestfile, credentials, insecure)
        return [[*arguments, name, f"docker://{destination}"]]

    def read_digest(self, digestfile: Path, output: tuple[str, ...]) -> str | None:
        try:
            text = digestfile.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def _push_options(
        self, digestfile: Path, credentials: Credentials, insecure: bool
    ) -> list[str]:
        options = ["--authfile", str(credentials.authfile), "--digestfile", str(digestfile)]
        if insecure:
            options.append("--tls-verify=false")
        return options


class DockerDriver:
    """Commands for the docker CLI and its daemon.

    NOTE: the daemon decides TLS for each registry from its own `insecure-registries`
    setting, so `insecure` in pinwright.yaml has no effect here, and a multi-platform
    index cannot be assembled in a fixed order without buildx, so docker builds one
    platform per image.
    """

    program = "docker"

    def __init__(self, settings: BuilderSettings) -> None:
        self.settings = settings

    @property
    def supports_manifests(self) -> bool:
        return False

    def environment(self, credentials: Credentials) -> dict[str, str]:
        environment = {"DOCKER_CONFIG": str(credentials.authfile.parent)}
        if self.settings.timestamp is not None:
            environment["SOURCE_DATE_EPOCH"] = str(self.settings.timestamp)
        return environment

    def build(
        self,
        *,
        dockerfile: Path,
        context: Path,
        platform: str,
        iidfile: Path,
        credentials: Credentials,
    ) -> list[str]:
        return [
            "docker",
            "build",
            "--platform",
            platform,
            "--iidfile",
            str(iidfile),
            "--file",
            str(dockerfile),
            str(context),
        ]

    def push(
        self,
        *,
        image: str,
        destination: str,
        digestfile: Path,
        credentials: Credentials,
        insecure: bool,
    ) -> list[list[str]]:
        return [["docker", "tag", image, destination], ["docker", "push", destination]]

    def create_manifest(self, name: str) -> list[list[str]]:
        raise BuilderUnsupportedError(
            "docker builds one platform per image: use --builder buildah or podman for "
            "several platforms, or hand the graph to BuildKit with `pinwright graph --format bake`"
        )

    def add_to_manifest(self, name: str, image: str) -> list[str]:
        raise BuilderUnsupportedError("docker cannot assemble a manifest list")

    def push_manifest(
        self,
        *,
        name: str,
        destination: str,
        digestfile: Path,
        credentials: Credentials,
        insecure: bool,
    ) -> list[list[str]]:
        raise BuilderUnsupportedError("docker cannot push a manifest list")

    def read_digest(self, digestfile: Path, output: tuple[str, ...]) -> str | None:
        for line in reversed(output):
            found = _DOCKER_DIGEST.search(line)
            if found:
                return found.group(1)
        return None


Driver = BuildahDriver | DockerDriver


def create_driver(settings: BuilderSettings) -> Driver:
    """Return the driver for `settings.name`; raises BuilderUnsupportedError for others."""
    if settings.name in ("buildah", "podman"):
        return BuildahDriver(settings)
    if settings.name == "docker":
        return DockerDriver(settings)
    raise BuilderUnsupportedError(
        f"unknown builder {settings.name!r} (choose one of: {', '.join(BUILDERS)})"
    )
