"""Measure loading the Alpine v3.20 x86_64 index against bare decompression, the first
and a repeated solve on it, and the memory one loaded index holds.

The first solve on a freshly loaded index pays for the fields that loading leaves
unparsed. A repeated solve on the same index finds them parsed.

Run: PYTHONPATH=$PWD python benchmarks/apk_load.py
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
import zlib
from pathlib import Path

from compiler.apk.index import read_index_archive
from compiler.apk.keys import load_keyring
from compiler.apk.solver import Repository, solve

INDEX = (
    Path(__file__).resolve().parents[2]
    / "shared/fixtures/apk/alpine-v3.20.2-main-x86_64.APKINDEX.tar.gz"
)
WORLD = [
    "alpine-base", "git", "openssh", "curl", "python3", "nginx", "bash", "coreutils",
    "findutils", "grep", "sed", "gawk", "tar", "gzip", "xz", "zstd", "rsync", "make",
    "gcc", "musl-dev", "perl", "sqlite", "postgresql16-client", "less", "jq", "tzdata",
    "ca-certificates", "openssl", "iproute2", "file",
]  # fmt: skip
ROUNDS = 7


def decompress(data: bytes) -> None:
    first = zlib.decompressobj(wbits=31)
    first.decompress(data)
    zlib.decompressobj(wbits=31).decompress(first.unused_data)


def load(data: bytes) -> Repository:
    # Clearing the process-level parse caches makes each round a cold load.
    from compiler.apk import index as index_module
    from compiler.apk import version as version_module

    index_module.parse_dependency.cache_clear()
    index_module._parse_dependency_list.cache_clear()
    version_module.tokenize_version.cache_clear()
    index = read_index_archive(data, source=INDEX.name, keys=keyring)
    repository = Repository(index.packages, INDEX.name)
    repository.packages_by_name  # noqa: B018 - builds the provider map
    repository.provides_candidates  # noqa: B018
    repository.install_if_candidates  # noqa: B018
    return repository


def best(function, *args):  # type: ignore[no-untyped-def]
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def timed(function, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def load_and_solve(data: bytes) -> tuple[float, float, float, int]:
    """Time one cold load, the first solve on it, and a second solve on it.

    Only the times and the size of the solution are kept, so no round keeps an index alive.
    """
    load_time, repository = timed(load, data)
    first_time, solution = timed(lambda: solve(WORLD, [repository], arch="x86_64"))
    again_time, _ = timed(lambda: solve(WORLD, [repository], arch="x86_64"))
    return load_time, first_time, again_time, len(solution.packages)


keyring = load_keyring()
data = INDEX.read_bytes()
bare, bare_median, _ = best(decompress, data)
rounds = [load_and_solve(data) for _ in range(ROUNDS)]
load_times, first_times, again_times, _sizes = zip(*rounds, strict=True)
loaded, first, again = min(load_times), min(first_times), min(again_times)
loaded_median = statistics.median(load_times)
first_median = statistics.median(first_times)
again_median = statistics.median(again_times)
solved_packages = rounds[-1][3]

tracemalloc.start()
held = load(data)
current, _peak = tracemalloc.get_traced_memory()
tracemalloc.stop()

print(f"bare decompression: {bare * 1000:.1f} ms (median {bare_median * 1000:.1f})")
print(
    f"load (decompress, verify, parse, provider map): {loaded * 1000:.1f} ms"
    f" (median {loaded_median * 1000:.1f}), {loaded / bare:.1f}x"
)
print(
    f"first solve of a {len(WORLD)}-package world -> {solved_packages} packages:"
    f" {first * 1000:.1f} ms (median {first_median * 1000:.1f}), {first / loaded:.0%} of load"
)
print(
    f"repeated solve on the same index: {again * 1000:.1f} ms"
    f" (median {again_median * 1000:.1f}), {again / loaded:.0%} of load"
)
print(f"memory held by one loaded index: {current / 1e6:.1f} MB ({len(held.packages)} packages)")
