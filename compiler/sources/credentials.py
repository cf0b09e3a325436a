"""Read registry credentials from a Docker config file and Docker credential helpers.

The config is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. A host's
credentials come from `credHelpers[host]`, else from the `credsStore` helper, else from
`auths[host]`. Secrets never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec.errors import InvalidInputError, PinwrightError
from spec.reference import DOCKER_HUB, normalise_registry

logger = logging.getLogger(__name__)

# The key Docker uses for Docker Hub in `auths` and for credential helpers.
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
# A credential helper returns this user name when the secret is an identity token.
_IDENTITY_TOKEN_USER = "<token>"


class DockerConfigInvalidError(InvalidInputError):
    """A Docker config file that is not valid JSON or has malformed entries."""


class CredentialHelperError(PinwrightError):
    """A Docker credential helper that is missing, failed or timed out."""


@dataclass(frozen=True)
class Credentials:
    """A user name with a password or an identity (refresh) token for one registry host."""

    username: str
    password: str = field(default="", repr=False)
    identity_token: str | None = field(default=None, repr=False)


def find_docker_config(environ: Mapping[str, str] | None = None) -> Path:
    """Return the Docker config path: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`."""
    environ = os.environ if environ is None else environ
    folder = environ.get("DOCKER_CONFIG")
    if folder:
        return Path(folder) / "config.json"
    return Path.home() / ".docker" / "config.json"


class CredentialStore:
    """Credentials from one Docker config file, looked up per registry host.

    A missing config file means no credentials. Helper results are not cached here,
    because the registry client caches tokens and looks up each host once.
    """

    def __init__(self, config_path: Path | None = None, *, helper_timeout: float = 10.0) -> None:
        self._path = config_path if config_path is not None else find_docker_config()
        self._helper_timeout = helper_timeout
        self._config = _read_config(self._path)

    def lookup(self, host: str) -> Credentials | None:
        """Return the credentials for registry `host`, or None when none are configured.

        Raises DockerConfigInvalidError for a malformed `auths` entry and
        CredentialHelperError when a credential helper fails.
        """
        keys = _config_keys(host)
        helpers = self._config.get("credHelpers") or {}
        for key in keys:
            helper = helpers.get(key)
            if isinstance(helper, str) and helper:
                return run_credential_helper(helper, key, timeout=self._helper_timeout)

        auths = self._config.get("auths") or {}
        entry = _find_auths_entry(auths, keys)
        if entry is not None:
            return _parse_auths_entry(self._path, host, entry)

        store = self._config.get("credsStore")
        if isinstance(store, str) and store:
            return run_credential_helper(store, keys[0], timeout=self._helper_timeout)
        return None


def run_credential_helper(name: str, server: str, *, timeout: float) -> Credentials | None:
    """Run `docker-credential-NAME get` with `server` on stdin and parse its JSON output.

    Returns None when the helper reports that it has no credentials for `server`.
    Raises CredentialHelperError when the helper is missing, fails or times out; the
    message never contains the helper's output, which may hold a secret.
    """
    program = f"docker-credential-{name}"
    executable = shutil.which(program)
    if executable is None:
        raise CredentialHelperError(
            f"credential helper {program} for {server} not found on PATH; install it or "
            "remove it from the Docker config"
        )
    logger.debug("running credential helper %s for %s", program, server)
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [executable, "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CredentialHelperError(
            f"credential helper {program} for {server} timed out after {timeout:g} s"
        ) from None
    except OSError as error:
        raise CredentialHelperError(
            f"credential helper {program} for {server} could not run: {error.strerror}"
        ) from None

    if completed.returncode != 0:
        if "credentials not found" in completed.stdout.lower():
            return None
        raise CredentialHelperError(
            f"credential helper {program} for {server} failed with exit code {completed.returncode}"
        )
    return _parse_helper_output(program, server, completed.stdout)


def _parse_helper_output(program: str, server: str, output: str) -> Credentials:
    try:
        answer = json.loads(output)
        username = answer["Username"]
        secret = answer["Secret"]
    except (ValueError, KeyError, TypeError):
        raise CredentialHelperError(
            f"credential helper {program} for {server} returned output that is not a JSON "
            "object with Username and Secret"
        ) from None
    if not isinstance(username, str) or not isinstance(secret, str):
        raise CredentialHelperError(
            f"credential helper {program} for {server} returned a non-string Username or Secret"
        )
    if username == _IDENTITY_TOKEN_USER:
        return Credentials(username="", identity_token=secret)
    return Credentials(username=username, password=secret)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        logger.debug("no Docker config at %s", path)
        return {}
    except OSError as error:
        raise DockerConfigInvalidError(
            f"cannot read Docker config {path}: {error.strerror}"
        ) from None
    try:
        config = json.loads(text)
    except ValueError as error:
        raise DockerConfigInvalidError(f"Docker config {path} is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise DockerConfigInvalidError(f"Docker config {path} is not a JSON object")
    return config


def _config_keys(host: str) -> list[str]:
    """Return the config keys that may name `host`, most specific first."""
    if normalise_registry(host) == DOCKER_HUB:
        return [DOCKER_HUB_CONFIG_KEY, "docker.io", "index.docker.io", "registry-1.docker.io"]
    return [host]


def _find_auths_entry(auths: Any, keys: list[str]) -> Any:
    if not isinstance(auths, dict):
        return None
    for key in keys:
        if key in auths:
            return auths[key]
    # Docker also accepts keys written as URLs, such as `https://host:5000/v1/`.
    for written_key, entry in auths.items():
        if _host_of_key(written_key) in keys:
            return entry
    return None


def _host_of_key(key: str) -> str:
    host = key.split("://", 1)[-1].split("/", 1)[0]
    return DOCKER_HUB_CONFIG_KEY if normalise_registry(host) == DOCKER_HUB else host


def _parse_auths_entry(path: Path, host: str, entry: Any) -> Credentials | None:
    if not isinstance(entry, dict):
        raise DockerConfigInvalidError(
            f"Docker config {path}: auths entry for {host} is not an object"
        )

    identity_token = entry.get("identitytoken")
    if isinstance(identity_token, str) and identity_token:
        return Credentials(username=str(entry.get("username") or ""), identity_token=identity_token)

    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        return _decode_auth(path, host, encoded)

    username = entry.get("username")
    password = entry.get("password")
    if isinstance(username, str) and isinstance(password, str) and username:
        return Credentials(username=username, password=password)
    return None


def _decode_auth(path: Path, host: str, encoded: str) -> Credentials:
    invalid = DockerConfigInvalidError(
        f"Docker config {path}: the auth value for {host} is not base64 of 'user:password'"
    )
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid from None
    username, separator, password = decoded.partition(":")
    if not separator or not username:
        raise invalid
    return Credentials(username=username, password=password)
