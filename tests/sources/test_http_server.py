"""The loopback test server itself: validators, 304s, HEAD and the APK mirror layout."""

from __future__ import annotations

import hashlib
from pathlib import Path

import requests

from compiler.sources.http import HttpClient
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror


def test_server_answers_conditional_requests(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"alpha\n")
    with LoopbackHttpServer(tmp_path) as server, requests.Session() as session:
        first = session.get(server.url_for("/a.txt"), timeout=5)
        by_etag = session.get(
            server.url_for("/a.txt"), headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
        by_date = session.get(
            server.url_for("/a.txt"),
            headers={"If-Modified-Since": first.headers["Last-Modified"]},
            timeout=5,
        )
        stale_etag = session.get(
            server.url_for("/a.txt"),
            headers={
                "If-None-Match": '"other"',
                "If-Modified-Since": first.headers["Last-Modified"],
            },
            timeout=5,
        )
        head = session.head(server.url_for("/a.txt"), timeout=5)
        escape = session.get(server.url + "/../etc/passwd", timeout=5)

    assert first.content == b"alpha\n"
    assert first.headers["ETag"] == '"' + hashlib.sha256(b"alpha\n").hexdigest()[:32] + '"'
    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert (by_date.status_code, by_date.content) == (304, b"")
    assert (stale_etag.status_code, stale_etag.content) == (200, b"alpha\n")
    assert (head.status_code, head.content) == (200, b"")
    assert escape.status_code == 404
    assert [(r.method, r.status, r.body_bytes) for r in server.requests] == [
        ("GET", 200, 6),
        ("GET", 304, 0),
        ("GET", 304, 0),
        ("GET", 200, 6),
        ("HEAD", 200, 0),
        ("GET", 404, 10),
    ]


def test_apk_mirror_serves_real_indexes(fixtures_dir: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    written = build_apk_mirror(mirror, source=fixtures_dir / "apk")

    assert written == [
        "v3.16/main/x86_64/APKINDEX.tar.gz",
        "v3.17/main/aarch64/APKINDEX.tar.gz",
        "v3.18/main/x86_64/APKINDEX.tar.gz",
        "v3.19/main/x86_64/APKINDEX.tar.gz",
        "v3.20/main/x86_64/APKINDEX.tar.gz",
    ]
    original = (fixtures_dir / "apk" / "alpine-v3.19.3-main-x86_64.APKINDEX.tar.gz").read_bytes()
    newer = (fixtures_dir / "apk" / "alpine-v3.19.7-main-x86_64.APKINDEX.tar.gz").read_bytes()
    url_path = "/v3.19/main/x86_64/APKINDEX.tar.gz"

    with LoopbackHttpServer(mirror) as server:
        with HttpClient(cache_dir=tmp_path / "cache") as client:
            first = client.fetch(server.url_for(url_path), kind="index")
        build_apk_mirror(mirror, ["3.19.7-main-x86_64"], source=fixtures_dir / "apk")
        with HttpClient(cache_dir=tmp_path / "cache") as client:
            second = client.fetch(server.url_for(url_path), kind="index")

    assert first.content == original
    assert second.content == newer
    assert second.from_cache is False
