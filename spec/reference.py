"""Parse container image references the way Docker normalises them.

The grammar follows the distribution project's reference package: an optional registry
host, a lowercase repository path, an optional tag and an optional digest.
`alpine` means `docker.io/library/alpine:latest`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spec.errors import InvalidInputError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
DEFAULT_TAG = "latest"

# Other spellings of Docker Hub that users and Docker config files write.
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"(?::[0-9]+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}")
# Hex lengths of the digest algorithms the OCI image spec registers.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_MAX_NAME_LENGTH = 255


class InvalidReferenceError(InvalidInputError):
    """An image reference that does not follow the reference grammar."""


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference.

    `registry` and `repository` are normalised (`docker.io`, `library/alpine`), while
    `written_name` keeps the name as the user wrote it (`alpine`). `tag` is None when no tag
    was written; `digest` is None when no digest was written.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None
    written_name: str = ""

    @property
    def api_host(self) -> str:
        """The host that serves the registry API (`registry-1.docker.io` for Docker Hub)."""
        return DOCKER_HUB_API_HOST if self.registry == DOCKER_HUB else self.registry

    @property
    def manifest_reference(self) -> str:
        """The digest, else the tag, else `latest`: what goes after `/manifests/`."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def name(self) -> str:
        """The normalised name, such as `docker.io/library/alpine`."""
        return f"{self.registry}/{self.repository}"

    def canonical(self) -> str:
        """Return the fully qualified form, such as `docker.io/library/alpine:latest`."""
        text = self.name
        if self.tag is not None or self.digest is None:
            text += f":{self.tag or DEFAULT_TAG}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def pinned(self, digest: str) -> str:
        """Return the reference as written, pinned to `digest` (`alpine:3.20@sha256:...`).

        Raises InvalidReferenceError when `digest` is not a valid digest.
        """
        check_digest(digest)
        text = self.written_name or self.name
        if self.tag is not None:
            text += f":{self.tag}"
        return f"{text}@{digest}"

    def __str__(self) -> str:
        text = self.written_name or self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> ImageReference:
    """Parse and normalise an image reference such as `alpine:3.20` or `host:5000/app@sha256:...`.

    Raises InvalidReferenceError naming the reference when it does not follow the grammar.
    """
    remainder, digest = _split_digest(text)
    name, tag = _split_tag(text, remainder)
    registry, repository = _split_registry(text, name)

    if len(repository) > _MAX_NAME_LENGTH:
        raise InvalidReferenceError(
            f"invalid image reference {text!r}: the repository name is longer than "
            f"{_MAX_NAME_LENGTH} characters"
        )
    for component in repository.split("/"):
        _check_path_component(text, component)

    return ImageReference(
        registry=registry, repository=repository, tag=tag, digest=digest, written_name=name
    )


def check_digest(digest: str) -> None:
    """Check that `digest` is `ALGORITHM:HEX` with a known algorithm and lowercase hex.

    Raises InvalidReferenceError naming the digest.
    """
    algorithm, _, hex_value = digest.partition(":")
    length = DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        raise InvalidReferenceError(
            f"invalid digest {digest!r}: expected one of "
            f"{', '.join(sorted(DIGEST_HEX_LENGTHS))} followed by ':' and hex digits"
        )
    if len(hex_value) != length or not re.fullmatch(r"[0-9a-f]+", hex_value):
        raise InvalidReferenceError(
            f"invalid digest {digest!r}: expected {length} lowercase hex digits after "
            f"'{algorithm}:'"
        )


def normalise_registry(host: str) -> str:
    """Map every spelling of Docker Hub to `docker.io`; leave other hosts unchanged."""
    lowered = host.lower()
    return DOCKER_HUB if lowered in _DOCKER_HUB_ALIASES else host


def _split_digest(text: str) -> tuple[str, str | None]:
    remainder, separator, digest = text.partition("@")
    if not separator:
        return text, None
    try:
        check_digest(digest)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(f"invalid image reference {text!r}: {error.message}") from None
    return remainder, digest


def _split_tag(text: str, remainder: str) -> tuple[str, str | None]:
    # A colon after the last slash starts the tag; an earlier colon belongs to a host port.
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon <= last_slash:
        return remainder, None
    name, tag = remainder[:colon], remainder[colon + 1 :]
    if not _TAG.fullmatch(tag):
        raise InvalidReferenceError(
            f"invalid image reference {text!r}: invalid tag {tag!r} (a tag is up to 128 "
            "letters, digits, '_', '.' or '-', and must not start with '.' or '-')"
        )
    return name, tag


def _split_registry(text: str, name: str) -> tuple[str, str]:
    if not name:
        raise InvalidReferenceError(f"invalid image reference {text!r}: the name is empty")
    first, separator, rest = name.partition("/")
    is_registry = separator and ("." in first or ":" in first or first == "localhost")
    if not is_registry:
        repository = name if "/" in name else f"library/{name}"
        return DOCKER_HUB, repository

    if not _DOMAIN.fullmatch(first):
        raise InvalidReferenceError(
            f"invalid image reference {text!r}: invalid registry host {first!r}"
        )
    registry = normalise_registry(first)
    if registry == DOCKER_HUB and "/" not in rest:
        rest = f"library/{rest}"
    return registry, rest


def _check_path_component(text: str, component: str) -> None:
    if _PATH_COMPONENT.fullmatch(component):
        return
    if _PATH_COMPONENT.fullmatch(component.lower()):
        raise InvalidReferenceError(
            f"invalid image reference {text!r}: the repository name must be lowercase"
        )
    raise InvalidReferenceError(
        f"invalid image reference {text!r}: invalid repository path component {component!r} "
        "(lowercase letters and digits, separated by '.', '_', '__' or '-')"
    )
