"""HttpClient against the loopback file server: cache, offline, refresh and concurrency."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.sources.http import FetchError, HttpClient
from tests.servers.http_server import Fault, LoopbackHttpServer

BODY = b"P:busybox\nV:1.36.1-r15\n"


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.txt").write_bytes(BODY)
    return folder


@pytest.fixture()
def server(site: Path) -> Iterator[LoopbackHttpServer]:
    with LoopbackHttpServer(site) as running:
        yield running


@pytest.fixture()
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def make_client(cache_dir: Path, **options: object) -> HttpClient:
    settings: dict[str, object] = {"backoff": 0.001, "max_wait": 0.01, "timeout": 5.0}
    settings.update(options)
    return HttpClient(cache_dir=cache_dir, **settings)  # type: ignore[arg-type]


def test_fetch_returns_body(server: LoopbackHttpServer, cache_dir: Path) -> None:
    with make_client(cache_dir) as client:
        response = client.fetch(server.url_for("/index.txt"))

    assert response.status == 200
    assert response.content == BODY
    assert response.from_cache is False
    assert response.headers["content-length"] == str(len(BODY))
    assert client.stats.requests == 1
    assert client.stats.bytes_received == len(BODY)


def test_second_run_revalidates_with_304(server: LoopbackHttpServer, cache_dir: Path) -> None:
    url = server.url_for("/index.txt")
    with make_client(cache_dir) as client:
        client.fetch(url)
    with make_client(cache_dir) as client:
        response = client.fetch(url)

    assert response.content == BODY
    assert response.from_cache is True
    second = server.requests[1]
    assert second.status == 304
    assert second.body_bytes == 0
    assert second.headers["If-None-Match"].startswith('"')
    assert client.stats.cache_hits == 1
    assert client.stats.not_modified == 1
    assert client.stats.bytes_received == 0


def test_changed_file_is_seen(server: LoopbackHttpServer, site: Path, cache_dir: Path) -> None:
    url = server.url_for("/index.txt")
    with make_client(cache_dir) as client:
        client.fetch(url)
    (site / "index.txt").write_bytes(b"P:busybox\nV:1.36.1-r16\n")
    with make_client(cache_dir) as client:
        response = client.fetch(url)

    assert response.content == b"P:busybox\nV:1.36.1-r16\n"
    assert response.from_cache is False
    assert [request.status for request in server.requests] == [200, 200]


def test_offline_hit_and_miss(server: LoopbackHttpServer, cache_dir: Path) -> None:
    url = server.url_for("/index.txt")
    with make_client(cache_dir) as client:
        client.fetch(url)
    server.clear_requests()

    with make_client(cache_dir, offline=True) as client:
        response = client.fetch(url)
        with pytest.raises(FetchError) as raised:
            client.fetch(server.url_for("/other.txt"))

    assert response.content == BODY
    assert response.from_cache is True
    assert server.requests == []
    assert str(raised.value) == (
        f"{server.url_for('/other.txt')} is not in the cache, run without --offline"
    )


def test_refresh_ignores_cached_body(server: LoopbackHttpServer, cache_dir: Path) -> None:
    url = server.url_for("/index.txt")
    with make_client(cache_dir) as client:
        client.fetch(url)
    with make_client(cache_dir, refresh=True) as client:
        response = client.fetch(url)

    assert response.from_cache is False
    assert "If-None-Match" not in server.requests[1].headers
    assert server.requests[1].body_bytes == len(BODY)


def test_eight_threads_cause_one_request(server: LoopbackHttpServer, cache_dir: Path) -> None:
    server.set_fault("/index.txt", Fault(delay_ms=200))
    url = server.url_for("/index.txt")
    results: list[bytes] = []
    with make_client(cache_dir) as client:
        threads = [
            threading.Thread(target=lambda: results.append(client.fetch(url).content))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert results == [BODY] * 8
    assert len(server.requests) == 1


def test_recovers_from_503(server: LoopbackHttpServer, cache_dir: Path) -> None:
    server.set_fault("/index.txt", Fault(status=503, times=2))
    with make_client(cache_dir) as client:
        response = client.fetch(server.url_for("/index.txt"))

    assert response.content == BODY
    assert [request.status for request in server.requests] == [503, 503, 200]


def test_file_scheme_is_rejected(cache_dir: Path) -> None:
    with make_client(cache_dir) as client, pytest.raises(FetchError) as raised:
        client.fetch("file:///etc/passwd")

    assert str(raised.value) == (
        "cannot fetch file:///etc/passwd: "
        "unsupported scheme 'file', only http and https are allowed"
    )
    assert not os.path.exists(cache_dir)


def test_same_client_fetches_once(server: LoopbackHttpServer, cache_dir: Path) -> None:
    url = server.url_for("/index.txt")
    with make_client(cache_dir) as client:
        first = client.fetch(url)
        second = client.fetch(url)

    assert first is second
    assert len(server.requests) == 1


def test_requests_per_host_are_bounded(
    server: LoopbackHttpServer, site: Path, cache_dir: Path
) -> None:
    names = [f"/file-{number}.txt" for number in range(6)]
    for name in names:
        (site / name.lstrip("/")).write_bytes(name.encode())
        server.set_fault(name, Fault(delay_ms=100))
    results: dict[str, bytes] = {}

    def fetch(client: HttpClient, name: str) -> None:
        results[name] = client.fetch(server.url_for(name)).content

    with make_client(cache_dir, max_per_host=2) as client:
        threads = [threading.Thread(target=fetch, args=(client, name)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert results == {name: name.encode() for name in names}
    assert server.max_in_flight == 2


def test_cache_holds_body_and_validators_only(server: LoopbackHttpServer, cache_dir: Path) -> None:
    url = server.url_for("/index.txt")
    with make_client(cache_dir) as client:
        response = client.fetch(url)

    key = hashlib.sha256(url.encode()).hexdigest()
    assert sorted(path.name for path in cache_dir.iterdir()) == [f"{key}.body", f"{key}.json"]
    assert (cache_dir / f"{key}.body").read_bytes() == BODY
    meta = json.loads((cache_dir / f"{key}.json").read_text())
    assert meta == {
        "version": 1,
        "sha256": hashlib.sha256(BODY).hexdigest(),
        "size": len(BODY),
        "etag": response.headers["ETag"],
        "last_modified": response.headers["Last-Modified"],
    }


def test_inconsistent_cache_entry_is_a_miss(server: LoopbackHttpServer, cache_dir: Path) -> None:
    url = server.url_for("/index.txt")
    with make_client(cache_dir) as client:
        client.fetch(url)
    key = hashlib.sha256(url.encode()).hexdigest()
    (cache_dir / f"{key}.body").write_bytes(b"half-written")

    with make_client(cache_dir, offline=True) as client, pytest.raises(FetchError):
        client.fetch(url)
    with make_client(cache_dir) as client:
        response = client.fetch(url)

    assert response.content == BODY
    assert "If-None-Match" not in server.requests[1].headers


def test_authorization_is_never_cached(server: LoopbackHttpServer, cache_dir: Path) -> None:
    with make_client(cache_dir) as client:
        response = client.fetch(
            server.url_for("/index.txt"), headers={"Authorization": "Bearer s3cret"}
        )

    assert response.content == BODY
    assert server.requests[0].headers["Authorization"] == "Bearer s3cret"
    assert not cache_dir.exists()


def test_userinfo_is_never_cached_or_logged(
    server: LoopbackHttpServer, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="compiler.sources.http")
    url = server.url_for("/index.txt").replace("http://", "http://user:s3cret@")
    with make_client(cache_dir) as client:
        client.fetch(url)
        with pytest.raises(FetchError) as raised:
            client.fetch(url.replace("index.txt", "missing.txt"))

    assert server.requests[0].headers["Authorization"].startswith("Basic ")
    assert not cache_dir.exists()
    assert "s3cret" not in caplog.text
    assert "user" not in caplog.text
    assert str(raised.value) == f"GET {server.url_for('/missing.txt')} returned HTTP 404"


def test_one_debug_line_per_request(
    server: LoopbackHttpServer, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="compiler.sources.http")
    url = server.url_for("/index.txt?token=abc&arch=x86_64")
    with make_client(cache_dir) as client:
        client.fetch(url)
    with make_client(cache_dir) as client:
        client.fetch(url)

    messages = [record.getMessage() for record in caplog.records]
    redacted_url = server.url_for("/index.txt?token=REDACTED&arch=x86_64")
    assert len(messages) == 2
    assert messages[0].startswith(f"GET {redacted_url} 200, {len(BODY)} bytes, ")
    assert messages[0].endswith(" ms, cache miss")
    assert messages[1].startswith(f"GET {redacted_url} 304, 0 bytes, ")
    assert messages[1].endswith(" ms, cache revalidated")


def test_request_head_and_ok_statuses(server: LoopbackHttpServer, cache_dir: Path) -> None:
    with make_client(cache_dir) as client:
        head = client.request("HEAD", server.url_for("/index.txt"), auth=("user", "pass"))
        missing = client.request("GET", server.url_for("/missing.txt"), ok_statuses=(404,))

    assert head.status == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(BODY))
    assert head.from_cache is False
    assert missing.status == 404
    assert missing.content == b"not found\n"
    assert [(r.method, r.status) for r in server.requests] == [("HEAD", 200), ("GET", 404)]
    assert server.requests[0].headers["Authorization"].startswith("Basic ")
    assert not cache_dir.exists()


def test_unknown_kind_is_rejected(server: LoopbackHttpServer, cache_dir: Path) -> None:
    with make_client(cache_dir) as client, pytest.raises(ValueError) as raised:
        client.fetch(server.url_for("/index.txt"), kind="video")

    assert str(raised.value) == (
        "unknown download kind 'video', expected one of "
        "['archive', 'document', 'index', 'manifest']"
    )
    assert server.requests == []


def test_netrc_credentials_are_never_cached(
    server: LoopbackHttpServer, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with make_client(cache_dir) as client:
        response = client.fetch(server.url_for("/index.txt"))

    assert response.content == BODY
    assert response.authorized is True
    assert server.requests[0].headers["Authorization"].startswith("Basic ")
    assert not cache_dir.exists()
