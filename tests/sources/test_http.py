"""HttpClient against the loopback file server: cache, offline, refresh and concurrency."""

from __future__ import annotations

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
        "cannot fetch file:///etc/passwd: unsupported scheme 'file', only http and https are allowed"
    )
    assert not os.path.exists(cache_dir)
