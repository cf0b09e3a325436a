"""`pinwright lock --offline` end to end: every source reads from the cache alone.

Each test starts its own registry (basic auth), git daemon and Alpine mirror on loopback,
so that it can stop them before the offline run. Listening sockets are then bound on the
freed ports: a connection attempt would be queued there, and the tests assert that none is.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from compiler.cli import main
from tests.servers.git import (
    RunningGitDaemon,
    make_tagged_repository,
    start_git_daemon,
    stop_process,
)
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror
from tests.servers.registry import RunningRegistry, start_registry
from tests.trees import snapshot_tree, write_tree

pytestmark = pytest.mark.e2e

LOCK_FILES = ("images/base/image.lock.json", "images/tool/image.lock.json")


@dataclass
class Upstream:
    registry: RunningRegistry
    git: RunningGitDaemon
    mirror: LoopbackHttpServer
    commits: dict[str, str]
    base_digest: str
    listeners: list[socket.socket] = field(default_factory=list)

    @property
    def ports(self) -> list[int]:
        hosts = [
            self.registry.host,
            self.git.server.base_url.removeprefix("git://"),
            self.mirror.url.removeprefix("http://"),
        ]
        return [int(host.rpartition(":")[2]) for host in hosts]

    def stop_and_listen(self) -> None:
        """Stop every server, then listen on their ports without accepting connections."""
        ports = self.ports
        self.registry.stop()
        stop_process(self.git.process)
        self.mirror.stop()
        for port in ports:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(16)
            listener.setblocking(False)
            self.listeners.append(listener)

    def attempted_ports(self) -> list[int]:
        """Return the listening ports that a client has connected to since `stop_and_listen`."""
        attempted: list[int] = []
        for listener in self.listeners:
            try:
                connection, _ = listener.accept()
            except BlockingIOError:
                continue
            connection.close()
            attempted.append(listener.getsockname()[1])
        return attempted

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()
        self.registry.stop()
        stop_process(self.git.process)
        self.mirror.stop()


@pytest.fixture
def upstream(tmp_path: Path, fixtures_dir: Path) -> Iterator[Upstream]:
    registry = start_registry(tmp_path / "registry", "basic")
    base_digest = registry.push(
        "library/base", "3.19", platforms=("linux/amd64", "linux/arm64"), index=True
    )
    repositories = tmp_path / "git"
    repositories.mkdir()
    commits = make_tagged_repository(repositories / "tagged.git")
    mirror_root = tmp_path / "mirror"
    build_apk_mirror(mirror_root / "alpine", ["3.19.3-main-x86_64"])

    running = Upstream(
        registry=registry,
        git=start_git_daemon(repositories),
        mirror=LoopbackHttpServer(mirror_root).start(),
        commits=commits,
        base_digest=base_digest,
    )
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(autouse=True)
def docker_config(upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the registry's test user to Pinwright through a Docker config file."""
    upstream.registry.write_docker_config(tmp_path / "docker-config")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


def write_catalog(root: Path, upstream: Upstream) -> None:
    registry = upstream.registry.host
    write_tree(
        root,
        {
            "pinwright.yaml": f"""
                registry: {registry}/catalog
                architectures: [x86_64]
                alpine:
                  mirror: {upstream.mirror.url}/alpine
                  branch: v3.19
                  repositories: [main]
                registries:
                  "{registry}": {{insecure: true}}
            """,
            "images/base/image.yaml": f"""
                inputs:
                  alpine: {{image: "{registry}/library/base:3.19"}}
                  packages: {{alpine_packages: [busybox]}}
            """,
            "images/base/Dockerfile.j2": """
                FROM {{ inputs.alpine }}
                RUN apk add --no-cache {{ inputs.packages }}
            """,
            "images/tool/image.yaml": f"""
                inputs:
                  tool: {{git_tag: "{upstream.git.server.url("tagged.git")}", prefix: v}}
                stages:
                  - base: scratch
                    steps:
                      - run: echo {{{{ inputs.tool }}}}
            """,
        },
    )


