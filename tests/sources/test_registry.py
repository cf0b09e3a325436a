"""The registry client against the real distribution registry on loopback, in each auth mode."""

from __future__ import annotations

import json
import logging
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from compiler.sources.registry import (
    OCI_INDEX,
    OCI_MANIFEST,
    ManifestNotFoundError,
    RegistryClient,
    RegistrySettings,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
    ResolvedImage,
    RetryPolicy,
)
from tests.servers.images import busybox_files
from tests.servers.registry import (  # noqa: F401 - pytest fixtures
    PASSWORD,
    USERNAME,
    RunningRegistry,
    free_port,
    registry_anonymous,
    registry_basic,
    registry_token,
)

pytestmark = pytest.mark.e2e

MODES = ["registry_anonymous", "registry_basic", "registry_token"]
QUICK_RETRY = RetryPolicy(attempts=2, backoff=0.0)


class CountingSession(requests.Session):
    """A real session that counts the requests it sends, by method."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self._count_lock = threading.Lock()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        with self._count_lock:
            key = str(method)
            self.counts[key] = self.counts.get(key, 0) + 1
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def session() -> Iterator[CountingSession]:
    with CountingSession() as opened:
        yield opened


def make_client(
    session: requests.Session,
    registry: RunningRegistry,
    docker_config: Path,
    **settings: RegistrySettings,
) -> RegistryClient:
    all_settings = {registry.host: RegistrySettings(insecure=True), **settings}
    return RegistryClient(
        session,
        settings=all_settings,
        docker_config=docker_config,
        retry=QUICK_RETRY,
        sleep=lambda seconds: None,
    )


@pytest.fixture(scope="module")
def pushed(request: pytest.FixtureRequest) -> dict[str, dict[str, str]]:
    """Push a busybox image, a two-platform index and a private image to every registry."""
    digests: dict[str, dict[str, str]] = {}
    for mode in MODES:
        registry: RunningRegistry = request.getfixturevalue(mode)
        digests[mode] = {
            "busybox": registry.push("public/busybox", "1.0", files=busybox_files()),
            "multi": registry.push("public/multi", "2", platforms=("linux/amd64", "linux/arm64")),
            "private": registry.push("private/app", "1"),
        }
    return digests


@pytest.mark.parametrize("mode", MODES)
def test_resolve_tag_each_auth_mode(
    mode: str,
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    registry: RunningRegistry = request.getfixturevalue(mode)
    client = make_client(session, registry, registry.write_docker_config(tmp_path))
    reference = f"{registry.host}/public/busybox:1.0"

    resolved = client.resolve(reference)

    assert resolved == ResolvedImage(
        reference=reference,
        digest=pushed[mode]["busybox"],
        media_type=OCI_MANIFEST,
        platforms=(),
        source=f"http://{registry.host}/v2/public/busybox/manifests/1.0",
    )


@pytest.mark.parametrize("mode", MODES)
def test_resolve_index_each_auth_mode(
    mode: str,
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    registry: RunningRegistry = request.getfixturevalue(mode)
    client = make_client(session, registry, registry.write_docker_config(tmp_path))
    reference = f"{registry.host}/public/multi:2"

    resolved = client.resolve(reference)

    assert resolved.digest == pushed[mode]["multi"]
    assert resolved.media_type == OCI_INDEX
    assert resolved.platforms == ("linux/amd64", "linux/arm64")
    assert resolved.reference == reference


@pytest.mark.parametrize("mode", MODES)
def test_resolve_private_repository_with_credentials(
    mode: str,
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    registry: RunningRegistry = request.getfixturevalue(mode)
    client = make_client(session, registry, registry.write_docker_config(tmp_path))

    resolved = client.resolve(f"{registry.host}/private/app:1")

    assert resolved.digest == pushed[mode]["private"]


def test_resolve_by_digest(
    registry_anonymous: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    digest = pushed["registry_anonymous"]["busybox"]
    client = make_client(session, registry_anonymous, tmp_path / "none.json")
    reference = f"{registry_anonymous.host}/public/busybox:1.0@{digest}"

    resolved = client.resolve(reference)

    assert resolved.digest == digest
    assert resolved.reference == reference


def test_token_mode_anonymous_pull_of_public_repository(
    registry_token: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    client = make_client(session, registry_token, tmp_path / "missing-config.json")
    assert registry_token.token_server is not None
    before = len(registry_token.token_server.requests)

    resolved = client.resolve(f"{registry_token.host}/public/busybox:1.0")

    assert resolved.digest == pushed["registry_token"]["busybox"]
    token_requests = registry_token.token_server.requests[before:]
    assert [(r.username, r.scopes) for r in token_requests] == [
        (None, ["repository:public/busybox:pull"])
    ]


def test_token_mode_reuses_cached_token(
    registry_token: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    client = make_client(session, registry_token, registry_token.write_docker_config(tmp_path))
    assert registry_token.token_server is not None
    before = len(registry_token.token_server.requests)

    client.resolve(f"{registry_token.host}/public/multi:2")
    client.resolve(f"{registry_token.host}/public/multi:2@{pushed['registry_token']['multi']}")

    token_requests = registry_token.token_server.requests[before:]
    assert [(r.username, r.scopes) for r in token_requests] == [
        (USERNAME, ["repository:public/multi:pull"])
    ]


@pytest.mark.parametrize("mode", ["registry_basic", "registry_token"])
def test_private_repository_without_credentials(
    mode: str,
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    registry: RunningRegistry = request.getfixturevalue(mode)
    client = make_client(session, registry, tmp_path / "missing-config.json")
    reference = f"{registry.host}/private/app:1"

    with pytest.raises(RegistryUnauthorizedError) as caught:
        client.resolve(reference)

    assert str(caught.value) == (
        f"cannot resolve {reference}: registry {registry.host} requires "
        + (
            "a user name and password; add them to the Docker config (docker login)"
            if mode == "registry_basic"
            else "credentials to pull private/app (HTTP 401); add them to the Docker config "
            f"(docker login {registry.host})"
        )
    )


@pytest.mark.parametrize("mode", ["registry_basic", "registry_token"])
def test_wrong_password_hides_password(
    mode: str,
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry: RunningRegistry = request.getfixturevalue(mode)
    wrong_password = "wrong-secret-password"
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"auths": {registry.host: {"username": USERNAME, "password": wrong_password}}})
    )
    client = make_client(session, registry, config)
    reference = f"{registry.host}/public/busybox:1.0"
    caplog.set_level(logging.DEBUG)

    with pytest.raises(RegistryUnauthorizedError) as caught:
        client.resolve(reference)

    message = str(caught.value)
    if mode == "registry_basic":
        assert message == (
            f"cannot resolve {reference}: registry {registry.host} rejected the credentials for "
            f"public/busybox (HTTP 401); check the user name and password for {registry.host} "
            "in the Docker config"
        )
    else:
        realm_host = registry.token_server.realm.split("/")[2] if registry.token_server else ""
        assert message == (
            f"cannot resolve {reference}: token server {realm_host} rejected the configured "
            f"credentials for registry {registry.host} (HTTP 401); check the user name and "
            "password in the Docker config"
        )
    assert wrong_password not in message
    assert wrong_password not in caplog.text
    assert "Authorization" not in caplog.text


def test_missing_tag(
    registry_anonymous: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    client = make_client(session, registry_anonymous, tmp_path / "none.json")
    reference = f"{registry_anonymous.host}/public/busybox:9.9"

    with pytest.raises(ManifestNotFoundError) as caught:
        client.resolve(reference)

    assert str(caught.value) == (
        f"cannot resolve {reference}: tag 9.9 not found in public/busybox at "
        f"{registry_anonymous.host}"
    )


def test_missing_repository(
    registry_token: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    client = make_client(session, registry_token, registry_token.write_docker_config(tmp_path))
    reference = f"{registry_token.host}/no/such-repo:1"

    with pytest.raises(ManifestNotFoundError) as caught:
        client.resolve(reference)

    assert str(caught.value) == (
        f"cannot resolve {reference}: repository no/such-repo not found at {registry_token.host}"
    )


def test_missing_digest(
    registry_anonymous: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    client = make_client(session, registry_anonymous, tmp_path / "none.json")
    digest = "sha256:" + "0" * 64
    reference = f"{registry_anonymous.host}/public/busybox@{digest}"

    with pytest.raises(ManifestNotFoundError) as caught:
        client.resolve(reference)

    assert str(caught.value) == (
        f"cannot resolve {reference}: digest {digest} not found in public/busybox at "
        f"{registry_anonymous.host}"
    )


def test_unreachable_registry(session: CountingSession, tmp_path: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    client = RegistryClient(
        session,
        settings={host: RegistrySettings(insecure=True)},
        docker_config=tmp_path / "none.json",
        retry=QUICK_RETRY,
        sleep=lambda seconds: None,
    )
    reference = f"{host}/app:1"

    with pytest.raises(RegistryUnreachableError) as caught:
        client.resolve(reference)

    assert str(caught.value) == (
        f"cannot resolve {reference}: registry {host} is unreachable (ConnectionError) "
        "after 2 attempts"
    )


def test_tls_verified_unless_insecure(
    registry_anonymous: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    client = RegistryClient(
        session, docker_config=tmp_path / "none.json", retry=QUICK_RETRY, sleep=lambda s: None
    )
    reference = f"{registry_anonymous.host}/public/busybox:1.0"

    with pytest.raises(RegistryUnreachableError) as caught:
        client.resolve(reference)

    host = registry_anonymous.host
    assert str(caught.value) == (
        f"cannot resolve {reference}: TLS with registry {host} failed; if it serves plain "
        "HTTP or a certificate you cannot verify, mark it with "
        f'`registries: {{"{host}": {{insecure: true}}}}` in pinwright.yaml'
    )
    # A TLS failure is not retried: it would fail the same way every time.
    assert session.counts == {"HEAD": 1}


def test_mirror_with_path_prefix(
    registry_anonymous: RunningRegistry,  # noqa: F811
    session: CountingSession,
    tmp_path: Path,
) -> None:
    digest = registry_anonymous.push("hub/library/alpine", "3.20")
    mirror = RegistrySettings(mirror=f"http://{registry_anonymous.host}/hub")
    client = RegistryClient(
        session, settings={"docker.io": mirror}, docker_config=tmp_path / "none.json"
    )

    resolved = client.resolve("alpine:3.20")

    assert resolved == ResolvedImage(
        reference="alpine:3.20",
        digest=digest,
        media_type=OCI_MANIFEST,
        platforms=(),
        source=f"http://{registry_anonymous.host}/v2/hub/library/alpine/manifests/3.20",
    )


def test_mirror_host_marked_insecure(
    registry_anonymous: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    settings = {
        "registry.invalid": RegistrySettings(mirror=registry_anonymous.host),
        registry_anonymous.host: RegistrySettings(insecure=True),
    }
    client = RegistryClient(session, settings=settings, docker_config=tmp_path / "none.json")

    resolved = client.resolve("registry.invalid/public/multi:2")

    assert resolved.reference == "registry.invalid/public/multi:2"
    assert resolved.digest == pushed["registry_anonymous"]["multi"]
    assert resolved.source == f"http://{registry_anonymous.host}/v2/public/multi/manifests/2"


def test_credential_helper_from_path(
    registry_basic: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-pinwright-test"
    answer = json.dumps(
        {"ServerURL": registry_basic.host, "Username": USERNAME, "Secret": PASSWORD}
    )
    helper.write_text(
        "#!/bin/sh\n"
        "read -r server\n"
        f'if [ "$1" = get ] && [ "$server" = "{registry_basic.host}" ]; then\n'
        f"  printf '%s' '{answer}'\n"
        "else\n"
        "  echo 'credentials not found in native keychain'; exit 1\n"
        "fi\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path('/usr/bin')}:{Path('/bin')}")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credHelpers": {registry_basic.host: "pinwright-test"}}))
    client = make_client(session, registry_basic, config)

    resolved = client.resolve(f"{registry_basic.host}/private/app:1")

    assert resolved.digest == pushed["registry_basic"]["private"]


def test_concurrent_callers_share_one_head(
    registry_token: RunningRegistry,  # noqa: F811
    pushed: dict[str, dict[str, str]],
    session: CountingSession,
    tmp_path: Path,
) -> None:
    client = make_client(session, registry_token, registry_token.write_docker_config(tmp_path))
    reference = f"{registry_token.host}/public/busybox:1.0"
    barrier = threading.Barrier(8)
    results: list[ResolvedImage] = []
    results_lock = threading.Lock()

    def resolve_after_barrier() -> None:
        barrier.wait()
        resolved = client.resolve(reference)
        with results_lock:
            results.append(resolved)

    threads = [threading.Thread(target=resolve_after_barrier) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert {result.digest for result in results} == {pushed["registry_token"]["busybox"]}
    # One resolution: a HEAD over HTTPS that fails (this insecure registry speaks HTTP), a
    # HEAD over HTTP answered 401, one token GET, and the HEAD that sends the token.
    assert session.counts == {"HEAD": 3, "GET": 1}
