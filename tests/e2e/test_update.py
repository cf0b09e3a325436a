"""`pinwright update` end to end, against real servers on loopback.

The catalog under test pulls a base image from a token-auth registry, Alpine
packages from a mirror of real signed indexes, and tags from real git references.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.cli import main
from tests.servers.git import GitFixtureMirror, GitRepositories, GitServer
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror, serve_folder
from tests.servers.registry import RunningRegistry
from tests.trees import snapshot_tree, write_tree

pytestmark = pytest.mark.e2e

CADDY_TAG = "v2.11.4"
CADDY_COMMIT = "e2eee6a7fce366321294c9c2a79f3146891dcbdf"


@dataclass
class Upstream:
    registry: RunningRegistry
    mirror: LoopbackHttpServer
    mirror_root: Path
    git_mirror: GitFixtureMirror
    git_daemon: GitServer
    git_commits: dict[str, str]
    alpine_digest: str
    base_digest: str


@pytest.fixture(scope="module")
def upstream(
    registry_token: RunningRegistry,
    git_fixture_mirror: GitFixtureMirror,
    git_daemon: GitServer,
    git_repositories: GitRepositories,
    fixtures_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Upstream]:
    mirror_root = tmp_path_factory.mktemp("apk-mirror")
    build_apk_mirror(mirror_root / "alpine", ["3.19.3-main-x86_64"])
    alpine_digest = registry_token.push("public/busybox", "3.19", platforms=("linux/amd64",))
    base_digest = registry_token.push(
        "catalog/base", "latest", platforms=("linux/amd64", "linux/arm64"), index=True
    )
    with serve_folder(mirror_root) as mirror:
        yield Upstream(
            registry=registry_token,
            mirror=mirror,
            mirror_root=mirror_root,
            git_mirror=git_fixture_mirror,
            git_daemon=git_daemon,
            git_commits=git_repositories.commits,
            alpine_digest=alpine_digest,
            base_digest=base_digest,
        )


def write_catalog(root: Path, upstream: Upstream) -> None:
    registry = upstream.registry.host
    rewrites = json.dumps(upstream.git_mirror.rewrites)
    write_tree(
        root,
        {
            "pinwright.yaml": f"""
                registry: {registry}/catalog
                architectures: [x86_64]
                alpine:
                  mirror: {upstream.mirror.url.rstrip("/")}/alpine
                  branch: v3.19
                  repositories: [main]
                registries:
                  "{registry}": {{insecure: true}}
                git:
                  url_rewrites: {rewrites}
            """,
            "images/base/image.yaml": f"""
                description: Alpine with certificates
                inputs:
                  alpine: {{image: "{registry}/public/busybox:3.19"}}
                  packages: {{alpine_packages: [busybox, ca-certificates]}}
            """,
            "images/base/Dockerfile.j2": """
                FROM {{ inputs.alpine }}
                RUN apk add --no-cache {{ inputs.packages }}
            """,
            "images/app/image.yaml": f"""
                inputs:
                  base: {{image: base}}
                  caddy: {{github_tag: caddyserver/caddy, prefix: v}}
                  tool: {{git_tag: "{upstream.git_daemon.url("tagged.git")}", prefix: v}}
                stages:
                  - base: base
                    steps:
                      - run: echo caddy {{{{ inputs.caddy.version }}}} tool {{{{ inputs.tool }}}}
                      - user: nobody
                entrypoint: [/bin/sh]
                version_from: caddy
            """,
        },
    )


@pytest.fixture(autouse=True)
def docker_config(
    upstream: Upstream, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Give the registry's test user to Pinwright through a Docker config file."""
    folder = tmp_path_factory.mktemp("docker-config")
    upstream.registry.write_docker_config(folder)
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))


def run_cli(root: Path, *arguments: str) -> int:
    return main(["-C", str(root), *arguments])


def read_index_versions(path: Path) -> dict[str, str]:
    """Parse package versions straight from an APKINDEX.tar.gz, independently of the product."""
    with gzip.open(path) as stream:
        data = stream.read()
    versions: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            if member.name != "APKINDEX":
                continue
            extracted = archive.extractfile(member)
            assert extracted is not None
            for stanza in extracted.read().decode().split("\n\n"):
                fields = dict(line.split(":", 1) for line in stanza.splitlines() if ":" in line)
                if "P" in fields:
                    versions[fields["P"]] = fields["V"]
    return versions


