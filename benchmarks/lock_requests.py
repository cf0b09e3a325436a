"""Count the requests and bytes of a cold and a warm `pinwright lock` of upstream inputs.

Serves a copy of tests/sources/samples from the loopback test server. Locks the test
catalog of tests/e2e/test_upstreams.py (one image with every release, package registry and
URL input kind, two architectures) three times on one cache folder: cold with an empty
cache, warm, and offline. Prints a Markdown table of the requests the server answered.

    PYTHONPATH=$PWD python benchmarks/lock_requests.py [--latency-ms N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import compiler.commands.lock  # noqa: F401  imported here so the cold run times no imports
from compiler.cli import main
from tests.e2e.test_upstreams import SAMPLES, write_catalog
from tests.servers.http_server import LoopbackHttpServer


def run_lock(root: Path, cache: Path, *extra: str) -> float:
    """Run one lock and return its wall time in milliseconds; exit when the lock fails."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["-C", str(root), "lock", "--cache-dir", str(cache), *extra])
    elapsed = (time.perf_counter() - started) * 1000
    if code != 0:
        sys.exit(f"lock failed with exit code {code}")
    return elapsed


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every response")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        shutil.copytree(SAMPLES, base / "upstream")
        with LoopbackHttpServer(base / "upstream", latency_ms=args.latency_ms) as server:
            root = write_catalog(base / "catalog", server)
            print("| run | requests | 304 answers | body bytes sent | wall time (ms) |")
            print("|---|---:|---:|---:|---:|")
            for label, extra in [
                ("cold (empty cache)", ()),
                ("warm (same cache)", ()),
                ("offline (same cache)", ("--offline",)),
            ]:
                server.clear_requests()
                elapsed = run_lock(root, base / "cache", *extra)
                served = server.requests
                not_modified = sum(1 for request in served if request.status == 304)
                sent = sum(request.body_bytes for request in served)
                print(f"| {label} | {len(served)} | {not_modified} | {sent:,} | {elapsed:.0f} |")


if __name__ == "__main__":
    main_benchmark()
