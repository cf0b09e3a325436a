"""The HTTP client every source uses: cached, retried, size-limited and polite per host."""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
import requests.auth
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from compiler.sources.http.cache import CacheEntry, ResponseCache, default_cache_dir
from compiler.sources.http.retry import compute_delay, is_retryable_status, parse_retry_after
from compiler.sources.http.urls import has_userinfo, redact_url, split_host
from spec.errors import PinwrightError

logger = logging.getLogger(__name__)

MiB = 1024 * 1024

# The largest body accepted for each kind of download. An APKINDEX.tar.gz of Alpine main
# is under 1 MiB and an OCI manifest a few KiB, so these leave wide margins.
KIND_LIMITS: Mapping[str, int] = {
    "document": 8 * MiB,
    "manifest": 4 * MiB,
    "index": 64 * MiB,
    "archive": 2048 * MiB,
}

NOT_MODIFIED = 304
_CHUNK_SIZE = 64 * 1024


class FetchError(PinwrightError):
    """A download that failed: the message names the URL, without credentials, and the cause."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass(frozen=True)
class HttpResponse:
    """A complete response.

    `from_cache` is True when the body came from the disk cache, and `authorized` when the
    request carried an Authorization header (set by the caller, the session or a .netrc).
    """

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    from_cache: bool = False
    authorized: bool = False


@dataclass
class HttpStats:
    """Counters of one client, safe to update from several threads."""

    requests: int = 0
    bytes_received: int = 0
    cache_hits: int = 0
    not_modified: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(
        self,
        *,
        requests: int = 0,
        bytes_received: int = 0,
        cache_hits: int = 0,
        not_modified: int = 0,
    ) -> None:
        """Add to the counters in one step."""
        with self._lock:
            self.requests += requests
            self.bytes_received += bytes_received
            self.cache_hits += cache_hits
            self.not_modified += not_modified


class _Pending:
    """One fetch in progress; later callers for the same request wait on `done`."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.response: HttpResponse | None = None
        self.error: Exception | None = None


