"""A loopback token server for the distribution registry's `auth.token` mode.

It signs RS256 JWTs whose `x5c` header carries a self-signed certificate; the registry
trusts that certificate through its `rootcertbundle`. Anonymous clients get `pull` on the
repositories listed as public; a user with the right password gets every action asked for.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

TOKEN_LIFETIME_SECONDS = 300


@dataclass
class TokenRequest:
    """One request the token server received: the user (None when anonymous) and its scopes."""

    username: str | None
    scopes: list[str]
    status: int


@dataclass
class TokenServer:
    """A running token server; `realm` is the URL the registry sends clients to."""

    issuer: str
    service: str
    users: dict[str, str]
    public_repositories: set[str]
    certificate_path: Path
    requests: list[TokenRequest] = field(default_factory=list)
    realm: str = ""
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _private_key: rsa.RSAPrivateKey | None = None
    _certificate_der: bytes = b""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Create the signing key and certificate, then serve on a free loopback port."""
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = _self_signed_certificate(self._private_key, self.issuer)
        self._certificate_der = certificate.public_bytes(serialization.Encoding.DER)
        self.certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))

        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self.realm = f"http://127.0.0.1:{server.server_port}/token"
        self._thread = threading.Thread(target=server.serve_forever, name="token-server")
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None

    def issue(self, username: str | None, scopes: Iterable[str]) -> str:
        """Sign a token that grants `username` (None for anonymous) what it may have of `scopes`."""
        access = [grant for scope in scopes if (grant := self._grant(username, scope))]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": username or "",
            "aud": self.service,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        headers = {"x5c": [base64.b64encode(self._certificate_der).decode("ascii")]}
        assert self._private_key is not None, "start() the token server first"
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers=headers)

    def check_user(self, authorization: str | None) -> tuple[bool, str | None]:
        """Return (accepted, username) for an Authorization header; None means anonymous."""
        if authorization is None:
            return True, None
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False, None
        try:
            username, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except ValueError:
            return False, None
        expected = self.users.get(username)
        accepted = expected is not None and secrets.compare_digest(expected, password)
        return accepted, username

    def record(self, entry: TokenRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    def _grant(self, username: str | None, scope: str) -> dict[str, object] | None:
        kind, _, rest = scope.partition(":")
        name, _, actions_text = rest.rpartition(":")
        if kind != "repository" or not name:
            return None
        actions = [action for action in actions_text.split(",") if action]
        if username is None:
            actions = [a for a in actions if a == "pull" and name in self.public_repositories]
        if not actions:
            return None
        return {"type": "repository", "name": name, "actions": actions}


def _handler_for(token_server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class TokenHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/token":
                self._answer(404, {"error": "not found"})
                return
            query = parse_qs(url.query)
            scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
            service = query.get("service", [""])[0]
            accepted, username = token_server.check_user(self.headers.get("Authorization"))

            if service != token_server.service:
                status = 400
            elif not accepted:
                status = 401
            else:
                status = 200
            token_server.record(TokenRequest(username=username, scopes=scopes, status=status))
            if status != 200:
                self._answer(status, {"error": "invalid service or credentials"})
                return
            token = token_server.issue(username, scopes)
            issued_at = datetime.datetime.now(datetime.UTC).isoformat()
            self._answer(
                200,
                {
                    "token": token,
                    "access_token": token,
                    "expires_in": TOKEN_LIFETIME_SECONDS,
                    "issued_at": issued_at,
                },
            )

        def _answer(self, status: int, document: dict[str, object]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="token"')
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return TokenHandler


def _self_signed_certificate(key: rsa.RSAPrivateKey, issuer: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
