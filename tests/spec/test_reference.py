"""Image reference parsing and Docker's name normalisation."""

from __future__ import annotations

import pytest

from spec.errors import InvalidInputError
from spec.reference import (
    ImageReference,
    InvalidReferenceError,
    parse_reference,
)

DIGEST = "sha256:" + "ab" * 32
OTHER_DIGEST = "sha256:" + "cd" * 32


@pytest.mark.parametrize(
    ("text", "canonical", "api_host"),
    [
        ("alpine", "docker.io/library/alpine:latest", "registry-1.docker.io"),
        ("alpine:3.20", "docker.io/library/alpine:3.20", "registry-1.docker.io"),
        ("user/app", "docker.io/user/app:latest", "registry-1.docker.io"),
        ("docker.io/alpine", "docker.io/library/alpine:latest", "registry-1.docker.io"),
        ("index.docker.io/library/alpine:3", "docker.io/library/alpine:3", "registry-1.docker.io"),
        ("index.docker.io/user/app", "docker.io/user/app:latest", "registry-1.docker.io"),
        ("ghcr.io/org/tool:v1.2.3", "ghcr.io/org/tool:v1.2.3", "ghcr.io"),
        ("localhost/app", "localhost/app:latest", "localhost"),
        ("localhost:5000/app:dev", "localhost:5000/app:dev", "localhost:5000"),
        ("127.0.0.1:5000/a/b/c:1", "127.0.0.1:5000/a/b/c:1", "127.0.0.1:5000"),
        ("Registry.Example.com/app", "Registry.Example.com/app:latest", "Registry.Example.com"),
        (f"alpine@{DIGEST}", f"docker.io/library/alpine@{DIGEST}", "registry-1.docker.io"),
        (f"alpine:3@{DIGEST}", f"docker.io/library/alpine:3@{DIGEST}", "registry-1.docker.io"),
        ("a__b/c-d.e_f--g:T_1.x-y", "docker.io/a__b/c-d.e_f--g:T_1.x-y", "registry-1.docker.io"),
    ],
)
def test_parse_reference_normalises(text: str, canonical: str, api_host: str) -> None:
    reference = parse_reference(text)
    assert reference.canonical() == canonical
    assert reference.api_host == api_host
    assert str(reference) == text


def test_parse_reference_fields() -> None:
    reference = parse_reference(f"alpine:3.20@{DIGEST}")
    assert reference == ImageReference(
        registry="docker.io",
        repository="library/alpine",
        tag="3.20",
        digest=DIGEST,
        written_name="alpine",
    )
    assert reference.manifest_reference == DIGEST


def test_manifest_reference_defaults_to_latest() -> None:
    reference = parse_reference("app")
    assert reference.tag is None
    assert reference.digest is None
    assert reference.manifest_reference == "latest"


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("alpine", f"alpine@{DIGEST}"),
        ("alpine:3.20", f"alpine:3.20@{DIGEST}"),
        ("docker.io/library/alpine:3", f"docker.io/library/alpine:3@{DIGEST}"),
        ("127.0.0.1:5000/app:1", f"127.0.0.1:5000/app:1@{DIGEST}"),
        (f"alpine:3@{OTHER_DIGEST}", f"alpine:3@{DIGEST}"),
    ],
)
def test_pinned_keeps_written_form(text: str, pinned: str) -> None:
    assert parse_reference(text).pinned(DIGEST) == pinned


def test_pinned_rejects_bad_digest() -> None:
    with pytest.raises(InvalidReferenceError, match="invalid digest 'sha256:abc'"):
        parse_reference("alpine").pinned("sha256:abc")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the name is empty"),
        ("Alpine", "the repository name must be lowercase"),
        ("docker.io/User/app", "the repository name must be lowercase"),
        ("alpine:", "invalid tag ''"),
        ("alpine:-x", "invalid tag '-x'"),
        ("alpine:" + "a" * 129, "invalid tag"),
        ("alpine:a/b", "invalid registry host 'alpine:a'"),
        ("alpine@sha256:abc", "expected 64 lowercase hex digits after 'sha256:'"),
        ("alpine@sha256:" + "AB" * 32, "expected 64 lowercase hex digits"),
        ("alpine@md5:" + "ab" * 16, "expected one of sha256, sha384, sha512"),
        ("a//b", "invalid repository path component ''"),
        ("app/", "invalid repository path component ''"),
        ("-host.com/app", "invalid registry host '-host.com'"),
        ("a" * 256, "longer than 255 characters"),
        ("with space", "invalid repository path component"),
    ],
)
def test_parse_reference_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_reference(text)
    assert message in caught.value.message
    assert caught.value.message.startswith(f"invalid image reference {text!r}")


def test_invalid_reference_is_input_error() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_reference("UPPER")
    assert caught.value.exit_code == 2
