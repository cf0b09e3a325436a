"""Registry authentication: WWW-Authenticate challenges, basic auth and bearer tokens."""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# One `key=value` or `key="quoted, value"` parameter of a WWW-Authenticate challenge (RFC 7235).
_CHALLENGE_PARAMETER = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')
_CHALLENGE_SCHEME = re.compile(r"\s*,?\s*([A-Za-z][A-Za-z0-9_-]*)")
_DEFAULT_TOKEN_LIFETIME = 60.0


@dataclass(frozen=True)
class BearerChallenge:
    """The parameters of a `WWW-Authenticate: Bearer` challenge."""

    realm: str
    service: str = ""
    scope: str = ""


def parse_challenges(header: str) -> dict[str, BearerChallenge]:
    """Parse a WWW-Authenticate header into its challenges, keyed by lowercase scheme.

    Quoted values may contain commas and backslash escapes. A Basic challenge is returned
    with an empty realm when it has none; a Bearer challenge without a realm is dropped.
    """
    challenges: dict[str, BearerChallenge] = {}
    position = 0
    while position < len(header):
        match = _CHALLENGE_SCHEME.match(header, position)
        if match is None or not match.group(1):
            break
        scheme = match.group(1).lower()
        position = match.end()
        parameters: dict[str, str] = {}
        while True:
            parameter = _CHALLENGE_PARAMETER.match(header, position)
            if parameter is None or parameter.end() == position:
                break
            key, value = parameter.group(1).lower(), parameter.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            parameters[key] = value
            position = parameter.end()
        if scheme == "bearer" and not parameters.get("realm"):
            continue
        challenges[scheme] = BearerChallenge(
            realm=parameters.get("realm", ""),
            service=parameters.get("service", ""),
            scope=parameters.get("scope", ""),
        )
    return challenges


def basic_authorization(username: str, password: str) -> str:
    """Return the `Authorization` header value for HTTP basic auth."""
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class TokenCache:
    """Bearer tokens per (realm, service, scope), and the auth scheme each host asked for.

    Thread-safe. Tokens expire after the server's `expires_in`, 60 s when it gives none.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._basic: dict[str, str] = {}
        self._bearer: dict[str, BearerChallenge] = {}

    def get(self, realm: str, service: str, scope: str) -> str | None:
        with self._lock:
            entry = self._tokens.get((realm, service, scope))
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def put(self, realm: str, service: str, scope: str, token: str, lifetime: float | None) -> None:
        expiry = self._clock() + (lifetime or _DEFAULT_TOKEN_LIFETIME)
        with self._lock:
            self._tokens[(realm, service, scope)] = (token, expiry)

    def remember_basic(self, host: str, authorization: str) -> None:
        with self._lock:
            self._basic[host] = authorization

    def remember_bearer_host(self, host: str, challenge: BearerChallenge) -> None:
        with self._lock:
            self._bearer[host] = challenge

    def authorization_for_host(self, host: str, scope: str) -> str | None:
        """Return the Authorization value to send before any 401, or None when unknown."""
        with self._lock:
            basic = self._basic.get(host)
            challenge = self._bearer.get(host)
        if basic is not None:
            return basic
        if challenge is None:
            return None
        token = self.get(challenge.realm, challenge.service, scope)
        return None if token is None else f"Bearer {token}"
