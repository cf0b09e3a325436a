"""The solver against apk-tools' own cases, real Alpine indexes and random worlds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.apk.index import parse_index_text, read_index_archive
from compiler.apk.keys import load_keyring
from compiler.apk.solver import (
    Repository,
    UnsatisfiableError,
    find_arch_differences,
    is_provided,
    solve,
)
from spec.errors import PinwrightError
from tests.conftest import SHARED_FIXTURES

SOLVER_CASES = sorted((SHARED_FIXTURES / "apk-solver").glob("*.test"))
INSTALLING = re.compile(r"\(\d+/\d+\) Installing (\S+) \((\S+)\)")


def load_case(path: Path) -> tuple[list[str], list[Repository], list[str]]:
    lines = path.read_text().splitlines()
    expect_at = lines.index("@EXPECT")
    world: list[str] = []
    repositories = []
    for line in lines[:expect_at]:
        words = line.split()
        if words[0] == "@ARGS":
            world = words[2:]
        elif words[0] == "@REPO":
            tag = words[1][1:] if len(words) == 3 else None
            text = (path.parent / words[-1]).read_text()
            repositories.append(
                Repository(parse_index_text(text, source=words[-1]), words[-1], tag)
            )
    return world, repositories, lines[expect_at + 1 :]


@pytest.mark.parametrize("case", SOLVER_CASES, ids=[case.name for case in SOLVER_CASES])
def test_apk_tools_case(case: Path) -> None:
    world, repositories, expected = load_case(case)
    if any(line.startswith("ERROR") for line in expected):
        with pytest.raises(PinwrightError) as caught:
            solve(world, repositories, arch="x86_64")
        reasons = [line for line in expected if not line.startswith(("ERROR", "WARNING"))]
        if reasons:
            assert caught.value.lines()[1:] == reasons
        else:
            assert expected[-1].split("'")[1] in str(caught.value)
        return
    solution = solve(world, repositories, arch="x86_64")
    wanted = sorted(
        (match.group(1).split("@")[0], match.group(2))
        for match in map(INSTALLING.match, expected)
        if match
    )
    assert sorted((p.name, p.version) for p in solution.packages.values()) == wanted


SAMPLE = """\
P:app
V:2
D:so:libfoo.so.1 cmd:sh

P:libfoo
V:1.1-r0
o:foo
p:so:libfoo.so.1=1

P:foo-doc
V:1.1-r0
o:foo
i:foo docs

P:busybox
V:1.36-r0
p:cmd:sh=1.36-r0 /bin/sh
k:100

P:dash
V:0.5-r0
p:cmd:sh=0.5-r0 /bin/sh
k:50
D:!busybox

P:loop-a
V:1
D:loop-b pc:loop

