"""`pinwright update --commit` end to end: real servers on loopback, a real git repository.

The catalog has two images, `app` built on `base`. Between two updates the Alpine mirror
moves from the 3.19.3 index snapshot to the 3.19.7 one and a new `base` image is pushed,
so both images change and each gets its own commit, `base` first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.cli import main
from tests.diff.helpers import commit_all, git, init_repository, isolate_git
from tests.servers.git import GitServer
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror, serve_folder
from tests.servers.registry import RunningRegistry
from tests.trees import snapshot_tree, write_tree

pytestmark = pytest.mark.e2e

BASE_FILES = ["catalog/images/base/Dockerfile", "catalog/images/base/image.lock.json"]
APP_FILES = ["catalog/images/app/Dockerfile", "catalog/images/app/image.lock.json"]


@dataclass
class Upstream:
    registry: RunningRegistry
    mirror: LoopbackHttpServer
    mirror_root: Path
    git_daemon: GitServer


@pytest.fixture(scope="module")
def upstream(
    registry_anonymous: RunningRegistry,
    git_daemon: GitServer,
    fixtures_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Upstream]:
    mirror_root = tmp_path_factory.mktemp("commit-apk-mirror")
    build_apk_mirror(mirror_root / "alpine", ["3.19.3-main-x86_64"])
    registry_anonymous.push("commit-upstream/busybox", "3.19")
    registry_anonymous.push("commit/base", "latest", files={"etc/version": b"1\n"})
    with serve_folder(mirror_root) as mirror:
        yield Upstream(registry_anonymous, mirror, mirror_root, git_daemon)


@pytest.fixture(autouse=True)
def git_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)


@pytest.fixture
def repository(tmp_path: Path, upstream: Upstream) -> Path:
    """A git repository whose `catalog/` folder contains the two images, nothing committed."""
    root = init_repository(tmp_path / "repo")
    registry = upstream.registry.host
    write_tree(
        root / "catalog",
        {
            "pinwright.yaml": f"""
                registry: {registry}/commit
                architectures: [x86_64]
                alpine:
                  mirror: {upstream.mirror.url.rstrip("/")}/alpine
                  branch: v3.19
                  repositories: [main]
                registries:
                  "{registry}": {{insecure: true}}
            """,
            "images/base/image.yaml": f"""
                inputs:
                  alpine: {{image: "{registry}/commit-upstream/busybox:3.19"}}
                  packages: {{alpine_packages: [busybox, ca-certificates]}}
            """,
            "images/base/Dockerfile.j2": """
                FROM {{ inputs.alpine }}
                RUN apk add --no-cache {{ inputs.packages }}
            """,
            "images/app/image.yaml": f"""
                inputs:
                  base: {{image: base}}
                  tool: {{git_tag: "{upstream.git_daemon.url("tagged.git")}", prefix: v}}
                stages:
                  - base: base
                    steps:
                      - run: echo tool {{{{ inputs.tool }}}}
            """,
        },
    )
    return root


def run_update(repository: Path, *arguments: str) -> int:
    return main(["-C", str(repository / "catalog"), "update", *arguments])


def log_subjects(repository: Path) -> list[str]:
    return git(repository, "log", "--format=%s").splitlines()


def commit_files(repository: Path, revision: str) -> list[str]:
    return sorted(git(repository, "show", "--name-only", "--format=", revision).split())


def read_materials(repository: Path, revision: str, path: str) -> dict[str, str]:
    """Read the materials of a lock at a revision straight from git."""
    materials = json.loads(git(repository, "show", f"{revision}:{path}"))["materials"]
    assert isinstance(materials, dict)
    return materials


def expected_lines(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Build `MATERIAL OLD->NEW` lines independently of the product's reporter."""

    def show(value: str | None) -> str:
        if value is None:
            return "(none)"
        return value.removeprefix("sha256:")[:12] if value.startswith("sha256:") else value

    return [
        f"{name} {show(old.get(name))}->{show(new.get(name))}"
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]


