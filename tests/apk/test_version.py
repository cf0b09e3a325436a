"""Version comparison against apk-tools' own vectors and as a total order."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.apk.version import (
    InvalidVersionError,
    compare_versions,
    is_valid_version,
    match_version,
    tokenize_version,
)

SYMBOLS = {"<": -1, "=": 0, ">": 1}


def test_vectors_from_apk_tools(fixtures_dir: Path) -> None:
    lines = (fixtures_dir / "apk-version.txt").read_text().splitlines()
    checked = 0
    for number, line in enumerate(lines, start=1):
        body = line.split("#")[0].strip()
        if not body:
            continue
        a, symbol, b = body.split()
        assert compare_versions(a, b, strict=False) == SYMBOLS[symbol], f"line {number}: {line}"
        checked += 1
    assert checked == 450


def test_strict_compare_rejects_invalid() -> None:
    with pytest.raises(InvalidVersionError) as caught:
        compare_versions("1.0", "1.0bc")
    assert caught.value.version == "1.0bc"
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0", "1.0-r1", -1),
        ("1.0_rc1", "1.0", -1),
        ("1.0_p1", "1.0", 1),
        ("1.0_git20240101", "1.0_hg1", -1),
        ("1.02", "1.1", -1),
        ("0.99f7-r2", "0.99f7-r1", 1),
        ("1.0~abc", "1.0~abd", -1),
        ("2.10", "2.9", 1),
    ],
)
def test_compare_samples(a: str, b: str, expected: int) -> None:
    assert compare_versions(a, b) == expected


@pytest.mark.parametrize("version", ["", "a1", "1..2", "1.0-1", "1_foo", "1.0bc", "1~", "1-r"])
def test_invalid_versions(version: str) -> None:
    assert not is_valid_version(version)


@pytest.mark.parametrize(
    ("version", "op", "other", "expected"),
    [
        ("2.2", "~", "2.2", True),
        ("2.2.1", "~", "2.2", True),
        ("2.10", "~", "2.4", False),
        ("2.10", ">~", "2.5", True),
        ("1.2", "<=", "1.2", True),
        ("1.2", "!<=", "1.2", False),
        ("1.3", "!=", "1.2", True),
    ],
)
def test_match_samples(version: str, op: str, other: str, expected: bool) -> None:
    assert match_version(version, op, other) is expected


VERSIONS = st.builds(
    lambda parts, letter, suffix, revision: ".".join(map(str, parts)) + letter + suffix + revision,
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.sampled_from(["", "a", "z"]),
    st.sampled_from(["", "_alpha", "_beta2", "_rc1", "_p3", "_git5", "_pre"]),
    st.sampled_from(["", "-r0", "-r7"]),
)


@given(VERSIONS, VERSIONS, VERSIONS)
def test_total_order(a: str, b: str, c: str) -> None:
    assert is_valid_version(a)
    assert compare_versions(a, a) == 0
    assert compare_versions(a, b) == -compare_versions(b, a)
    if compare_versions(a, b) <= 0 and compare_versions(b, c) <= 0:
        assert compare_versions(a, c) <= 0


@given(st.text(alphabet="0129.abpr_~-fgitcvshlen", max_size=14))
def test_validity_matches_tokenizer(version: str) -> None:
    assert is_valid_version(version) is tokenize_version(version)[1]


@pytest.mark.parametrize(
    "version",
    [
        "1.2a3.4",
        "0.99f7",
        "1.0_pre1_p2",
        "1.0_prex",
        "1.0a.1",
        "1.0_rc1.2",
        "1.0~ab-r2",
        "1.0-r2~ab",
    ],
)
def test_validity_samples_match_tokenizer(version: str) -> None:
    assert is_valid_version(version) is tokenize_version(version)[1]
