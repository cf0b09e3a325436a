"""Measure what the disk cache saves: a cold and a warm fetch of six real APKINDEX files.

Serves the shared Alpine fixtures from the loopback test server and fetches each index
through HttpClient three times. The first run starts with an empty cache. The second uses a
new client on the same cache, as the next run of Pinwright would, and the third is offline.
Prints a Markdown table.

    PYTHONPATH=$PWD python benchmarks/http_cache.py [--latency-ms N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from compiler.sources.http import HttpClient
from tests.conftest import SHARED_FIXTURES
from tests.servers.http_server import LoopbackHttpServer

INDEX_NAMES = (
    "alpine-v3.16.3-main-x86_64.APKINDEX.tar.gz",
    "alpine-v3.17.3-main-aarch64.APKINDEX.tar.gz",
    "alpine-v3.18.8-main-x86_64.APKINDEX.tar.gz",
    "alpine-v3.19.3-main-x86_64.APKINDEX.tar.gz",
    "alpine-v3.19.7-main-x86_64.APKINDEX.tar.gz",
    "alpine-v3.20.2-main-x86_64.APKINDEX.tar.gz",
)


@dataclass(frozen=True)
class RunResult:
    label: str
    requests: int
    body_bytes_sent: int
    not_modified: int
    elapsed_ms: float


def fetch_all(
    server: LoopbackHttpServer, cache_dir: Path, label: str, *, offline: bool = False
) -> RunResult:
    """Fetch every index concurrently with a new client and return what the server saw."""
    server.clear_requests()
    started = time.perf_counter()
    with (
        HttpClient(cache_dir=cache_dir, offline=offline) as client,
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        urls = [server.url_for(name) for name in INDEX_NAMES]
        bodies = list(pool.map(lambda url: client.fetch(url, kind="index").content, urls))
    elapsed_ms = (time.perf_counter() - started) * 1000

    for name, body in zip(INDEX_NAMES, bodies, strict=True):
        if body != (SHARED_FIXTURES / "apk" / name).read_bytes():
            raise SystemExit(f"{label}: {name} came back with different bytes")
    seen = server.requests
    return RunResult(
        label=label,
        requests=len(seen),
        body_bytes_sent=sum(request.body_bytes for request in seen),
        not_modified=sum(1 for request in seen if request.status == 304),
        elapsed_ms=elapsed_ms,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="delay the server adds to every response, in ms"
    )
    args = parser.parse_args()
    if not (SHARED_FIXTURES / "apk").is_dir():
        print(f"fixtures not found at {SHARED_FIXTURES / 'apk'}", file=sys.stderr)
        return 1

    with (
        tempfile.TemporaryDirectory() as cache,
        LoopbackHttpServer(SHARED_FIXTURES / "apk", latency_ms=args.latency_ms) as server,
    ):
        results = [
            fetch_all(server, Path(cache), "cold (empty cache)"),
            fetch_all(server, Path(cache), "warm (same cache, new client)"),
            fetch_all(server, Path(cache), "offline (same cache)", offline=True),
        ]

    print(f"latency added by the server: {args.latency_ms} ms")
    print("| run | requests | 304 answers | body bytes sent | wall time (ms) |")
    print("|---|---:|---:|---:|---:|")
    for result in results:
        print(
            f"| {result.label} | {result.requests} | {result.not_modified} "
            f"| {result.body_bytes_sent:,} | {result.elapsed_ms:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