def test_update_commit_makes_one_commit_per_image(
    repository: Path, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_update(repository) == 0
    first = commit_all(repository, "Add the catalog")
    capsys.readouterr()

    build_apk_mirror(upstream.mirror_root / "alpine", ["3.19.7-main-x86_64"])
    upstream.registry.push("commit/base", "latest", files={"etc/version": b"2\n"})
    try:
        assert run_update(repository, "--commit") == 0
    finally:
        build_apk_mirror(upstream.mirror_root / "alpine", ["3.19.3-main-x86_64"])
        upstream.registry.push("commit/base", "latest", files={"etc/version": b"1\n"})

    commits = git(repository, "rev-list", f"{first}..HEAD").split()
    assert len(commits) == 2
    app_commit, base_commit = commits
    assert commit_files(repository, base_commit) == BASE_FILES
    assert commit_files(repository, app_commit) == APP_FILES

    base_lines = expected_lines(
        read_materials(repository, first, BASE_FILES[1]),
        read_materials(repository, base_commit, BASE_FILES[1]),
    )
    assert len(base_lines) > 1
    assert git(repository, "log", "-1", "--format=%B", base_commit) == (
        f"[base] {len(base_lines)} changes\n\n" + "\n".join(base_lines) + "\n\n"
    )
    app_lines = expected_lines(
        read_materials(repository, first, APP_FILES[1]),
        read_materials(repository, app_commit, APP_FILES[1]),
    )
    assert len(app_lines) == 1
    assert app_lines[0].startswith("image:base ")
    assert log_subjects(repository) == [
        f"[app] {app_lines[0]}",
        f"[base] {len(base_lines)} changes",
        "Add the catalog",
    ]

    assert git(repository, "status", "--porcelain") == ""
    output = capsys.readouterr().out
    assert f"committed {base_commit[:12]} [base] {len(base_lines)} changes\n" in output
    assert f"committed {app_commit[:12]} [app] {app_lines[0]}\n" in output


def test_update_commit_in_empty_repository(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_update(repository, "--commit", "base") == 0

    assert log_subjects(repository) == [
        f"[base] {len(read_materials(repository, 'HEAD', BASE_FILES[1]))} changes"
    ]
    assert commit_files(repository, "HEAD") == BASE_FILES
    body = git(repository, "log", "-1", "--format=%b").splitlines()
    assert (
        body[0]
        == "apk:busybox (none)->" + read_materials(repository, "HEAD", BASE_FILES[1])["apk:busybox"]
    )
    # Files of other images and the specs stay uncommitted.
    assert "?? catalog/images/app/" in git(repository, "status", "--porcelain")


def test_update_commit_without_changes_makes_no_commit(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_update(repository) == 0
    commit_all(repository, "Add the catalog")

    assert run_update(repository, "--commit") == 0

    assert log_subjects(repository) == ["Add the catalog"]
    assert "committed" not in capsys.readouterr().out


def test_update_commit_takes_staged_files_of_an_earlier_update(
    repository: Path, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_update(repository) == 0
    first = commit_all(repository, "Add the catalog")
    build_apk_mirror(upstream.mirror_root / "alpine", ["3.19.7-main-x86_64"])
    try:
        assert run_update(repository) == 0
        git(repository, "add", *BASE_FILES)
        capsys.readouterr()

        assert run_update(repository, "--commit") == 0
    finally:
        build_apk_mirror(upstream.mirror_root / "alpine", ["3.19.3-main-x86_64"])

    # This run changed no file; the commit describes HEAD against the working tree.
    assert capsys.readouterr().out.startswith("no changes\n")
    lines = expected_lines(
        read_materials(repository, first, BASE_FILES[1]),
        read_materials(repository, "HEAD", BASE_FILES[1]),
    )
    assert log_subjects(repository) == [f"[base] {len(lines)} changes", "Add the catalog"]
    assert commit_files(repository, "HEAD") == BASE_FILES
    assert git(repository, "status", "--porcelain") == ""


def test_update_commit_refuses_unrelated_staged_changes(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_update(repository) == 0
    commit_all(repository, "Add the catalog")
    (repository / "notes.txt").write_text("staged by hand\n")
    git(repository, "add", "notes.txt")
    status = git(repository, "status", "--porcelain")
    before = snapshot_tree(repository)

    assert run_update(repository, "--commit") == 2

    assert capsys.readouterr().err == (
        "staged changes unrelated to the update: notes.txt; commit them or unstage them with "
        "`git restore --staged PATH` before `pinwright update --commit`\n"
    )
    assert snapshot_tree(repository) == before
    assert git(repository, "status", "--porcelain") == status
    assert log_subjects(repository) == ["Add the catalog"]


def test_update_commit_refuses_without_identity(
    repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_git(monkeypatch, identity=False)
    # Without it, git may build an identity from the host name when that has a domain.
    git(repository, "config", "user.useConfigOnly", "true")
    before = snapshot_tree(repository)

    assert run_update(repository, "--commit") == 2

    error = capsys.readouterr().err
    assert error.startswith("git has no user identity (")
    assert error.endswith(
        "); set it with `git config user.name NAME` and `git config user.email EMAIL`\n"
    )
    assert snapshot_tree(repository) == before


def test_update_commit_refuses_outside_repository(
    tmp_path: Path, repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    (repository / "catalog").rename(plain)
    before = snapshot_tree(plain)

    assert main(["-C", str(plain), "update", "--commit"]) == 2

    assert capsys.readouterr().err == (
        f"{plain} is not inside a git repository; run `git init` there or pass -C with a "
        "catalog folder inside one\n"
    )
    assert snapshot_tree(plain) == before


def test_update_commit_rejected_by_hook_unstages_files(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repository / "README").write_text("catalog\n")
    commit_all(repository, "Start")
    hook = repository / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho rejected by the test hook >&2\nexit 1\n")
    hook.chmod(0o755)

    assert run_update(repository, "--commit", "base") == 1

    captured = capsys.readouterr()
    assert captured.err.startswith("committing image base failed: `git commit ")
    assert captured.err.endswith(": rejected by the test hook\n")
    assert captured.out.endswith(
        "wrote images/base/image.lock.json\nwrote images/base/Dockerfile\n"
    )
    assert log_subjects(repository) == ["Start"]
    assert git(repository, "diff", "--cached", "--name-only") == ""
    assert (repository / BASE_FILES[1]).is_file()
