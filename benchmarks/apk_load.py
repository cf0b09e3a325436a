"""Measure loading the Alpine v3.20 x86_64 index against bare decompression, one solve,
and the memory one loaded index holds.

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
    # A fresh keyring and process-level parse caches make each round a cold load.
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


keyring = load_keyring()
data = INDEX.read_bytes()
bare, bare_median, _ = best(decompress, data)
loaded, loaded_median, repository = best(load, data)
solved, solved_median, solution = best(lambda: solve(WORLD, [repository], arch="x86_64"))

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
    f"solve {len(WORLD)}-package world -> {len(solution.packages)} packages:"
    f" {solved * 1000:.1f} ms (median {solved_median * 1000:.1f}), {solved / loaded:.0%} of load"
)
print(f"memory held by one loaded index: {current / 1e6:.1f} MB ({len(held.packages)} packages)")