def test_update_writes_pinned_dockerfiles_and_locks(
    upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_catalog(tmp_path, upstream)
    registry = upstream.registry.host

    assert run_cli(tmp_path, "update") == 0

    base_dockerfile = (tmp_path / "images/base/Dockerfile").read_text()
    lock = json.loads((tmp_path / "images/base/image.lock.json").read_text())
    versions = read_index_versions(
        upstream.mirror_root / "alpine/v3.19/main/x86_64/APKINDEX.tar.gz"
    )
    closure = sorted(
        name.removeprefix("apk:") for name in lock["materials"] if name.startswith("apk:")
    )
    pins = " ".join(f"{name}={versions[name]}" for name in closure)
    assert base_dockerfile == (
        "# Generated by Pinwright from images/base/image.yaml and images/base/image.lock.json.\n"
        "# Do not edit: change the spec, then run `pinwright compile base`.\n"
        "\n"
        f"FROM {registry}/public/busybox:3.19@{upstream.alpine_digest}\n"
        f"RUN apk add --no-cache {pins}\n"
    )
    assert {"busybox", "ca-certificates", "musl"} <= set(closure)
    assert lock["materials"][f"image:{registry}/public/busybox:3.19"] == upstream.alpine_digest

    app_dockerfile = (tmp_path / "images/app/Dockerfile").read_text()
    tool_commit = upstream.git_commits["v1.2.3"]
    assert app_dockerfile == (
        "# Generated by Pinwright from images/app/image.yaml and images/app/image.lock.json.\n"
        "# Do not edit: change the spec, then run `pinwright compile app`.\n"
        "\n"
        f"FROM {registry}/catalog/base:latest@{upstream.base_digest}\n"
        "RUN echo caddy 2.11.4 tool v1.2.3\n"
        "USER nobody\n"
        f'LABEL org.opencontainers.image.base.digest="{upstream.base_digest}" \\\n'
        f'      org.opencontainers.image.base.name="{registry}/catalog/base:latest" \\\n'
        f'      org.opencontainers.image.revision="{CADDY_COMMIT}" \\\n'
        '      org.opencontainers.image.source="https://github.com/caddyserver/caddy" \\\n'
        '      org.opencontainers.image.version="2.11.4"\n'
        'ENTRYPOINT ["/bin/sh"]\n'
    )
    app_lock = json.loads((tmp_path / "images/app/image.lock.json").read_text())
    assert app_lock["materials"] == {
        "git:https://github.com/caddyserver/caddy": CADDY_TAG,
        f"git:{upstream.git_daemon.url('tagged.git')}": "v1.2.3",
        "image:base": upstream.base_digest,
    }
    assert app_lock["inputs"]["tool"]["commit"] == tool_commit

    output = capsys.readouterr().out
    assert "wrote images/base/image.lock.json" in output
    assert "wrote images/app/Dockerfile" in output


def test_second_update_changes_nothing(
    upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_catalog(tmp_path, upstream)
    assert run_cli(tmp_path, "update") == 0
    before = snapshot_tree(tmp_path)
    capsys.readouterr()

    assert run_cli(tmp_path, "update") == 0

    assert snapshot_tree(tmp_path) == before
    assert capsys.readouterr().out == "no changes\n"


def test_new_index_snapshot_reports_changed_packages(
    upstream: Upstream, tmp_path: Path, capsys: pytest.CaptureFixture[str], fixtures_dir: Path
) -> None:
    write_catalog(tmp_path, upstream)
    assert run_cli(tmp_path, "update", "base") == 0
    old_lock = json.loads((tmp_path / "images/base/image.lock.json").read_text())
    capsys.readouterr()

    build_apk_mirror(upstream.mirror_root / "alpine", ["3.19.7-main-x86_64"])
    try:
        assert run_cli(tmp_path, "update", "base") == 0
    finally:
        build_apk_mirror(upstream.mirror_root / "alpine", ["3.19.3-main-x86_64"])
    output = capsys.readouterr().out

    old_index = read_index_versions(fixtures_dir / "apk/alpine-v3.19.3-main-x86_64.APKINDEX.tar.gz")
    new_index = read_index_versions(fixtures_dir / "apk/alpine-v3.19.7-main-x86_64.APKINDEX.tar.gz")
    closure = [
        name.removeprefix("apk:") for name in old_lock["materials"] if name.startswith("apk:")
    ]
    expected = {
        f"apk:{name}": (old_index[name], new_index[name])
        for name in closure
        if old_index[name] != new_index[name]
    }
    new_lock = json.loads((tmp_path / "images/base/image.lock.json").read_text())
    found = {
        material: (old, new_lock["materials"][material])
        for material, old in old_lock["materials"].items()
        if new_lock["materials"][material] != old
    }
    assert expected, "the 3.19.7 snapshot changes at least one package of the closure"
    assert found == expected
    assert set(new_lock["materials"]) == set(old_lock["materials"])
    for material, (old, new) in expected.items():
        assert material in output
        assert old in output
        assert new in output
    for material in set(old_lock["materials"]) - set(expected):
        assert material not in output
