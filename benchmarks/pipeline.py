"""Benchmarks of the main jobs: compile against the CLI import, and lock over slow links.

Run from the repository root: `python benchmarks/pipeline.py [--rounds N]`.

1. `pinwright compile` of the project's catalog, against a bare `import compiler.cli`,
   both as fresh processes in the same run (median of N rounds).
2. A cold `pinwright lock` of a generated test catalog against loopback servers that
   add 100 ms to every response (the Alpine mirror, and a delaying proxy in front of
   the registry and of the git mirror), with the default concurrency and `--jobs 1`.
3. A warm `lock` of the same catalog with nothing changed upstream: the index bodies
   downloaded again are counted from the mirror's request log.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from benchmarks.latency_proxy import LatencyProxy  # noqa: E402
from compiler.cli import main  # noqa: E402
from tests.conftest import SHARED_FIXTURES  # noqa: E402
from tests.servers.git import start_static_mirror  # noqa: E402
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror  # noqa: E402
from tests.servers.registry import start_registry  # noqa: E402
from tests.trees import write_tree  # noqa: E402

DELAY_MS = 100
REPOSITORIES = ("miniflux/v2", "caddyserver/caddy", "prometheus/node_exporter", "csmith/contempt")
WORLDS = (
    ["busybox", "ca-certificates"],
    ["git"],
    ["curl", "tzdata"],
    ["nginx"],
    ["openssh"],
    ["python3"],
)
IMAGE_COUNT = 24


def time_processes(commands: list[list[str]], rounds: int) -> list[float]:
    """Return the median wall time in seconds of each command over `rounds` rounds.

    The commands alternate within each round, so load from other processes on the
    machine falls on all of them alike.
    """
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(rounds):
        for index, arguments in enumerate(commands):
            started = time.perf_counter()
            subprocess.run(arguments, check=True, cwd=REPOSITORY, capture_output=True)
            times[index].append(time.perf_counter() - started)
    return [statistics.median(samples) for samples in times]


# The third-party libraries `compile` cannot do without, imported and nothing else.
LIBRARIES_IMPORT = "import pydantic, ruamel.yaml, jinja2.sandbox, rich.console"


def bench_compile(rounds: int) -> list[float]:
    with tempfile.TemporaryDirectory() as temporary:
        catalog = Path(temporary)
        shutil.copy(REPOSITORY / "pinwright.yaml", catalog)
        shutil.copytree(REPOSITORY / "_includes", catalog / "_includes")
        shutil.copytree(REPOSITORY / "images", catalog / "images")
        return time_processes(
            [
                [sys.executable, "-c", "import compiler.cli"],
                [sys.executable, "-c", LIBRARIES_IMPORT],
                [sys.executable, "-m", "compiler", "-C", str(catalog), "compile"],
            ],
            rounds,
        )


def write_test_catalog(root: Path, registry: str, mirror: str, git: str) -> None:
    files = {
        "pinwright.yaml": f"""
            registry: {registry}/catalog
            alpine: {{mirror: "{mirror}/alpine", branch: v3.20, repositories: [main]}}
            registries: {{"{registry}": {{insecure: true}}}}
            git: {{url_rewrites: {{"https://github.com/": "{git}/github.com/"}}}}
        """
    }
    for number in range(IMAGE_COUNT):
        world = ", ".join(WORLDS[number % len(WORLDS)])
        repository = REPOSITORIES[number % len(REPOSITORIES)]
        files[f"images/image{number:02d}/image.yaml"] = f"""
            inputs:
              base: {{image: "{registry}/library/base:{number}"}}
              packages: {{alpine_packages: [{world}]}}
              source: {{github_tag: {repository}}}
        """
        files[f"images/image{number:02d}/Dockerfile.j2"] = (
            "FROM {{ inputs.base }}\nRUN apk add {{ inputs.packages }}\n# {{ inputs.source }}\n"
        )
    write_tree(root, files)


def run_lock(catalog: Path, cache: Path, *extra: str) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["-C", str(catalog), "lock", "--cache-dir", str(cache), *extra])
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"lock failed with exit code {code}")
    return elapsed


def bench_lock() -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        build_apk_mirror(work / "mirror/alpine", ["3.20.2-main-x86_64"])
        registry = start_registry(work / "registry", "anonymous")
        git_mirror = start_static_mirror(SHARED_FIXTURES / "git")
        try:
            for number in range(IMAGE_COUNT):
                registry.push("library/base", str(number), files={"n": str(number).encode()})
            with (
                LoopbackHttpServer(work / "mirror", latency_ms=DELAY_MS) as mirror,
                LatencyProxy(registry.url, DELAY_MS) as registry_proxy,
                LatencyProxy(git_mirror.base_url, DELAY_MS) as git_proxy,
            ):
                catalog = work / "catalog"
                write_test_catalog(catalog, registry_proxy.host, mirror.url, git_proxy.url)
                # The registry is reached through the proxy, so mark the proxy host insecure.
                results["serial"] = run_lock(catalog, work / "cache-serial", "--jobs", "1")
                results["concurrent"] = run_lock(catalog, work / "cache-concurrent")

                mirror.clear_requests()
                results["warm"] = run_lock(catalog, work / "cache-concurrent")
                index_requests = [r for r in mirror.requests if r.path.endswith("APKINDEX.tar.gz")]
                results["warm_index_requests"] = len(index_requests)
                results["warm_index_body_bytes"] = sum(r.body_bytes for r in index_requests)
        finally:
            registry.stop()
            git_mirror.stop()
    return results


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    print(f"python {platform.python_version()}, {platform.machine()}")
    baseline, libraries, compiled = bench_compile(args.rounds)
    print(f"import compiler.cli: {baseline * 1000:.0f} ms (median of {args.rounds})")
    print(f"import of pydantic, ruamel.yaml, jinja2, rich: {libraries * 1000:.0f} ms")
    print(f"compile of images/: {compiled * 1000:.0f} ms, {compiled / baseline:.2f}x the import")

    results = bench_lock()
    print(f"cold lock, --jobs 1: {results['serial']:.2f} s")
    print(f"cold lock, default jobs: {results['concurrent']:.2f} s")
    print(f"speed-up: {results['serial'] / results['concurrent']:.1f}x")
    print(f"warm lock: {results['warm']:.2f} s")
    print(
        f"warm lock index requests: {results['warm_index_requests']:.0f}, "
        f"index body bytes: {results['warm_index_body_bytes']:.0f}"
    )


if __name__ == "__main__":
    main_benchmark()
