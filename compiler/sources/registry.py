"""Resolve image references to manifest digests over the OCI distribution API.

One `RegistryClient` serves a whole run: it is thread-safe, resolves each reference at most
once, caches bearer tokens per (realm, service, scope), and sends every HTTP request
through `RegistryClient._send`. With a `ResultCache`, every resolution is stored on disk,
and an offline client answers from those entries alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InsecureRequestWarning

from compiler.sources.credentials import Credentials, CredentialStore
from compiler.sources.http.urls import redact_url
from compiler.sources.registry_auth import (
    BearerChallenge,
    TokenCache,
    basic_authorization,
    parse_challenges,
)
from compiler.sources.results import OFFLINE_HINT, CachedResultMissingError, ResultCache
from spec.errors import PinwrightError
from spec.reference import (
    DIGEST_HEX_LENGTHS,
    ImageReference,
    normalise_registry,
    parse_reference,
)

logger = logging.getLogger(__name__)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MAX_MANIFEST_BYTES = 4 * 1024 * 1024

# The kind of the registry entries in a ResultCache.
RESULT_KIND = "registry"

# Annotation that buildkit sets on attestation entries of an index; they are not platforms.
_REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"


class RegistryError(PinwrightError):
    """A reference that could not be resolved: not found, unauthorized or unreachable."""


class ManifestNotFoundError(RegistryError):
    """The repository or the tag does not exist in the registry."""


class RegistryUnauthorizedError(RegistryError):
    """The registry rejected the credentials, or the image needs credentials."""


class RegistryUnreachableError(RegistryError):
    """The registry did not respond, or kept failing after every retry."""


class ManifestDigestMismatchError(RegistryError):
    """A manifest whose content does not hash to the digest the registry or user gave."""


class ManifestInvalidError(RegistryError):
    """A manifest that is too large or is not a JSON document of the expected shape."""


@dataclass(frozen=True)
class RegistrySettings:
    """Per-registry options from the catalog config.

    `insecure` allows HTTPS without verification, then plain HTTP. `mirror` is a host
    with an optional scheme and path prefix (`http://127.0.0.1:5001/hub`) to resolve
    that registry's images through.
    """

    insecure: bool = False
    mirror: str | None = None


@dataclass(frozen=True)
class ResolvedImage:
    """A reference locked to the digest of its index or, without an index, its manifest."""

    reference: str
    digest: str
    media_type: str
    platforms: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry connection errors, 5xx and 429 responses (in seconds)."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0


@dataclass(frozen=True)
class _Endpoint:
    """The host, scheme and repository that one reference's manifests are read from."""

    host: str
    repository: str
    scheme: str | None
    insecure: bool