class HttpClient:
    """GET through a disk cache, and uncached requests, with retries and per-host limits.

    One client is meant to live for one run. `fetch` keeps every response and error it
    returned, so a URL is downloaded at most once per client.

    NOTE: kept responses stay in memory until the client is dropped, archives included.
    The disk cache is keyed by the URL alone, so two fetches of one URL with different
    Accept headers share an entry.
    """

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        cache_dir: Path | None = None,
        offline: bool = False,
        refresh: bool = False,
        max_per_host: int = 4,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        pool_size: int | None = None,
    ) -> None:
        """Set up the client; `timeout` is seconds for connecting and for each read.

        `pool_size` is the number of connections kept per host in the session the client
        creates (at least `max_per_host`); other clients that share the session, such as
        the registry client, may send more requests at once than `max_per_host`.

        `retries` is the number of tries after the first one, `backoff` the base delay in
        seconds, doubled per try, and `max_wait` caps every wait including `Retry-After`.
        A session passed in is used as it is; its connection pools are the caller's to size.
        """
        if max_per_host < 1:
            raise ValueError("max_per_host must be at least 1")
        self._owns_session = session is None
        if session is None:
            session = _build_session(max(max_per_host, pool_size or 0))
        self.session = session
        self.cache = ResponseCache(cache_dir if cache_dir is not None else default_cache_dir())
        self.offline = offline
        self.refresh = refresh
        self.max_per_host = max_per_host
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.stats = HttpStats()
        self._lock = threading.Lock()
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._fetched: dict[tuple[object, ...], _Pending] = {}

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self.session.close()

    def fetch(
        self,
        url: str,
        *,
        kind: str = "document",
        headers: Mapping[str, str] | None = None,
        verify: bool = True,
    ) -> HttpResponse:
        """GET `url` through the disk cache and return a response with status 200.

        A cached body is revalidated with If-None-Match / If-Modified-Since, so an unchanged
        upstream costs a 304. The same request is sent at most once per client, also when
        several threads ask at once. Offline, only the cache answers. Raises FetchError for
        a bad URL, a cache miss while offline, a status other than 200, or a failed download.
        """
        key = (url, kind, verify, tuple(sorted((headers or {}).items())))
        with self._lock:
            pending = self._fetched.get(key)
            first = pending is None
            if pending is None:
                pending = self._fetched[key] = _Pending()

        if not first:
            pending.done.wait()
        else:
            try:
                pending.response = self._fetch_once(url, kind=kind, headers=headers, verify=verify)
            except Exception as error:
                pending.error = error
            finally:
                pending.done.set()

        if pending.error is not None:
            raise pending.error
        assert pending.response is not None
        return pending.response

    def request(
        self,
        method: str,
        url: str,
        *,
        kind: str = "document",
        headers: Mapping[str, str] | None = None,
        verify: bool = True,
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        ok_statuses: Collection[int] = (200,),
    ) -> HttpResponse:
        """Send one uncached request and return the response if its status is in `ok_statuses`.

        Connection errors, 429 and 5xx outside `ok_statuses` are retried with backoff.
        Raises FetchError for a bad URL, any other status, a body over the limit of `kind`,
        or when the last try failed.
        """
        return self._send(
            method.upper(),
            url,
            kind=kind,
            headers=dict(headers or {}),
            verify=verify,
            auth=auth,
            ok_statuses=frozenset(ok_statuses),
            outcome="uncached",
        )

    def _fetch_once(
        self, url: str, *, kind: str, headers: Mapping[str, str] | None, verify: bool
    ) -> HttpResponse:
        _check_url(url)
        _limit_for(kind)
        request_headers = dict(headers or {})
        cacheable = not _carries_credentials(url, request_headers, self.session)
        entry = self.cache.load(url) if cacheable and not self.refresh else None

        if self.offline:
            return self._respond_offline(url, entry)

        if entry is not None:
            request_headers.update(entry.validators())
        ok_statuses = frozenset({200, NOT_MODIFIED} if entry is not None else {200})
        if entry is not None:
            outcome = "revalidate"
        elif cacheable:
            outcome = "miss"
        else:
            outcome = "uncached"
        response = self._send(
            "GET",
            url,
            kind=kind,
            headers=request_headers,
            verify=verify,
            auth=None,
            ok_statuses=ok_statuses,
            outcome=outcome,
        )

        if response.status == NOT_MODIFIED and entry is not None:
            self.stats.count(cache_hits=1, not_modified=1)
            return HttpResponse(url, 200, response.headers, entry.content, from_cache=True)
        if cacheable and not response.authorized:
            self._store(url, response)
        return response

    def _store(self, url: str, response: HttpResponse) -> None:
        entry = CacheEntry(
            content=response.content,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )
        try:
            self.cache.store(url, entry)
        except OSError as error:
            # A cache that cannot be written costs speed on the next run, not correctness.
            logger.warning(
                "cannot write the cache entry for %s in %s: %s",
                redact_url(url),
                self.cache.folder,
                error.strerror or error,
            )

    def _respond_offline(self, url: str, entry: CacheEntry | None) -> HttpResponse:
        if entry is None:
            raise FetchError(
                f"{redact_url(url)} is not in the cache, run without --offline", url=redact_url(url)
            )
        self.stats.count(cache_hits=1)
        logger.debug("GET %s served from the cache (offline)", redact_url(url))
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        if entry.etag is not None:
            headers["ETag"] = entry.etag
        if entry.last_modified is not None:
            headers["Last-Modified"] = entry.last_modified
        return HttpResponse(url, 200, headers, entry.content, from_cache=True)

    def _send(
        self,
        method: str,
        url: str,
        *,
        kind: str,
        headers: dict[str, str],
        verify: bool,
        auth: requests.auth.AuthBase | tuple[str, str] | None,
        ok_statuses: frozenset[int],
        outcome: str,
    ) -> HttpResponse:
        _check_url(url)
        limit = _limit_for(kind)
        safe_url = redact_url(url)
        slot = self._slot_for(url)

        for attempt in range(self.retries + 1):
            last_try = attempt == self.retries
            tries = _count_tries(attempt + 1)
            with slot:
                try:
                    response = self._send_once(
                        method,
                        url,
                        headers=headers,
                        verify=verify,
                        auth=auth,
                        limit=limit,
                        outcome=outcome,
                    )
                except _RetryableFailure as failure:
                    reason, retry_after = failure.cause, None
                    if last_try:
                        raise FetchError(
                            f"{method} {safe_url} failed after {tries}: {reason}", url=safe_url
                        ) from None
                else:
                    if response.status in ok_statuses:
                        return response
                    reason = f"HTTP {response.status}"
                    if last_try or not is_retryable_status(response.status):
                        suffix = f" after {tries}" if attempt else ""
                        raise FetchError(
                            f"{method} {safe_url} returned {reason}{suffix}",
                            url=safe_url,
                            status=response.status,
                        )
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))

            # The host slot is released while waiting, so other requests to it can go on.
            delay = compute_delay(
                attempt, backoff=self.backoff, max_wait=self.max_wait, retry_after=retry_after
            )
            logger.info(
                "retrying %s %s in %.2f s (try %d of %d) after %s",
                method,
                safe_url,
                delay,
                attempt + 2,
                self.retries + 1,
                reason,
            )
            time.sleep(delay)
        raise AssertionError("unreachable: the last try returns or raises")

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        verify: bool,
        auth: requests.auth.AuthBase | tuple[str, str] | None,
        limit: int,
        outcome: str,
    ) -> HttpResponse:
        safe_url = redact_url(url)
        started = time.monotonic()
        self.stats.count(requests=1)
        try:
            with self.session.request(
                method,
                url,
                headers=headers,
                verify=verify,
                auth=auth,
                timeout=(self.timeout, self.timeout),
                stream=True,
            ) as raw:
                status = raw.status_code
                content = b"" if method == "HEAD" else _read_body(raw, limit, method, safe_url)
        except requests.RequestException as error:
            self._log_failure(method, safe_url, started, _describe(error))
            raise _RetryableFailure(_describe(error)) from None
        except (_RetryableFailure, FetchError) as failure:
            self._log_failure(method, safe_url, started, str(failure))
            raise

        elapsed = (time.monotonic() - started) * 1000
        self.stats.count(bytes_received=len(content))
        if outcome == "revalidate":
            outcome = "revalidated" if status == NOT_MODIFIED else "changed"
        logger.debug(
            "%s %s %d, %d bytes, %.0f ms, cache %s",
            method,
            safe_url,
            status,
            len(content),
            elapsed,
            outcome,
        )
        return HttpResponse(
            url=url,
            status=status,
            headers=CaseInsensitiveDict(raw.headers),
            content=content,
            authorized=any("Authorization" in sent.request.headers for sent in [*raw.history, raw]),
        )

    @staticmethod
    def _log_failure(method: str, safe_url: str, started: float, cause: str) -> None:
        elapsed = (time.monotonic() - started) * 1000
        logger.debug("%s %s failed after %.0f ms: %s", method, safe_url, elapsed, cause)

    def _slot_for(self, url: str) -> threading.BoundedSemaphore:
        _, host = split_host(url)
        with self._lock:
            slot = self._host_slots.get(host)
            if slot is None:
                slot = self._host_slots[host] = threading.BoundedSemaphore(self.max_per_host)
            return slot


