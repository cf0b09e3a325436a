"""Tests of the version policy: parsing, ordering, selection and change kinds."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.versions import (
    NoMatchingVersionError,
    Ordering,
    VersionPolicy,
    classify_change,
    parse_version,
    select_latest,
)


def sort_by_version(texts: list[str], ordering: Ordering) -> list[str]:
    parsed = [parse_version(text, ordering) for text in texts]
    assert all(version is not None for version in parsed)
    return [version.text for version in sorted(parsed)]  # type: ignore[union-attr,type-var]


# The precedence example of Semantic Versioning 2.0.0, section 11.
SEMVER_SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
]


def test_semver_precedence_matches_spec() -> None:
    for shuffled in (SEMVER_SPEC_ORDER[::-1], SEMVER_SPEC_ORDER[3:] + SEMVER_SPEC_ORDER[:3]):
        assert sort_by_version(shuffled, "semver") == SEMVER_SPEC_ORDER


@pytest.mark.parametrize(
    "text",
    ["1.2", "1.2.3.4", "01.2.3", "1.2.3-", "1.2.3-rc..1", "1.2.3+", "latest", "v", "go1.2.3"],
)
def test_semver_rejects_non_versions(text: str) -> None:
    assert parse_version(text, "semver") is None


def test_semver_parts() -> None:
    version = parse_version("v1.22.3-rc.1+build.5", "semver")
    assert version is not None
    assert version.release == (1, 22, 3)
    assert version.prerelease is True
    assert version.major == 1
    assert version.minor == 22
    assert version.text == "v1.22.3-rc.1+build.5"


def test_semver_ignores_build_metadata() -> None:
    assert parse_version("1.0.0+a", "semver") == parse_version("1.0.0+b", "semver")
    assert parse_version("1.0.0+a", "semver") == parse_version("v1.0.0", "semver")


def test_loose_order() -> None:
    expected = [
        "0.12.0rc1",
        "0.12.0rc2",
        "0.12.0",
        "v1.0.0-dev",
        "1.0.0-alpha",
        "1.0.0a2",
        "1.0.0-beta",
        "v1.0.0-beta.2",
        "1.0.0-beta12",
        "1.0.0-beta.13",
        "1.0.0-pre",
        "1.0.0-rc1",
        "1.0.0",
        "1.0.0-1",
        "1.0.0-2",
        "1.0.0-hotfix",
        "1.0.1",
        "1.2",
        "1.36.1",
        "v3.0",
        "20240101",
    ]
    for shuffled in (expected[::-1], sorted(expected)):
        assert sort_by_version(shuffled, "loose") == expected


@pytest.mark.parametrize(
    ("text", "release", "prerelease"),
    [
        ("1.2", (1, 2), False),
        ("2.0.0-rc1", (2, 0, 0), True),
        ("1.36.1", (1, 36, 1), False),
        ("v3.0", (3, 0), False),
        ("1.23.4", (1, 23, 4), False),
        ("7", (7,), False),
        ("1.0-beta", (1, 0), True),
        ("1.0alpha", (1, 0), True),
        ("1.0.0-RC.2", (1, 0, 0), True),
        ("1.0.0+build.7", (1, 0, 0), False),
        ("1.0.0-1", (1, 0, 0), False),
        ("1.0.0.post2", (1, 0, 0), False),
    ],
)
def test_loose_parts(text: str, release: tuple[int, ...], prerelease: bool) -> None:
    version = parse_version(text, "loose")
    assert version is not None
    assert version.release == release
    assert version.prerelease is prerelease


@pytest.mark.parametrize("text", ["", "v", "latest", "release-1.0", "go1.23.4", "1.2.", "1.2 3"])
def test_loose_rejects_non_versions(text: str) -> None:
    assert parse_version(text, "loose") is None


def test_loose_trailing_zeros_are_equal() -> None:
    assert parse_version("1.2", "loose") == parse_version("1.2.0", "loose")
    assert parse_version("v3", "loose") == parse_version("3.0.0", "loose")


def test_pep440_order_and_prereleases() -> None:
    expected = ["1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.1"]
    assert sort_by_version(expected[::-1], "pep440") == expected

    prerelease = parse_version("1.0rc1", "pep440")
    assert prerelease is not None
    assert prerelease.prerelease is True
    assert parse_version("not-a-version", "pep440") is None


def test_select_latest_default_policy() -> None:
    tags = ["v1.9.0", "v1.10.0", "v1.11.0-rc.1", "nightly", "v1.2.0"]
    assert select_latest(tags, VersionPolicy(), source="example") == "v1.10.0"


def test_select_latest_prereleases_allowed() -> None:
    tags = ["v1.9.0", "v1.10.0", "v1.11.0-rc.1"]
    policy = VersionPolicy(prerelease=True)
    assert select_latest(tags, policy, source="example") == "v1.11.0-rc.1"


def test_select_latest_prefix_is_stripped() -> None:
    tags = ["go1.22.9", "go1.23.4", "go1.23rc2", "weekly.2011-01-01", "1.99.0"]
    policy = VersionPolicy(prefix="go")
    assert select_latest(tags, policy, source="go") == "go1.23.4"


def test_select_latest_filter_sees_prefix() -> None:
    tags = ["api/v1.4.0", "cli/v2.0.0", "api/v1.10.0"]
    policy = VersionPolicy(prefix="api/v", filter=r"^api/")
    assert select_latest(tags, policy, source="monorepo") == "api/v1.10.0"

    only_cli = VersionPolicy(prefix="cli/", filter=r"^cli/v2\.")
    assert select_latest(tags, only_cli, source="monorepo") == "cli/v2.0.0"


def test_select_latest_major_and_minor_lines() -> None:
    tags = ["1.22.9", "1.23.0", "1.23.4", "2.0.1", "1.9"]
    assert select_latest(tags, VersionPolicy(major=1), source="s") == "1.23.4"
    assert select_latest(tags, VersionPolicy(minor="1.22"), source="s") == "1.22.9"
    assert select_latest(tags, VersionPolicy(major=1, minor="1.9"), source="s") == "1.9"


def test_select_latest_tie_break_prefers_first_string() -> None:
    tags = ["v1.2.3", "1.2.3", "v1.2.0"]
    for order in itertools.permutations(tags):
        assert select_latest(order, VersionPolicy(), source="s") == "1.2.3"
    assert select_latest(["1.2.0", "1.2"], VersionPolicy(), source="s") == "1.2"
    assert select_latest(["v1.2.3", "1.2.3"], VersionPolicy(prefix="v"), source="s") == "v1.2.3"


def test_select_latest_no_match_names_source_and_policy() -> None:
    with pytest.raises(NoMatchingVersionError) as caught:
        select_latest(["v1.0.0", "v2.0.0-rc.1"], VersionPolicy(major=2), source="repo-x")
    assert str(caught.value) == (
        "no version of repo-x matches the version policy "
        "(ordering loose, stable versions only, major 2); 2 candidates checked"
    )
    assert caught.value.exit_code == 1


def test_select_latest_no_candidates() -> None:
    with pytest.raises(NoMatchingVersionError, match="0 candidates checked"):
        select_latest([], VersionPolicy(), source="empty")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"filter": "("}, "invalid filter expression '\\('"),
        ({"minor": "1"}, "invalid minor line '1'"),
        ({"minor": "1.2.3"}, "invalid minor line '1.2.3'"),
        ({"major": 2, "minor": "1.2"}, "minor line 1.2 is not on major line 2"),
        ({"ordering": "calver"}, "unknown version ordering 'calver'"),
    ],
)
def test_policy_rejects_invalid_settings(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VersionPolicy(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("1.2.3", "2.0.0", "major"),
        ("1.2.3", "1.3.0", "minor"),
        ("1.2.3", "1.2.4", "patch"),
        ("1.2", "1.2.1", "patch"),
        ("1.2.3.4", "1.2.3.5", "patch"),
        ("1.2.3-rc1", "1.2.3", "prerelease"),
        ("1.2.3-rc1", "1.2.3-rc2", "prerelease"),
        ("1.2.4", "1.2.3", "downgrade"),
        ("v1.2.3", "1.2.3", "other"),
        ("1.2.3", "1.2.3-1", "other"),
        ("1.2.3", "latest", "other"),
    ],
)
def test_classify_change(old: str, new: str, kind: str) -> None:
    assert classify_change(old, new) == kind


def test_mixed_orderings_sort_without_error() -> None:
    versions = [parse_version("1.0", "pep440"), parse_version("1.0.0", "semver")]
    versions.append(parse_version("1.0", "loose"))
    assert [version.key[0] for version in sorted(versions)] == ["loose", "pep440", "semver"]  # type: ignore[union-attr,type-var]


def test_classify_change_semver() -> None:
    assert classify_change("v1.0.0-rc.1", "v1.0.0", "semver") == "prerelease"
    assert classify_change("1.2", "1.3", "semver") == "other"


PREFIXES = st.sampled_from(["", "v"])
NUMBERS = st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=4)
SUFFIXES = st.sampled_from(
    [
        "",
        "-rc1",
        "rc2",
        "-rc.10",
        "-beta",
        "-beta.2",
        "alpha",
        "a1",
        "-dev",
        "-1",
        ".post2",
        "-hotfix",
        "+build.1",
        "-RC1",
        "b",
    ]
)
LOOSE_VERSIONS = st.builds(
    lambda prefix, numbers, suffix: prefix + ".".join(map(str, numbers)) + suffix,
    PREFIXES,
    NUMBERS,
    SUFFIXES,
)


@given(LOOSE_VERSIONS, LOOSE_VERSIONS, LOOSE_VERSIONS)
def test_loose_order_is_total_and_consistent(first: str, second: str, third: str) -> None:
    a, b, c = (parse_version(text, "loose") for text in (first, second, third))
    assert a is not None
    assert b is not None
    assert c is not None

    # Exactly one of <, == and > holds, in both directions.
    assert [a < b, a == b, a > b].count(True) == 1
    assert (a < b) == (b > a)
    assert (a == b) == (b == a)
    # Transitivity.
    if a <= b and b <= c:
        assert a <= c


@given(st.lists(LOOSE_VERSIONS, min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_select_latest_ignores_input_order(tags: list[str], random: object) -> None:
    policy = VersionPolicy(prerelease=True)
    shuffled = list(tags)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    latest = select_latest(tags, policy, source="s")

    assert select_latest(shuffled, policy, source="s") == latest
    best = parse_version(latest, "loose")
    assert best is not None
    assert all(parse_version(tag, "loose") <= best for tag in tags)  # type: ignore[operator]


@given(NUMBERS, NUMBERS)
def test_loose_order_follows_release_numbers(first: list[int], second: list[int]) -> None:
    a = parse_version(".".join(map(str, first)), "loose")
    b = parse_version(".".join(map(str, second)), "loose")
    assert a is not None
    assert b is not None

    width = max(len(first), len(second))
    padded_first = first + [0] * (width - len(first))
    padded_second = second + [0] * (width - len(second))
    assert (a < b) == (padded_first < padded_second)
    assert (a == b) == (padded_first == padded_second)


SEMVER_VERSIONS = st.builds(
    lambda numbers, pre: ".".join(map(str, numbers)) + pre,
    st.lists(st.integers(min_value=0, max_value=20), min_size=3, max_size=3),
    st.sampled_from(
        [
            "",
            "-alpha",
            "-alpha.1",
            "-alpha.beta",
            "-beta.2",
            "-beta.11",
            "-rc.1",
            "-1",
            "-x-y",
            "+meta",
        ]
    ),
)


@given(SEMVER_VERSIONS, SEMVER_VERSIONS, SEMVER_VERSIONS)
def test_semver_order_is_total_and_consistent(first: str, second: str, third: str) -> None:
    a, b, c = (parse_version(text, "semver") for text in (first, second, third))
    assert a is not None
    assert b is not None
    assert c is not None

    assert [a < b, a == b, a > b].count(True) == 1
    if a <= b and b <= c:
        assert a <= c
    if a.release != b.release:
        assert (a < b) == (a.release < b.release)
