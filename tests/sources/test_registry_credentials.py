"""Docker config credentials, credential helpers and WWW-Authenticate parsing."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from compiler.sources.credentials import (
    CredentialHelperError,
    Credentials,
    CredentialStore,
    DockerConfigInvalidError,
    find_docker_config,
)
from compiler.sources.registry_auth import (
    BearerChallenge,
    TokenCache,
    basic_authorization,
    parse_challenges,
)

HOST = "127.0.0.1:5000"


def write_config(folder: Path, document: object) -> Path:
    path = folder / "config.json"
    path.write_text(json.dumps(document))
    return path


def write_helper(folder: Path, name: str, script: str) -> None:
    """Write `docker-credential-NAME` into `folder` as an executable shell script."""
    helper = folder / f"docker-credential-{name}"
    helper.write_text("#!/bin/sh\n" + script)
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def helper_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    return folder


def encode(pair: str) -> str:
    return base64.b64encode(pair.encode()).decode()


def test_find_docker_config_from_environment(tmp_path: Path) -> None:
    assert find_docker_config({"DOCKER_CONFIG": str(tmp_path)}) == tmp_path / "config.json"
    assert find_docker_config({}) == Path.home() / ".docker" / "config.json"


def test_missing_config_means_no_credentials(tmp_path: Path) -> None:
    assert CredentialStore(tmp_path / "absent.json").lookup(HOST) is None


@pytest.mark.parametrize(
    ("key", "entry", "expected"),
    [
        (HOST, {"auth": encode("user:pa:ss")}, Credentials("user", "pa:ss")),
        (HOST, {"username": "user", "password": "secret"}, Credentials("user", "secret")),
        (f"http://{HOST}/v1/", {"auth": encode("u:p")}, Credentials("u", "p")),
        (HOST, {"identitytoken": "refresh"}, Credentials("", identity_token="refresh")),
        (HOST, {}, None),
    ],
)
def test_auths_entries(
    key: str, entry: dict[str, str], expected: Credentials | None, tmp_path: Path
) -> None:
    store = CredentialStore(write_config(tmp_path, {"auths": {key: entry}}))
    assert store.lookup(HOST) == expected


def test_docker_hub_key(tmp_path: Path) -> None:
    config = {"auths": {"https://index.docker.io/v1/": {"auth": encode("hub:pw")}}}
    store = CredentialStore(write_config(tmp_path, config))
    assert store.lookup("registry-1.docker.io") == Credentials("hub", "pw")
    assert store.lookup("docker.io") == Credentials("hub", "pw")


def test_invalid_auth_value(tmp_path: Path) -> None:
    store = CredentialStore(write_config(tmp_path, {"auths": {HOST: {"auth": "not base64!"}}}))
    with pytest.raises(DockerConfigInvalidError) as caught:
        store.lookup(HOST)
    assert str(caught.value) == (
        f"Docker config {tmp_path / 'config.json'}: the auth value for {HOST} is not base64 "
        "of 'user:password'"
    )


def test_invalid_json_config(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(DockerConfigInvalidError, match=r"is not valid JSON"):
        CredentialStore(path)


def test_repr_hides_secrets() -> None:
    text = repr(Credentials("user", "hunter2", identity_token="token-value"))
    assert "hunter2" not in text
    assert "token-value" not in text


def test_cred_helper_used(helper_dir: Path, tmp_path: Path) -> None:
    write_helper(
        helper_dir,
        "test",
        'read -r server; printf \'{"ServerURL":"%s","Username":"me","Secret":"s3"}\' "$server"\n',
    )
    store = CredentialStore(write_config(tmp_path, {"credHelpers": {HOST: "test"}}))
    assert store.lookup(HOST) == Credentials("me", "s3")


def test_cred_helper_identity_token(helper_dir: Path, tmp_path: Path) -> None:
    write_helper(helper_dir, "tok", 'echo \'{"Username":"<token>","Secret":"refresh"}\'\n')
    store = CredentialStore(write_config(tmp_path, {"credHelpers": {HOST: "tok"}}))
    assert store.lookup(HOST) == Credentials("", identity_token="refresh")


def test_creds_store_fallback(helper_dir: Path, tmp_path: Path) -> None:
    write_helper(
        helper_dir,
        "store",
        'read -r server\nif [ "$server" = "https://index.docker.io/v1/" ]; then\n'
        '  echo \'{"Username":"hub","Secret":"pw"}\'\n'
        "else echo 'credentials not found in native keychain'; exit 1; fi\n",
    )
    store = CredentialStore(write_config(tmp_path, {"credsStore": "store"}))
    assert store.lookup("docker.io") == Credentials("hub", "pw")
    assert store.lookup(HOST) is None


def test_cred_helper_failure_hides_output(helper_dir: Path, tmp_path: Path) -> None:
    write_helper(helper_dir, "bad", "echo 'leaked-secret'; exit 3\n")
    store = CredentialStore(write_config(tmp_path, {"credHelpers": {HOST: "bad"}}))
    with pytest.raises(CredentialHelperError) as caught:
        store.lookup(HOST)
    assert str(caught.value) == (
        f"credential helper docker-credential-bad for {HOST} failed with exit code 3"
    )


def test_cred_helper_timeout(helper_dir: Path, tmp_path: Path) -> None:
    write_helper(helper_dir, "slow", "exec sleep 30\n")
    config = write_config(tmp_path, {"credHelpers": {HOST: "slow"}})
    store = CredentialStore(config, helper_timeout=0.2)
    with pytest.raises(CredentialHelperError) as caught:
        store.lookup(HOST)
    assert str(caught.value) == (
        f"credential helper docker-credential-slow for {HOST} timed out after 0.2 s"
    )


def test_cred_helper_not_on_path(helper_dir: Path, tmp_path: Path) -> None:
    store = CredentialStore(write_config(tmp_path, {"credHelpers": {HOST: "absent"}}))
    with pytest.raises(
        CredentialHelperError, match="docker-credential-absent .* not found on PATH"
    ):
        store.lookup(HOST)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.example/token",service="registry.example",'
            'scope="repository:a/b:pull,push"',
            {
                "bearer": BearerChallenge(
                    "https://auth.example/token", "registry.example", "repository:a/b:pull,push"
                )
            },
        ),
        ('Basic realm="Registry Realm"', {"basic": BearerChallenge("Registry Realm")}),
        (
            'Basic realm="a, b", Bearer realm=https://t/token, service=svc',
            {
                "basic": BearerChallenge("a, b"),
                "bearer": BearerChallenge("https://t/token", "svc"),
            },
        ),
        ('bearer REALM="x\\"y"', {"bearer": BearerChallenge('x"y')}),
        ("Bearer service=svc", {}),
        ("", {}),
    ],
)
def test_parse_challenges(header: str, expected: dict[str, BearerChallenge]) -> None:
    assert parse_challenges(header) == expected


def test_basic_authorization() -> None:
    assert basic_authorization("user", "pass") == "Basic dXNlcjpwYXNz"


def test_token_cache_expiry() -> None:
    now = [100.0]
    cache = TokenCache(clock=lambda: now[0])
    cache.put("realm", "service", "scope", "token", 30.0)
    assert cache.get("realm", "service", "scope") == "token"
    assert cache.get("realm", "service", "other") is None
    now[0] = 130.0
    assert cache.get("realm", "service", "scope") is None
