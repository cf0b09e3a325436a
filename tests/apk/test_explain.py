"""`pinwright explain` and the dependency chains it prints, against a lock in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.apk.paths import find_dependency_paths
from compiler.cli import main
from compiler.locked import LockedPackage, LockedPackages
from compiler.lockfile import Lock, write_lock
from tests.trees import write_tree

REQUIRED_BY = {
    "git": ("world",),
    "curl": ("world",),
    "libcurl": ("git", "curl"),
    "nghttp2-libs": ("libcurl",),
    "pcre2": ("git",),
    "musl": ("git", "libcurl", "nghttp2-libs", "pcre2", "curl"),
    "git-doc": ("git", "docs"),
    "docs": ("world",),
    "orphan": (),
}


def test_paths_shortest_only() -> None:
    assert find_dependency_paths(REQUIRED_BY, "nghttp2-libs") == [
        ("world", "curl", "libcurl", "nghttp2-libs"),
        ("world", "git", "libcurl", "nghttp2-libs"),
    ]


def test_paths_world_entry() -> None:
    assert find_dependency_paths(REQUIRED_BY, "git") == [("world", "git")]


def test_paths_install_if_conditions() -> None:
    assert find_dependency_paths(REQUIRED_BY, "git-doc") == [
        ("world", "docs", "git-doc"),
        ("world", "git", "git-doc"),
    ]


def test_paths_limit() -> None:
    assert find_dependency_paths(REQUIRED_BY, "musl", limit=1) == [("world", "curl", "musl")]
    assert len(find_dependency_paths(REQUIRED_BY, "musl")) == 2


def test_paths_none_without_chain() -> None:
    assert find_dependency_paths(REQUIRED_BY, "orphan") == []
    assert find_dependency_paths(REQUIRED_BY, "absent") == []


def test_paths_cycle_terminates() -> None:
    cyclic = {"a": ("world", "b"), "b": ("a",), "c": ("b",)}
    assert find_dependency_paths(cyclic, "c") == [("world", "a", "b", "c")]


def locked_packages(names: list[str]) -> LockedPackages:
    packages = tuple(
        LockedPackage(name, "1.0-r0", f"Q1{name}=", "http://127.0.0.1/main")
        for name in sorted(names)
    )
    return LockedPackages(
        world=("curl", "docs", "git"),
        architectures={"x86_64": packages},
        required_by=REQUIRED_BY,
        indexes=(),
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    write_tree(
        tmp_path,
        {
            "pinwright.yaml": "",
            "images/tools/image.yaml": "",
            "images/nolock/image.yaml": "",
        },
    )
    names = [name for name in REQUIRED_BY if name != "orphan"] + ["orphan"]
    lock = Lock(
        image="tools",
        spec_sha256="0" * 64,
        inputs_sha256="0" * 64,
        templates={},
        inputs={"packages": locked_packages(names)},
    )
    write_lock(tmp_path / "images/tools/image.lock.json", lock)
    return tmp_path


def run_explain(catalog: Path, *args: str) -> int:
    return main(["-C", str(catalog), "explain", *args])


def test_explain_prints_chains(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_explain(catalog, "tools", "apk:nghttp2-libs") == 0
    assert capsys.readouterr().out == (
        "world -> curl -> libcurl -> nghttp2-libs\nworld -> git -> libcurl -> nghttp2-libs\n"
    )


def test_explain_world_entry(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_explain(catalog, "tools", "apk:git") == 0
    assert capsys.readouterr().out == "world -> git\n"


def test_explain_unknown_image(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_explain(catalog, "nope", "apk:git") == 2
    assert capsys.readouterr().err == ("unknown image 'nope' (catalog images: nolock, tools)\n")


def test_explain_unknown_material(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_explain(catalog, "tools", "apk:vim") == 2
    error = capsys.readouterr().err
    assert error.endswith("image.lock.json: apk:vim is not in the lock of image 'tools'\n")


def test_explain_bad_material(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_explain(catalog, "tools", "image:alpine") == 2
    assert capsys.readouterr().err == (
        "invalid material 'image:alpine': explain takes an Alpine package as apk:NAME\n"
    )


def test_explain_missing_lock(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_explain(catalog, "nolock", "apk:git") == 2
    error = capsys.readouterr().err
    assert error.endswith("image 'nolock' has no lockfile; run `pinwright lock nolock`\n")


def test_explain_no_chain(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_explain(catalog, "tools", "apk:orphan") == 2
    error = capsys.readouterr().err
    assert "records nothing that pulled in orphan" in error
