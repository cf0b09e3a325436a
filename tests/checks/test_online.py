"""`pinwright check --online` against a registry, an apk mirror and a git daemon on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.resolve import ResolveOptions
from compiler.validate import check_catalog
from tests.e2e.test_update import read_index_versions
from tests.servers.git import GitRepositories, GitServer
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror, serve_folder
from tests.servers.registry import RunningRegistry
from tests.trees import write_tree

pytestmark = pytest.mark.e2e

ONLINE_RULES = {
    "apk-vanished",
    "image-vanished",
    "git-tag-vanished",
    "git-tag-moved",
    "image-tag-moved",
    "upstream-unreachable",
}


@dataclass
class Upstream:
    registry: RunningRegistry
    mirror: LoopbackHttpServer
    mirror_root: Path
    git_daemon: GitServer
    git_commits: dict[str, str]
    digest: str


@pytest.fixture(scope="module")
def upstream(
    registry_anonymous: RunningRegistry,
    git_daemon: GitServer,
    git_repositories: GitRepositories,
    fixtures_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Upstream]:
    mirror_root = tmp_path_factory.mktemp("apk-mirror")
    build_apk_mirror(mirror_root / "alpine", ["3.19.3-main-x86_64"])
    digest = registry_anonymous.push("public/busybox", "3.19")
    with serve_folder(mirror_root) as mirror:
        yield Upstream(
            registry=registry_anonymous,
            mirror=mirror,
            mirror_root=mirror_root,
            git_daemon=git_daemon,
            git_commits=git_repositories.commits,
            digest=digest,
        )


@pytest.fixture
def catalog(upstream: Upstream, tmp_path: Path) -> Path:
    """A catalog locked and compiled against the loopback servers."""
    registry = upstream.registry.host
    root = tmp_path / "catalog"
    write_tree(
        root,
        {
            "pinwright.yaml": f"""
                registry: {registry}/catalog
                alpine:
                  mirror: {upstream.mirror.url.rstrip("/")}/alpine
                  branch: v3.19
                  repositories: [main]
                registries:
                  "{registry}": {{insecure: true}}
            """,
            "images/base/image.yaml": f"""
                inputs:
                  alpine: {{image: "{registry}/public/busybox:3.19"}}
                  packages: {{alpine_packages: [busybox, ca-certificates]}}
                  tool: {{git_tag: "{upstream.git_daemon.url("tagged.git")}", prefix: v}}
            """,
            "images/base/Dockerfile.j2": """
                FROM {{ inputs.alpine }}
                RUN apk add --no-cache {{ inputs.packages }}
                LABEL tool={{ inputs.tool }}
            """,
        },
    )
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["-C", str(root), "lock", *cache]) == 0
    assert main(["-C", str(root), "compile"]) == 0
    return root


def online_findings(root: Path, cache_dir: Path) -> list[tuple[str, str]]:
    options = ResolveOptions(jobs=4, cache_dir=cache_dir)
    _, report = check_catalog(root, (), upstream=options)
    return sorted(
        (finding.rule, finding.message)
        for finding in report.findings
        if finding.rule in ONLINE_RULES
    )


def edit_lock(root: Path, input_name: str, **values: str) -> None:
    path = root / "images/base/image.lock.json"
    lock = json.loads(path.read_text())
    lock["inputs"][input_name].update(values)
    path.write_text(json.dumps(lock))


def test_current_pins_pass(
    catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    arguments = ["-C", str(catalog), "check", "--online", "--cache-dir", str(tmp_path / "c")]
    assert main(arguments) == 0
    assert capsys.readouterr().out == "no problems found\n"


def test_superseded_apk_builds_are_reported(
    catalog: Path, upstream: Upstream, tmp_path: Path, fixtures_dir: Path
) -> None:
    lock = json.loads((catalog / "images/base/image.lock.json").read_text())
    locked = {
        package["name"]: package["version"]
        for package in lock["inputs"]["packages"]["architectures"]["x86_64"]
    }
    new_index = read_index_versions(fixtures_dir / "apk/alpine-v3.19.7-main-x86_64.APKINDEX.tar.gz")
    gone = sorted(
        f"{name}={version}" for name, version in locked.items() if new_index.get(name) != version
    )
    assert gone, "the 3.19.7 snapshot replaces at least one package of the closure"

    build_apk_mirror(upstream.mirror_root / "alpine", ["3.19.7-main-x86_64"])
    try:
        found = online_findings(catalog, tmp_path / "cache")
    finally:
        build_apk_mirror(upstream.mirror_root / "alpine", ["3.19.3-main-x86_64"])

    assert found == [
        (
            "apk-vanished",
            "input 'packages' of image base: not in the current v3.19 main for x86_64: "
            + ", ".join(gone),
        )
    ]


def test_digest_no_longer_served(catalog: Path, upstream: Upstream, tmp_path: Path) -> None:
    missing = "sha256:" + "0" * 64
    edit_lock(catalog, "alpine", digest=missing)
    reference = f"{upstream.registry.host}/public/busybox:3.19"
    assert online_findings(catalog, tmp_path / "cache") == [
        ("image-vanished", f"input 'alpine' of image base: {reference}@{missing} is not served")
    ]


def test_moved_image_tag_is_a_warning(catalog: Path, upstream: Upstream, tmp_path: Path) -> None:
    # Another image of the same repository: it exists, but the tag points elsewhere.
    older = upstream.registry.push("public/busybox", "older", files={"etc/older": b"1\n"})
    edit_lock(catalog, "alpine", digest=older)
    reference = f"{upstream.registry.host}/public/busybox:3.19"

    options = ResolveOptions(jobs=4, cache_dir=tmp_path / "cache")
    _, report = check_catalog(catalog, (), upstream=options)

    moved = [finding for finding in report.findings if finding.rule == "image-tag-moved"]
    assert [(finding.severity, finding.message) for finding in moved] == [
        (
            "warning",
            f"input 'alpine' of image base: {reference} now points at {upstream.digest}, "
            f"not at the locked {older}; run `pinwright update base` to move to it",
        )
    ]


def test_deleted_and_moved_git_tags(catalog: Path, upstream: Upstream, tmp_path: Path) -> None:
    url = upstream.git_daemon.url("tagged.git")
    edit_lock(catalog, "tool", tag="v9.9.9")
    assert online_findings(catalog, tmp_path / "cache") == [
        ("git-tag-vanished", f"input 'tool' of image base: tag v9.9.9 is gone from {url}")
    ]

    edit_lock(catalog, "tool", tag="v1.2.3", commit="1" * 40)
    assert online_findings(catalog, tmp_path / "cache") == [
        (
            "git-tag-moved",
            f"input 'tool' of image base: tag v1.2.3 of {url} now points at "
            f"{upstream.git_commits['v1.2.3']}, not at the locked {'1' * 40}",
        )
    ]


def test_unreachable_git_remote(catalog: Path, tmp_path: Path) -> None:
    edit_lock(catalog, "tool", url="git://127.0.0.1:1/closed.git")
    found = online_findings(catalog, tmp_path / "cache")
    assert [rule for rule, _ in found] == ["upstream-unreachable"]
    assert found[0][1].startswith(
        "input 'tool' of image base: failed to list the tags of git://127.0.0.1:1/closed.git: "
    )


def test_offline_check_sends_no_request(catalog: Path, upstream: Upstream) -> None:
    before = len(upstream.mirror.requests)
    _, report = check_catalog(catalog, ())
    assert report.findings == []
    assert len(upstream.mirror.requests) == before
