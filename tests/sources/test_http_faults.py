"""HttpClient against injected faults: each recovers to the clean bytes or fails clearly."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.sources.http import KIND_LIMITS, FetchError, HttpClient
from tests.servers.http_server import Fault, LoopbackHttpServer

BODY = bytes(range(256)) * 64  # 16 KiB, so a truncated body is visibly short


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[LoopbackHttpServer]:
    (tmp_path / "blob.bin").write_bytes(BODY)
    with LoopbackHttpServer(tmp_path) as running:
        yield running


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[HttpClient]:
    with HttpClient(
        cache_dir=tmp_path / "cache", retries=2, backoff=0.001, max_wait=0.01, timeout=5.0
    ) as running:
        yield running


def statuses(server: LoopbackHttpServer) -> list[int]:
    return [request.status for request in server.requests]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=503, times=2),
        Fault(status=500, times=1),
        Fault(status=429, retry_after="0", times=1),
        Fault(status=429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT", times=1),
        Fault(reset=True, times=2),
        Fault(truncate=True, times=2),
    ],
    ids=["503-twice", "500-once", "429-seconds", "429-date", "reset-twice", "truncated-twice"],
)
def test_fault_then_clean_bytes(
    fault: Fault, server: LoopbackHttpServer, client: HttpClient
) -> None:
    server.set_fault("/blob.bin", fault)

    response = client.fetch(server.url_for("/blob.bin"))

    assert response.content == BODY
    assert statuses(server)[-1] == 200
    assert len(server.requests) == (fault.times or 0) + 1
    assert client.stats.requests == len(server.requests)


def test_persistent_503_names_url_and_status(
    server: LoopbackHttpServer, client: HttpClient
) -> None:
    server.set_fault("/blob.bin", Fault(status=503))

    with pytest.raises(FetchError) as raised:
        client.fetch(server.url_for("/blob.bin"))

    assert str(raised.value) == f"GET {server.url_for('/blob.bin')} returned HTTP 503 after 3 tries"
    assert raised.value.status == 503
    assert statuses(server) == [503, 503, 503]


def test_404_is_not_retried(server: LoopbackHttpServer, client: HttpClient) -> None:
    with pytest.raises(FetchError) as raised:
        client.fetch(server.url_for("/missing.bin"))

    assert str(raised.value) == f"GET {server.url_for('/missing.bin')} returned HTTP 404"
    assert raised.value.status == 404
    assert statuses(server) == [404]


def test_persistent_reset_fails_after_retries(
    server: LoopbackHttpServer, client: HttpClient
) -> None:
    server.set_fault("/blob.bin", Fault(reset=True))

    with pytest.raises(FetchError) as raised:
        client.fetch(server.url_for("/blob.bin"))

    assert str(raised.value) == (
        f"GET {server.url_for('/blob.bin')} failed after 3 tries: connection failed: ECONNRESET"
    )
    assert raised.value.status is None
    assert len(server.requests) == 3


def test_persistent_truncation_is_an_error(
    server: LoopbackHttpServer, client: HttpClient, tmp_path: Path
) -> None:
    server.set_fault("/blob.bin", Fault(truncate=True))

    with pytest.raises(FetchError) as raised:
        client.fetch(server.url_for("/blob.bin"))

    assert str(raised.value) == (
        f"GET {server.url_for('/blob.bin')} failed after 3 tries: "
        "the connection broke before the whole body arrived"
    )
    assert [request.body_bytes for request in server.requests] == [len(BODY) // 2] * 3
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("send_length", [True, False], ids=["declared", "streamed"])
def test_oversized_body_is_rejected_once(
    send_length: bool, server: LoopbackHttpServer, client: HttpClient, tmp_path: Path
) -> None:
    limit = KIND_LIMITS["manifest"]
    server.set_fault("/blob.bin", Fault(oversize=limit + 1, send_length=send_length))

    with pytest.raises(FetchError) as raised:
        client.fetch(server.url_for("/blob.bin"), kind="manifest")

    url = server.url_for("/blob.bin")
    expected = (
        f"GET {url} is {limit + 1} bytes, over the limit of {limit} bytes"
        if send_length
        else f"GET {url} sent more than the limit of {limit} bytes"
    )
    assert str(raised.value) == expected
    assert client.stats.requests == 1
    assert not (tmp_path / "cache").exists()


def test_body_at_the_limit_is_accepted(server: LoopbackHttpServer, client: HttpClient) -> None:
    limit = KIND_LIMITS["manifest"]
    server.set_fault("/blob.bin", Fault(oversize=limit, send_length=False))

    response = client.fetch(server.url_for("/blob.bin"), kind="manifest")

    assert response.content == b"x" * limit


def test_slow_response_times_out(server: LoopbackHttpServer, tmp_path: Path) -> None:
    server.set_fault("/blob.bin", Fault(delay_ms=1500))
    with HttpClient(cache_dir=tmp_path / "cache", retries=0, timeout=0.2) as client:
        with pytest.raises(FetchError) as raised:
            client.fetch(server.url_for("/blob.bin"))

    assert str(raised.value) == (
        f"GET {server.url_for('/blob.bin')} failed after 1 try: read timed out"
    )


def test_refused_connection_is_retried_then_reported(tmp_path: Path) -> None:
    with LoopbackHttpServer(tmp_path) as stopped:
        url = stopped.url_for("/blob.bin")

    with HttpClient(cache_dir=tmp_path / "cache", retries=1, backoff=0.001) as client:
        with pytest.raises(FetchError) as raised:
            client.fetch(url)

    assert str(raised.value) == (f"GET {url} failed after 2 tries: connection failed: ECONNREFUSED")
    assert client.stats.requests == 2


def test_retry_after_is_honoured(
    server: LoopbackHttpServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="compiler.sources.http")
    server.set_fault("/blob.bin", Fault(status=429, retry_after="1", times=1))
    with HttpClient(cache_dir=tmp_path / "cache", backoff=0.001, max_wait=60) as client:
        response = client.fetch(server.url_for("/blob.bin"))

    assert response.content == BODY
    assert [record.getMessage() for record in caplog.records if record.levelno == logging.INFO] == [
        f"retrying GET {server.url_for('/blob.bin')} in 1.00 s (try 2 of 5) after HTTP 429"
    ]


def test_retry_after_is_capped(
    server: LoopbackHttpServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="compiler.sources.http")
    server.set_fault("/blob.bin", Fault(status=503, retry_after="3600", times=1))
    with HttpClient(cache_dir=tmp_path / "cache", backoff=0.001, max_wait=0.05) as client:
        response = client.fetch(server.url_for("/blob.bin"))

    assert response.content == BODY
    assert [record.getMessage() for record in caplog.records if record.levelno == logging.INFO] == [
        f"retrying GET {server.url_for('/blob.bin')} in 0.05 s (try 2 of 5) after HTTP 503"
    ]


def test_failed_fetch_is_not_repeated(server: LoopbackHttpServer, client: HttpClient) -> None:
    server.set_fault("/blob.bin", Fault(status=503))
    url = server.url_for("/blob.bin")

    with pytest.raises(FetchError) as first:
        client.fetch(url)
    with pytest.raises(FetchError) as second:
        client.fetch(url)

    assert second.value is first.value
    assert len(server.requests) == 3