class RegistryClient:
    """Resolve image references to digests; safe to share between threads."""

    def __init__(
        self,
        session: requests.Session,
        *,
        settings: Mapping[str, RegistrySettings] | None = None,
        docker_config: Path | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        results: ResultCache | None = None,
        offline: bool = False,
    ) -> None:
        """Set up the client; `timeout` is in seconds.

        `results` stores every resolution for later offline runs. With `offline`, the
        client sends no request and resolves from `results` alone. Raises ValueError when
        `offline` is set without `results`.
        """
        if offline and results is None:
            raise ValueError("an offline RegistryClient needs a ResultCache")
        self._session = session
        self._settings = {
            normalise_registry(host): value for host, value in (settings or {}).items()
        }
        self._docker_config = docker_config
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._results_cache = results
        self._offline = offline

        self._lock = threading.Lock()
        self._results: dict[str, Future[ResolvedImage]] = {}
        self._schemes: dict[str, str] = {}
        self._credential_store: CredentialStore | None = None
        self._credentials: dict[str, Credentials | None] = {}
        self._tokens = TokenCache()

    def resolve(self, reference: str) -> ResolvedImage:
        """Resolve `reference` to the digest of its index or manifest.

        Each reference is resolved once per client; concurrent callers wait for the first.
        Raises InvalidReferenceError for a malformed reference and a RegistryError subclass
        naming the reference when the registry cannot give a verified digest. Offline,
        raises CachedResultMissingError when no online run stored the reference.
        """
        with self._lock:
            future = self._results.get(reference)
            owner = future is None
            if future is None:
                future = Future()
                self._results[reference] = future
        if not owner:
            return future.result()

        try:
            result = self._resolve_through_cache(reference)
        except BaseException as error:
            future.set_exception(error)
            raise
        future.set_result(result)
        return result

    def _resolve_through_cache(self, reference: str) -> ResolvedImage:
        cache = self._results_cache
        if self._offline:
            assert cache is not None
            return load_cached_image(cache, reference)

        result = self._resolve_uncached(reference)
        if cache is not None:
            cache.store(RESULT_KIND, reference, image_to_json(result))
        return result

    def _resolve_uncached(self, reference: str) -> ResolvedImage:
        parsed = parse_reference(reference)
        endpoint = self._endpoint_for(parsed)
        path = f"/v2/{endpoint.repository}/manifests/{parsed.manifest_reference}"

        response = self._request(parsed, endpoint, "HEAD", path, {"Accept": MANIFEST_ACCEPT})
        with response:
            if response.status_code == 404:
                raise self._not_found_error(parsed, endpoint)
            self._raise_for_status(parsed, endpoint, response)
            media_type = _media_type(response)
            digest = response.headers.get("Docker-Content-Digest")
            url = response.url

        if digest is not None:
            _check_registry_digest(parsed, digest)
        body: bytes | None = None
        if digest is None or media_type in INDEX_MEDIA_TYPES:
            body, media_type, digest = self._fetch_manifest(parsed, endpoint, path, digest)

        platforms = parse_index_platforms(body) if body and media_type in INDEX_MEDIA_TYPES else ()
        logger.info("resolved %s to %s", reference, digest)
        return ResolvedImage(
            reference=reference,
            digest=digest,
            media_type=media_type,
            platforms=platforms,
            source=url,
        )

    def _fetch_manifest(
        self, parsed: ImageReference, endpoint: _Endpoint, path: str, expected: str | None
    ) -> tuple[bytes, str, str]:
        """GET a manifest, size-limited, and check that it hashes to every digest given."""
        response = self._request(
            parsed, endpoint, "GET", path, {"Accept": MANIFEST_ACCEPT}, stream=True
        )
        with response:
            if response.status_code == 404:
                raise self._not_found_error(parsed, endpoint)
            self._raise_for_status(parsed, endpoint, response)
            body = _read_limited(parsed, response)
            media_type = _media_type(response)
            header_digest = response.headers.get("Docker-Content-Digest")

        algorithm = _digest_algorithm(expected or header_digest or parsed.digest or "sha256:")
        computed = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
        for claimed in (expected, header_digest, parsed.digest):
            if claimed is not None and claimed != computed:
                raise ManifestDigestMismatchError(
                    f"manifest of {parsed} from {endpoint.host} hashes to {computed}, "
                    f"but {claimed} was expected; the registry or a proxy altered it"
                )
        if not media_type:
            media_type = _body_media_type(parsed, body)
        return body, media_type, computed

    # --- HTTP: endpoints, authentication and retries ---------------------------------------

    def _endpoint_for(self, parsed: ImageReference) -> _Endpoint:
        settings = self._settings.get(parsed.registry, RegistrySettings())
        if settings.mirror is None:
            return _Endpoint(
                host=parsed.api_host,
                repository=parsed.repository,
                scheme=None,
                insecure=settings.insecure,
            )
        # NOTE: unlike Docker, a failing mirror is not bypassed: the upstream is never contacted.
        scheme, host, prefix = _split_mirror(settings.mirror)
        mirror_settings = self._settings.get(host, RegistrySettings())
        repository = f"{prefix}/{parsed.repository}" if prefix else parsed.repository
        return _Endpoint(
            host=host, repository=repository, scheme=scheme, insecure=mirror_settings.insecure
        )

    def _request(
        self,
        parsed: ImageReference,
        endpoint: _Endpoint,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        stream: bool = False,
    ) -> requests.Response:
        """Send a registry request, authenticating on 401 and retrying transient failures."""
        authorization = self._cached_authorization(endpoint)
        response = self._send_with_retries(
            parsed, endpoint, method, path, headers, authorization, stream
        )
        if response.status_code != 401:
            return response

        challenge_header = response.headers.get("WWW-Authenticate", "")
        response.close()
        authorization = self._authorize(parsed, endpoint, challenge_header)
        return self._send_with_retries(
            parsed, endpoint, method, path, headers, authorization, stream
        )

    def _send_with_retries(
        self,
        parsed: ImageReference,
        endpoint: _Endpoint,
        method: str,
        path: str,
        headers: dict[str, str],
        authorization: str | None,
        stream: bool,
    ) -> requests.Response:
        all_headers = dict(headers)
        if authorization is not None:
            all_headers["Authorization"] = authorization
        policy = self._retry
        for attempt in range(1, policy.attempts + 1):
            last_attempt = attempt == policy.attempts
            try:
                response = self._send_to_endpoint(endpoint, method, path, all_headers, stream)
            except requests.exceptions.SSLError:
                # A TLS failure repeats on every try, so it is reported at once.
                raise RegistryUnreachableError(
                    f"cannot resolve {parsed}: TLS with registry {endpoint.host} failed; if it "
                    "serves plain HTTP or a certificate you cannot verify, mark it with "
                    f'`registries: {{"{endpoint.host}": {{insecure: true}}}}` in pinwright.yaml'
                ) from None
            except requests.RequestException as error:
                if last_attempt:
                    raise RegistryUnreachableError(
                        f"cannot resolve {parsed}: registry {endpoint.host} is unreachable "
                        f"({type(error).__name__}) after {attempt} attempts"
                    ) from None
                delay = self._backoff(attempt)
                logger.info(
                    "retrying %s %s in %.1f s after %s",
                    method,
                    endpoint.host,
                    delay,
                    type(error).__name__,
                )
                self._sleep(delay)
                continue

            delay_or_none = self._retry_delay(response, attempt)
            if delay_or_none is None or last_attempt:
                return response
            response.close()
            logger.info(
                "retrying %s %s in %.1f s after HTTP %d",
                method,
                endpoint.host,
                delay_or_none,
                response.status_code,
            )
            self._sleep(delay_or_none)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _retry_delay(self, response: requests.Response, attempt: int) -> float | None:
        if response.status_code == 429:
            return _parse_retry_after(
                response.headers.get("Retry-After"),
                self._backoff(attempt),
                self._retry.max_retry_after,
            )
        if response.status_code >= 500:
            return self._backoff(attempt)
        return None

    def _backoff(self, attempt: int) -> float:
        return float(min(self._retry.backoff * 2 ** (attempt - 1), self._retry.max_backoff))

    def _send_to_endpoint(
        self, endpoint: _Endpoint, method: str, path: str, headers: dict[str, str], stream: bool
    ) -> requests.Response:
        """Send to the endpoint's scheme; for an insecure host try unverified HTTPS, then HTTP."""
        scheme = endpoint.scheme or self._known_scheme(endpoint)
        if scheme is not None:
            verify = not endpoint.insecure
            return self._send(method, f"{scheme}://{endpoint.host}{path}", headers, verify, stream)

        try:
            response = self._send(method, f"https://{endpoint.host}{path}", headers, False, stream)
        except requests.ConnectionError:
            logger.debug("HTTPS to insecure registry %s failed, trying HTTP", endpoint.host)
            response = self._send(method, f"http://{endpoint.host}{path}", headers, False, stream)
            self._remember_scheme(endpoint.host, "http")
            return response
        self._remember_scheme(endpoint.host, "https")
        return response

    def _known_scheme(self, endpoint: _Endpoint) -> str | None:
        if not endpoint.insecure:
            return "https"
        with self._lock:
            return self._schemes.get(endpoint.host)

    def _remember_scheme(self, host: str, scheme: str) -> None:
        with self._lock:
            self._schemes[host] = scheme

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        verify: bool,
        stream: bool = False,
        *,
        auth: tuple[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one HTTP request; every request of this module goes through here."""
        if not verify:
            # The user marked this registry insecure, so urllib3's warning only repeats that.
            # NOTE: the filter is process-wide and stays installed after this call.
            warnings.filterwarnings("ignore", category=InsecureRequestWarning)
        try:
            response = self._session.request(
                method,
                url,
                headers=dict(headers),
                auth=auth,
                data=data,
                verify=verify,
                stream=stream,
                timeout=self._timeout,
                allow_redirects=True,
            )
        except requests.RequestException as error:
            logger.debug("%s %s failed: %s", method, url, type(error).__name__)
            raise
        logger.debug("%s %s -> %d", method, url, response.status_code)
        return response

    # --- authentication ---------------------------------------------------------------------

    def _cached_authorization(self, endpoint: _Endpoint) -> str | None:
        return self._tokens.authorization_for_host(endpoint.host, _pull_scope(endpoint))

    def _authorize(self, parsed: ImageReference, endpoint: _Endpoint, header: str) -> str:
        challenges = parse_challenges(header)
        credentials = self._lookup_credentials(endpoint.host)
        if "bearer" in challenges:
            challenge = challenges["bearer"]
            scope = challenge.scope or _pull_scope(endpoint)
            return self._bearer_authorization(parsed, endpoint, challenge, scope, credentials)
        if "basic" in challenges:
            if credentials is None or not credentials.username:
                raise RegistryUnauthorizedError(
                    f"cannot resolve {parsed}: registry {endpoint.host} requires a user name and "
                    "password; add them to the Docker config (docker login)"
                )
            value = basic_authorization(credentials.username, credentials.password)
            self._tokens.remember_basic(endpoint.host, value)
            return value
        raise RegistryUnauthorizedError(
            f"cannot resolve {parsed}: registry {endpoint.host} responded 401 without a Basic "
            "or Bearer challenge"
        )

    def _bearer_authorization(
        self,
        parsed: ImageReference,
        endpoint: _Endpoint,
        challenge: BearerChallenge,
        scope: str,
        credentials: Credentials | None,
    ) -> str:
        cached = self._tokens.get(challenge.realm, challenge.service, scope)
        if cached is not None:
            self._tokens.remember_bearer_host(endpoint.host, challenge)
            return f"Bearer {cached}"

        token, lifetime = self._fetch_token(parsed, endpoint, challenge, scope, credentials)
        self._tokens.put(challenge.realm, challenge.service, scope, token, lifetime)
        self._tokens.remember_bearer_host(endpoint.host, challenge)
        return f"Bearer {token}"

    def _fetch_token(
        self,
        parsed: ImageReference,
        endpoint: _Endpoint,
        challenge: BearerChallenge,
        scope: str,
        credentials: Credentials | None,
    ) -> tuple[str, float | None]:
        realm = urlsplit(challenge.realm)
        realm_host = realm.netloc
        if realm.scheme not in ("https", "http"):
            raise RegistryUnauthorizedError(
                f"cannot resolve {parsed}: registry {endpoint.host} names a token realm that is "
                "not an HTTP URL"
            )
        realm_insecure = (
            endpoint.insecure or self._settings.get(realm_host, RegistrySettings()).insecure
        )
        if realm.scheme == "http" and credentials is not None and not realm_insecure:
            raise RegistryUnauthorizedError(
                f"cannot resolve {parsed}: the token realm of {endpoint.host} is plain HTTP, so "
                f"credentials are not sent to {realm_host}; mark that host insecure to allow it"
            )

        params = {"scope": scope}
        if challenge.service:
            params["service"] = challenge.service
        request = requests.Request("GET", challenge.realm, params=params).prepare()
        url = request.url or challenge.realm
        verify = not realm_insecure

        try:
            if credentials is not None and credentials.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": credentials.identity_token,
                    "service": challenge.service,
                    "scope": scope,
                    "client_id": "pinwright",
                }
                response = self._send("POST", challenge.realm, {}, verify, data=form)
            elif credentials is not None and credentials.username:
                basic = (credentials.username, credentials.password)
                response = self._send("GET", url, {}, verify, auth=basic)
            else:
                response = self._send("GET", url, {}, verify)
        except requests.RequestException as error:
            raise RegistryUnreachableError(
                f"cannot resolve {parsed}: token server {realm_host} of registry {endpoint.host} "
                f"is unreachable ({type(error).__name__})"
            ) from None

        with response:
            if response.status_code in (401, 403):
                who = "the configured credentials" if credentials else "anonymous access"
                raise RegistryUnauthorizedError(
                    f"cannot resolve {parsed}: token server {realm_host} rejected {who} for "
                    f"registry {endpoint.host} (HTTP {response.status_code}); check the user name "
                    "and password in the Docker config"
                )
            if response.status_code != 200:
                raise RegistryUnauthorizedError(
                    f"cannot resolve {parsed}: token server {realm_host} responded with HTTP "
                    f"{response.status_code}"
                )
            return _parse_token_response(parsed, realm_host, response)

    def _lookup_credentials(self, host: str) -> Credentials | None:
        with self._lock:
            if host in self._credentials:
                return self._credentials[host]
            if self._credential_store is None:
                self._credential_store = CredentialStore(self._docker_config)
            store = self._credential_store
        credentials = store.lookup(host)
        with self._lock:
            self._credentials[host] = credentials
        return credentials

    # --- errors -----------------------------------------------------------------------------

    def _not_found_error(
        self, parsed: ImageReference, endpoint: _Endpoint
    ) -> ManifestNotFoundError:
        # The registry returns 404 for a missing tag and for a missing repository alike, so
        # its tag list distinguishes them: 404 NAME_UNKNOWN when the repository does not exist.
        repository_missing = False
        tags_path = f"/v2/{endpoint.repository}/tags/list?n=1"
        try:
            response = self._request(parsed, endpoint, "GET", tags_path, {})
        except RegistryError:
            response = None
        if response is not None:
            with response:
                repository_missing = response.status_code == 404
        if repository_missing:
            what = f"repository {endpoint.repository} not found"
        elif parsed.digest is not None:
            what = f"digest {parsed.digest} not found in {endpoint.repository}"
        else:
            what = f"tag {parsed.manifest_reference} not found in {endpoint.repository}"
        return ManifestNotFoundError(f"cannot resolve {parsed}: {what} at {endpoint.host}")

    def _raise_for_status(
        self, parsed: ImageReference, endpoint: _Endpoint, response: requests.Response
    ) -> None:
        status = response.status_code
        if status == 200:
            return
        if status == 401 and self._lookup_credentials(endpoint.host) is None:
            raise RegistryUnauthorizedError(
                f"cannot resolve {parsed}: registry {endpoint.host} requires credentials to pull "
                f"{endpoint.repository} (HTTP 401); add them to the Docker config "
                f"(docker login {endpoint.host})"
            )
        if status == 401:
            raise RegistryUnauthorizedError(
                f"cannot resolve {parsed}: registry {endpoint.host} rejected the credentials "
                f"for {endpoint.repository} (HTTP 401); check the user name and password for "
                f"{endpoint.host} in the Docker config"
            )
        if status == 403:
            raise RegistryUnauthorizedError(
                f"cannot resolve {parsed}: registry {endpoint.host} denied access (HTTP 403)"
            )
        if status == 429 or status >= 500:
            raise RegistryUnreachableError(
                f"cannot resolve {parsed}: registry {endpoint.host} kept responding with HTTP "
                f"{status} after {self._retry.attempts} attempts"
            )
        raise RegistryError(
            f"cannot resolve {parsed}: registry {endpoint.host} responded with HTTP {status}"
        )


# --- the offline result cache ------------------------------------------------------------


def image_to_json(image: ResolvedImage) -> dict[str, Any]:
    """Return `image` as a JSON object for a ResultCache; the source URL is redacted."""
    return {
        "reference": image.reference,
        "digest": image.digest,
        "media_type": image.media_type,
        "platforms": list(image.platforms),
        "source": redact_url(image.source),
    }


def image_from_json(value: Any) -> ResolvedImage | None:
    """Read an object written by `image_to_json`; return None when its shape is wrong."""
    if not isinstance(value, dict):
        return None
    fields = [value.get(name) for name in ("reference", "digest", "media_type", "source")]
    platforms = value.get("platforms")
    if not all(isinstance(field_value, str) for field_value in fields):
        return None
    if not isinstance(platforms, list) or not all(isinstance(item, str) for item in platforms):
        return None
    return ResolvedImage(
        reference=value["reference"],
        digest=value["digest"],
        media_type=value["media_type"],
        platforms=tuple(platforms),
        source=value["source"],
    )


def load_cached_image(cache: ResultCache, reference: str) -> ResolvedImage:
    """Return the resolution of `reference` that an online run stored in `cache`.

    Raises InvalidReferenceError for a malformed reference and CachedResultMissingError
    when the entry is missing or unreadable.
    """
    parse_reference(reference)
    image = image_from_json(cache.load(RESULT_KIND, reference))
    if image is None or image.reference != reference:
        raise CachedResultMissingError(f"{reference} is not in the cache, {OFFLINE_HINT}")
    logger.debug("resolved %s from the cache (offline)", reference)
    return image


def parse_index_platforms(body: bytes) -> tuple[str, ...]:
    """Return the platforms (`linux/arm/v7`) of an image index in index order, without repeats.

    Entries without a platform, with an `unknown` OS or architecture, or marked as
    attestations by the `vnd.docker.reference.type` annotation are skipped.
    Raises ValueError when `body` is not a JSON index.
    """
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("manifests"), list):
        raise ValueError("not an image index: no manifests list")

    platforms: list[str] = []
    for entry in document["manifests"]:
        platform = _entry_platform(entry)
        if platform and platform not in platforms:
            platforms.append(platform)
    return tuple(platforms)


def _entry_platform(entry: Any) -> str:
    if not isinstance(entry, dict):
        return ""
    annotations = entry.get("annotations")
    if isinstance(annotations, dict) and _REFERENCE_TYPE_ANNOTATION in annotations:
        return ""
    platform = entry.get("platform")
    if not isinstance(platform, dict):
        return ""
    os_name = platform.get("os")
    architecture = platform.get("architecture")
    if not isinstance(os_name, str) or not isinstance(architecture, str):
        return ""
    if not os_name or not architecture or "unknown" in (os_name, architecture):
        return ""
    variant = platform.get("variant")
    parts = [os_name, architecture] + ([variant] if isinstance(variant, str) and variant else [])
    return "/".join(parts)


def _split_mirror(mirror: str) -> tuple[str | None, str, str]:
    """Split `[scheme://]host[/prefix]` into its scheme (None when not written), host and prefix."""
    scheme: str | None = None
    rest = mirror
    if "://" in mirror:
        scheme, rest = mirror.split("://", 1)
    host, _, prefix = rest.partition("/")
    return scheme, host, prefix.strip("/")


def _pull_scope(endpoint: _Endpoint) -> str:
    return f"repository:{endpoint.repository}:pull"


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip()


def _digest_algorithm(digest: str) -> str:
    algorithm = digest.partition(":")[0]
    return algorithm if algorithm in DIGEST_HEX_LENGTHS else "sha256"


def _check_registry_digest(parsed: ImageReference, digest: str) -> None:
    algorithm, _, hex_value = digest.partition(":")
    if DIGEST_HEX_LENGTHS.get(algorithm) != len(hex_value):
        raise ManifestDigestMismatchError(
            f"cannot resolve {parsed}: the registry sent an invalid digest {digest!r}"
        )
    if parsed.digest is not None and parsed.digest != digest:
        raise ManifestDigestMismatchError(
            f"cannot resolve {parsed}: the registry returned a manifest with digest {digest}"
        )


def _read_limited(parsed: ImageReference, response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_MANIFEST_BYTES:
            raise ManifestInvalidError(
                f"cannot resolve {parsed}: the manifest is larger than "
                f"{MAX_MANIFEST_BYTES // (1024 * 1024)} MiB"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _body_media_type(parsed: ImageReference, body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        raise ManifestInvalidError(f"cannot resolve {parsed}: the manifest is not JSON") from None
    media_type = document.get("mediaType") if isinstance(document, dict) else None
    if not isinstance(media_type, str):
        raise ManifestInvalidError(
            f"cannot resolve {parsed}: the registry sent no Content-Type and the manifest "
            "has no mediaType"
        )
    return media_type


def _parse_retry_after(value: str | None, default: float, cap: float) -> float:
    """Return the Retry-After delay in seconds (only the delta-seconds form), capped at `cap`."""
    if value is None:
        return default
    try:
        seconds = float(value.strip())
    except ValueError:
        # NOTE: the HTTP-date form of Retry-After is not parsed; the backoff applies instead.
        return default
    return max(0.0, min(seconds, cap))


def _parse_token_response(
    parsed: ImageReference, realm_host: str, response: requests.Response
) -> tuple[str, float | None]:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    token = None
    if isinstance(answer, dict):
        token = answer.get("token") or answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise RegistryUnauthorizedError(
            f"cannot resolve {parsed}: token server {realm_host} returned no token"
        )
    expires_in = answer.get("expires_in") if isinstance(answer, dict) else None
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else None
    return token, lifetime