P:loop-b
V:1
D:loop-a
p:pc:loop=1
"""


def sample_repository() -> Repository:
    return Repository(parse_index_text(SAMPLE, source="sample"), "sample")


def test_provides_and_priority() -> None:
    solution = solve(["app"], [sample_repository()], arch="x86_64")
    assert {name: p.version for name, p in solution.packages.items()} == {
        "app": "2",
        "libfoo": "1.1-r0",
        "busybox": "1.36-r0",
    }
    assert solution.required_by["libfoo"] == ("app",)
    assert solution.required_by["app"] == ("world",)


def test_cycle_terminates() -> None:
    solution = solve(["loop-a"], [sample_repository()], arch="aarch64")
    assert sorted(solution.packages) == ["loop-a", "loop-b"]


def test_conflict_reported() -> None:
    with pytest.raises(UnsatisfiableError) as caught:
        solve(["dash", "busybox"], [sample_repository()], arch="x86_64")
    assert caught.value.exit_code == 1
    text = "\n".join(caught.value.lines())
    assert "busybox-1.36-r0" in text
    assert "dash-0.5-r0" in text


def test_arch_differences() -> None:
    x86 = solve(["app"], [sample_repository()], arch="x86_64")
    other = solve(["app", "dash"], [sample_repository()], arch="aarch64")
    assert find_arch_differences({"x86_64": x86, "aarch64": other}) == {
        "busybox": {"x86_64": "1.36-r0"},
        "dash": {"aarch64": "0.5-r0"},
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["app", "libfoo", "busybox", "loop-a", "cmd:sh"]), min_size=1))
def test_random_worlds_consistent(world: list[str]) -> None:
    repository = sample_repository()
    solution = solve(world, [repository], arch="x86_64")
    reordered = solve(list(reversed(world)), [repository], arch="x86_64")
    assert reordered.packages == solution.packages
    chosen = list(solution.packages.values())
    for package in chosen:
        for dependency in package.depends:
            providers = [(p, p.version) for p in chosen if p.name == dependency.name] + [
                (p, provide.version)
                for p in chosen
                for provide in p.provides
                if provide.name == dependency.name
            ]
            if dependency.conflict:
                assert not providers
            else:
                assert providers, f"{package} needs {dependency}"
    assert is_provided is not None


def load_real(name: str) -> Repository:
    path = SHARED_FIXTURES / "apk" / name
    if not path.is_file():
        pytest.skip(f"real index not found at {path}")
    index = read_index_archive(path.read_bytes(), source=name, keys=load_keyring())
    return Repository(index.packages, name)


ALPINE_BASE_320 = {
    "alpine-base", "alpine-baselayout", "alpine-baselayout-data", "alpine-conf",
    "alpine-keys", "alpine-release", "apk-tools", "busybox", "busybox-binsh",
    "busybox-mdev-openrc", "busybox-openrc", "busybox-suid", "ca-certificates-bundle",
    "ifupdown-ng", "libcap2", "libcrypto3", "libssl3", "mdev-conf", "musl",
    "musl-utils", "openrc", "scanelf", "zlib",
}  # fmt: skip
CURL_320 = {
    "brotli-libs", "c-ares", "ca-certificates", "curl", "libcrypto3", "libcurl",
    "libidn2", "libpsl", "libssl3", "libunistring", "musl", "nghttp2-libs", "zlib",
    "busybox", "busybox-binsh",  # ca-certificates needs /bin/sh
    "zstd-libs",
}  # fmt: skip


@pytest.mark.parametrize(
    ("world", "expected"), [("alpine-base", ALPINE_BASE_320), ("curl", CURL_320)]
)
def test_real_closure_by_hand(world: str, expected: set[str]) -> None:
    solution = solve(
        [world], [load_real("alpine-v3.20.2-main-x86_64.APKINDEX.tar.gz")], arch="x86_64"
    )
    assert set(solution.packages) == expected


@pytest.mark.parametrize(
    ("index", "arch"),
    [
        ("alpine-v3.20.2-main-x86_64.APKINDEX.tar.gz", "x86_64"),
        ("alpine-v3.17.3-main-aarch64.APKINDEX.tar.gz", "aarch64"),
    ],
)
@pytest.mark.parametrize("world", ["alpine-base", "git", "openssh", "curl", "python3", "nginx"])
def test_real_worlds_resolve(index: str, arch: str, world: str) -> None:
    solution = solve([world], [load_real(index)], arch=arch)
    assert world in solution.packages
    assert all(p.arch in (arch, "noarch") for p in solution.packages.values())


DUPLICATE_CHECKSUM = """\
C:Q1hdUpqRv5mYgJEqW52UmVsvmyysF=
P:bar
V:1

C:Q1hdUpqRv5mYgJEqW52UmVsvmyysE=
P:shadow
V:1
i:bar

C:Q1C4uoV7SdMdDhYg4OCVmI71D8HIA=
P:other
V:1
"""


def test_duplicate_checksum_dropped() -> None:
    # Both checksums decode to the same SHA-1, so apk-tools keeps only `bar`.
    repository = Repository(parse_index_text(DUPLICATE_CHECKSUM, source="dup"), "dup")
    solution = solve(["bar"], [repository], arch="x86_64")
    assert sorted(solution.packages) == ["bar"]
    with pytest.raises(UnsatisfiableError) as caught:
        solve(["shadow"], [repository], arch="x86_64")
    assert caught.value.lines()[1:] == [
        "  shadow (no such package):",
        "    required by: world[shadow]",
    ]


def test_identity_first_repository_wins() -> None:
    first = Repository(parse_index_text(DUPLICATE_CHECKSUM, source="one"), "one")
    renamed = DUPLICATE_CHECKSUM.replace("P:other", "P:renamed")
    second = Repository(parse_index_text(renamed, source="two"), "two")
    solution = solve(["other"], [first, second], arch="x86_64")
    assert sorted(solution.packages) == ["other"]
    with pytest.raises(UnsatisfiableError):
        solve(["renamed"], [first, second], arch="x86_64")