def run_cli(root: Path, *arguments: str) -> int:
    return main(["-C", str(root), *arguments])


def test_offline_lock_matches_online_lock(
    upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    write_catalog(catalog, upstream)
    assert run_cli(catalog, "lock", *cache) == 0
    online = {name: (catalog / name).read_bytes() for name in LOCK_FILES}
    for name in LOCK_FILES:
        (catalog / name).unlink()
    capsys.readouterr()

    upstream.stop_and_listen()
    exit_code = run_cli(catalog, "lock", "--offline", *cache)

    output = capsys.readouterr()
    assert output.err == ""
    assert exit_code == 0
    assert {name: (catalog / name).read_bytes() for name in LOCK_FILES} == online
    assert upstream.attempted_ports() == []
    assert upstream.base_digest.encode() in online["images/base/image.lock.json"]
    assert upstream.commits["v2.0.0-rc.1"].encode() not in online["images/tool/image.lock.json"]
    assert upstream.commits["v1.2.3"].encode() in online["images/tool/image.lock.json"]


def test_offline_update_changes_nothing(
    upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    write_catalog(catalog, upstream)
    assert run_cli(catalog, "update", *cache) == 0
    before = snapshot_tree(catalog)
    capsys.readouterr()

    upstream.stop_and_listen()
    exit_code = run_cli(catalog, "update", "--offline", *cache)

    assert capsys.readouterr().out == "no changes\n"
    assert exit_code == 0
    assert snapshot_tree(catalog) == before
    assert upstream.attempted_ports() == []


def test_offline_with_refresh_is_rejected(
    upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    write_catalog(catalog, upstream)
    assert run_cli(catalog, "lock", *cache) == 0
    before = snapshot_tree(catalog)
    capsys.readouterr()

    upstream.stop_and_listen()
    exit_code = run_cli(catalog, "lock", "--offline", "--refresh", *cache)

    assert exit_code == 2
    assert capsys.readouterr().err.splitlines() == [
        "--offline and --refresh cannot be combined: --refresh ignores the cache that "
        "--offline reads"
    ]
    assert snapshot_tree(catalog) == before
    assert upstream.attempted_ports() == []


def test_offline_lock_with_empty_cache_fails(
    upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog"
    write_catalog(catalog, upstream)
    registry = upstream.registry.host
    git_url = upstream.git.server.url("tagged.git")
    index_url = f"{upstream.mirror.url}/alpine/v3.19/main/x86_64/APKINDEX.tar.gz"
    upstream.stop_and_listen()

    exit_code = run_cli(catalog, "lock", "--offline", "--cache-dir", str(tmp_path / "empty"))

    output = capsys.readouterr()
    assert output.err.splitlines() == [
        f"{catalog}/images/base/image.yaml:2:11: input 'alpine' of image base: "
        f"{registry}/library/base:3.19 is not in the cache, run without --offline",
        f"{catalog}/images/base/image.yaml:3:13: input 'packages' of image base: "
        f"{index_url} is not in the cache, run without --offline",
        f"{catalog}/images/tool/image.yaml:2:9: input 'tool' of image tool: "
        f"the tags of {git_url} are not in the cache, run without --offline",
    ]
    assert exit_code == 1
    assert not (catalog / LOCK_FILES[0]).exists()
    assert not (catalog / LOCK_FILES[1]).exists()
    assert upstream.attempted_ports() == []


def test_result_cache_holds_no_credentials(upstream: Upstream, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    write_catalog(catalog, upstream)

    assert run_cli(catalog, "lock", "--cache-dir", str(tmp_path / "cache")) == 0

    password = upstream.registry.password
    username = upstream.registry.username
    assert password is not None and username is not None
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    results = sorted((tmp_path / "cache").glob("*.result.json"))
    assert len(results) == 2
    for path in (tmp_path / "cache").iterdir():
        content = path.read_bytes()
        assert password.encode() not in content, path.name
        assert basic.encode() not in content, path.name
        assert b"Bearer" not in content, path.name
