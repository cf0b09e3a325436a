"""Registry faults a real registry cannot be made to show, through a mocked transport.

The mocked transport is a requests adapter mounted for every URL, so no request leaves
the process. It returns scripted responses and records what it received.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from compiler.sources.registry import (
    DOCKER_MANIFEST,
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    ManifestDigestMismatchError,
    ManifestInvalidError,
    RegistryClient,
    RegistrySettings,
    RegistryUnreachableError,
    RetryPolicy,
    parse_index_platforms,
)

HOST = "127.0.0.1:9"
MANIFEST_PATH = "/v2/app/manifests/1"
MANIFEST_BODY = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST}).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST_BODY).hexdigest()

Reply = tuple[int, dict[str, str], bytes]


class MockedTransport(BaseAdapter):
    """A mocked transport: `handler(request)` returns (status, headers, body)."""

    def __init__(self, handler: Callable[[requests.PreparedRequest], Reply]) -> None:
        super().__init__()
        self.handler = handler
        self.received: list[tuple[str, str]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.received.append((str(request.method), str(request.url)))
        status, headers, body = self.handler(request)
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(body if request.method != "HEAD" else b"")
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def sleeps() -> list[float]:
    return []


@contextmanager
def mocked_client(
    handler: Callable[[requests.PreparedRequest], Reply], sleeps: list[float], tmp_path: Path
) -> Iterator[tuple[RegistryClient, MockedTransport]]:
    transport = MockedTransport(handler)
    with requests.Session() as session:
        session.mount("http://", transport)
        session.mount("https://", transport)
        client = RegistryClient(
            session,
            settings={HOST: RegistrySettings(insecure=True)},
            docker_config=tmp_path / "none.json",
            retry=RetryPolicy(attempts=4, backoff=0.5, max_backoff=8.0, max_retry_after=60.0),
            sleep=sleeps.append,
        )
        yield client, transport


def manifest_reply(
    request: requests.PreparedRequest, digest: str | None = MANIFEST_DIGEST
) -> Reply:
    headers = {"Content-Type": DOCKER_MANIFEST}
    if digest is not None:
        headers["Docker-Content-Digest"] = digest
    return 200, headers, MANIFEST_BODY


def test_missing_digest_header_hashes_body(sleeps: list[float], tmp_path: Path) -> None:
    with mocked_client(lambda r: manifest_reply(r, None), sleeps, tmp_path) as (client, transport):
        resolved = client.resolve(f"{HOST}/app:1")

        assert resolved.digest == MANIFEST_DIGEST
        assert resolved.media_type == DOCKER_MANIFEST
        assert transport.received == [
            ("HEAD", f"https://{HOST}{MANIFEST_PATH}"),
            ("GET", f"https://{HOST}{MANIFEST_PATH}"),
        ]


def test_body_not_matching_header_digest(sleeps: list[float], tmp_path: Path) -> None:
    claimed = "sha256:" + "1" * 64

    def handler(request: requests.PreparedRequest) -> Reply:
        if request.method == "HEAD":
            return manifest_reply(request, None)
        return manifest_reply(request, claimed)

    with mocked_client(handler, sleeps, tmp_path) as (client, _):
        with pytest.raises(ManifestDigestMismatchError) as caught:
            client.resolve(f"{HOST}/app:1")

        assert str(caught.value) == (
            f"manifest of {HOST}/app:1 from {HOST} hashes to {MANIFEST_DIGEST}, but {claimed} "
            "was expected; the registry or a proxy altered it"
        )


def test_head_digest_not_matching_reference(sleeps: list[float], tmp_path: Path) -> None:
    pinned = "sha256:" + "2" * 64
    reference = f"{HOST}/app@{pinned}"
    with mocked_client(manifest_reply, sleeps, tmp_path) as (client, _):
        with pytest.raises(ManifestDigestMismatchError) as caught:
            client.resolve(reference)

        assert str(caught.value) == (
            f"cannot resolve {reference}: the registry returned a manifest with digest "
            f"{MANIFEST_DIGEST}"
        )


def test_index_body_not_matching_head_digest(sleeps: list[float], tmp_path: Path) -> None:
    index_body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}).encode()
    claimed = "sha256:" + "3" * 64

    def handler(request: requests.PreparedRequest) -> Reply:
        return 200, {"Content-Type": OCI_INDEX, "Docker-Content-Digest": claimed}, index_body

    with mocked_client(handler, sleeps, tmp_path) as (client, _):
        with pytest.raises(ManifestDigestMismatchError):
            client.resolve(f"{HOST}/app:1")


def test_retry_after_honoured(sleeps: list[float], tmp_path: Path) -> None:
    replies: list[Reply] = [(429, {"Retry-After": "7"}, b"")]

    def handler(request: requests.PreparedRequest) -> Reply:
        return replies.pop(0) if replies else manifest_reply(request)

    with mocked_client(handler, sleeps, tmp_path) as (client, transport):
        resolved = client.resolve(f"{HOST}/app:1")

        assert resolved.digest == MANIFEST_DIGEST
        assert sleeps == [7.0]
        assert len(transport.received) == 2


def test_retry_after_capped(sleeps: list[float], tmp_path: Path) -> None:
    replies: list[Reply] = [(429, {"Retry-After": "3600"}, b"")]

    def handler(request: requests.PreparedRequest) -> Reply:
        return replies.pop(0) if replies else manifest_reply(request)

    with mocked_client(handler, sleeps, tmp_path) as (client, _):
        client.resolve(f"{HOST}/app:1")

        assert sleeps == [60.0]


def test_server_errors_retried_with_backoff(sleeps: list[float], tmp_path: Path) -> None:
    replies: list[Reply] = [(503, {}, b""), (502, {}, b"")]

    def handler(request: requests.PreparedRequest) -> Reply:
        return replies.pop(0) if replies else manifest_reply(request)

    with mocked_client(handler, sleeps, tmp_path) as (client, _):
        resolved = client.resolve(f"{HOST}/app:1")

        assert resolved.digest == MANIFEST_DIGEST
        assert sleeps == [0.5, 1.0]


def test_server_errors_give_up(sleeps: list[float], tmp_path: Path) -> None:
    with mocked_client(lambda r: (503, {}, b""), sleeps, tmp_path) as (client, transport):
        with pytest.raises(RegistryUnreachableError) as caught:
            client.resolve(f"{HOST}/app:1")

        assert str(caught.value) == (
            f"cannot resolve {HOST}/app:1: registry {HOST} kept responding with HTTP 503 "
            "after 4 attempts"
        )
        assert sleeps == [0.5, 1.0, 2.0]
        assert len(transport.received) == 4


def test_connection_errors_retried(sleeps: list[float], tmp_path: Path) -> None:
    failures = [requests.ConnectionError("refused")] * 2

    def handler(request: requests.PreparedRequest) -> Reply:
        if failures:
            raise failures.pop()
        return manifest_reply(request)

    with mocked_client(handler, sleeps, tmp_path) as (client, _):
        resolved = client.resolve(f"{HOST}/app:1")

        assert resolved.digest == MANIFEST_DIGEST
        # The first attempt tried HTTPS, then HTTP, of the insecure registry; both failed.
        assert sleeps == [0.5]


def test_oversized_manifest_rejected(sleeps: list[float], tmp_path: Path) -> None:
    body = b" " * (MAX_MANIFEST_BYTES + 1)

    def handler(request: requests.PreparedRequest) -> Reply:
        return 200, {"Content-Type": OCI_INDEX}, body

    with mocked_client(handler, sleeps, tmp_path) as (client, _):
        with pytest.raises(ManifestInvalidError) as caught:
            client.resolve(f"{HOST}/app:1")

        assert (
            str(caught.value) == f"cannot resolve {HOST}/app:1: the manifest is larger than 4 MiB"
        )


def test_memoised_error_not_retried(sleeps: list[float], tmp_path: Path) -> None:
    with mocked_client(lambda r: (403, {}, b""), sleeps, tmp_path) as (client, transport):
        for _ in range(2):
            with pytest.raises(Exception, match="denied access"):
                client.resolve(f"{HOST}/app:1")

        assert len(transport.received) == 1


def test_real_index_platforms_through_mock(
    fixtures_dir: Path, sleeps: list[float], tmp_path: Path
) -> None:
    # The fixture's bytes do not hash to Docker Hub's digest, so the mock sends their own hash.
    body = (fixtures_dir / "oci" / "alpine-3.23.2-index" / "image_index.json").read_bytes()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()

    def handler(request: requests.PreparedRequest) -> Reply:
        return 200, {"Content-Type": OCI_INDEX, "Docker-Content-Digest": digest}, body

    with mocked_client(handler, sleeps, tmp_path) as (client, _):
        resolved = client.resolve(f"{HOST}/library/alpine:3.23.2")

        assert resolved.digest == digest
        assert resolved.platforms == (
            "linux/amd64",
            "linux/arm/v6",
            "linux/arm/v7",
            "linux/arm64/v8",
            "linux/386",
            "linux/ppc64le",
            "linux/riscv64",
            "linux/s390x",
        )


def test_parse_index_platforms_skips_unknown() -> None:
    body = json.dumps(
        {
            "manifests": [
                {"platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"platform": {"os": "unknown", "architecture": "unknown"}},
                {"digest": "sha256:x"},
                {
                    "platform": {"os": "linux", "architecture": "amd64"},
                    "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                },
                {"platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"platform": {"os": "windows", "architecture": "amd64"}},
            ]
        }
    ).encode()

    assert parse_index_platforms(body) == ("linux/arm64/v8", "windows/amd64")


def test_parse_index_platforms_rejects_non_index() -> None:
    with pytest.raises(ValueError, match="no manifests list"):
        parse_index_platforms(b'{"layers": []}')


def test_identity_token_exchanged_by_post(sleeps: list[float], tmp_path: Path) -> None:
    realm = "http://127.0.0.1:9/oauth"
    challenge = f'Bearer realm="{realm}",service="svc",scope="repository:app:pull"'
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {HOST: {"identitytoken": "refresh-value"}}})
    )
    forms: list[str] = []

    def handler(request: requests.PreparedRequest) -> Reply:
        if request.method == "POST":
            forms.append(str(request.body))
            return 200, {"Content-Type": "application/json"}, b'{"access_token": "granted"}'
        if request.headers.get("Authorization") == "Bearer granted":
            return manifest_reply(request)
        return 401, {"WWW-Authenticate": challenge}, b""

    transport = MockedTransport(handler)
    with requests.Session() as session:
        session.mount("http://", transport)
        session.mount("https://", transport)
        client = RegistryClient(
            session,
            settings={HOST: RegistrySettings(insecure=True)},
            docker_config=tmp_path / "config.json",
            sleep=sleeps.append,
        )
        resolved = client.resolve(f"{HOST}/app:1")

    assert resolved.digest == MANIFEST_DIGEST
    assert forms == [
        "grant_type=refresh_token&refresh_token=refresh-value&service=svc"
        "&scope=repository%3Aapp%3Apull&client_id=pinwright"
    ]