class _RetryableFailure(Exception):
    """A try that failed before a complete response arrived."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def _count_tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def _build_session(pool_size: int) -> requests.Session:
    session = requests.Session()
    # Retries happen in HttpClient, so the adapter must not retry on its own.
    adapter = HTTPAdapter(pool_connections=16, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _check_url(url: str) -> None:
    try:
        split_host(url)
    except ValueError as error:
        raise FetchError(f"cannot fetch {redact_url(url)}: {error}", url=redact_url(url)) from None


def _limit_for(kind: str) -> int:
    try:
        return KIND_LIMITS[kind]
    except KeyError:
        raise ValueError(
            f"unknown download kind {kind!r}, expected one of {sorted(KIND_LIMITS)}"
        ) from None


def _carries_credentials(url: str, headers: Mapping[str, str], session: requests.Session) -> bool:
    if has_userinfo(url) or session.auth is not None:
        return True
    names = {name.lower() for name in headers} | {name.lower() for name in session.headers}
    return "authorization" in names


def _read_body(raw: requests.Response, limit: int, method: str, safe_url: str) -> bytes:
    """Read the whole body, raising FetchError when it exceeds `limit` bytes."""
    declared = _declared_length(raw)
    if declared is not None and declared > limit:
        raise FetchError(
            f"{method} {safe_url} is {declared} bytes, over the limit of {limit} bytes",
            url=safe_url,
            status=raw.status_code,
        )

    chunks: list[bytes] = []
    received = 0
    for chunk in raw.iter_content(_CHUNK_SIZE):
        received += len(chunk)
        if received > limit:
            raise FetchError(
                f"{method} {safe_url} sent more than the limit of {limit} bytes",
                url=safe_url,
                status=raw.status_code,
            )
        chunks.append(chunk)

    # urllib3 already raises on a short body when Content-Length is known; this check
    # keeps that guarantee if a transport does not.
    if declared is not None and received < declared and "content-encoding" not in raw.headers:
        raise _RetryableFailure(f"the body ended after {received} of {declared} bytes")
    return b"".join(chunks)


def _declared_length(raw: requests.Response) -> int | None:
    value = raw.headers.get("Content-Length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _describe(error: requests.RequestException) -> str:
    """Describe a transport failure without the URL that requests puts in its messages."""
    if isinstance(error, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, requests.ReadTimeout):
        return "read timed out"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "the connection broke before the whole body arrived"
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS handshake or certificate verification failed"
    if isinstance(error, requests.ConnectionError):
        code = _find_errno(error)
        if code is not None:
            return f"connection failed: {errno.errorcode.get(code, code)}"
        return "connection failed"
    return type(error).__name__


def _find_errno(error: BaseException) -> int | None:
    """Return the errno of the first OSError in the chain of causes and arguments."""
    seen: set[int] = set()
    stack: list[object] = [error]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current.errno
        stack.extend(
            [
                current.__cause__,
                current.__context__,
                *current.args,
                getattr(current, "reason", None),
            ]
        )
    return None
