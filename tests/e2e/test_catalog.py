"""The project's own catalog: it compiles offline, and its locks match the snapshot."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from compiler.cli import main
from tests.conftest import REPOSITORY
from tests.snapshot import APK_MIRROR_PORT, GENERATED, lock_snapshot
from tests.trees import snapshot_tree


def copy_repository_catalog(target: Path) -> Path:
    shutil.copy(REPOSITORY / "pinwright.yaml", target / "pinwright.yaml")
    shutil.copytree(REPOSITORY / "_includes", target / "_includes")
    shutil.copytree(REPOSITORY / "images", target / "images")
    return target


def test_compile_of_committed_catalog_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = copy_repository_catalog(tmp_path)
    before = snapshot_tree(catalog)

    assert main(["-C", str(catalog), "compile"]) == 0

    assert snapshot_tree(catalog) == before
    assert capsys.readouterr().out == "6 Dockerfiles up to date\n"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.e2e
def test_committed_locks_match_snapshot(tmp_path: Path, fixtures_dir: Path) -> None:
    if not port_is_free(APK_MIRROR_PORT):
        pytest.skip(f"port {APK_MIRROR_PORT} of the snapshot's Alpine mirror is in use")

    assert lock_snapshot(REPOSITORY, tmp_path) == 0

    for name in sorted(path.name for path in (REPOSITORY / "images").iterdir() if path.is_dir()):
        for generated in GENERATED:
            committed = (REPOSITORY / "images" / name / generated).read_bytes()
            fresh = (tmp_path / "images" / name / generated).read_bytes()
            assert fresh == committed, f"images/{name}/{generated} differs from the snapshot"


@pytest.mark.parametrize("command", ["validate", "check"])
def test_committed_catalog_passes_ci_checks(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = copy_repository_catalog(tmp_path)

    assert main(["-C", str(catalog), command]) == 0

    assert capsys.readouterr().out == "no problems found\n"


def test_committed_dockerfiles_pass_lint(capsys: pytest.CaptureFixture[str]) -> None:
    dockerfiles = sorted(str(path) for path in (REPOSITORY / "images").glob("*/Dockerfile"))
    assert len(dockerfiles) == 6

    assert main(["lint", *dockerfiles]) == 0

    assert capsys.readouterr().out == "no problems found\n"
