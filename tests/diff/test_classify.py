"""Classification of one material's change, and the shortening of digests."""

from __future__ import annotations

import pytest

from compiler.changes import (
    ADDED,
    CHANGED,
    DIGEST,
    DOWNGRADE,
    MAJOR,
    MINOR,
    PATCH,
    PRERELEASE,
    REMOVED,
    REVISION,
    Change,
    classify_material_change,
    diff_materials,
    shorten_value,
)

SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "0123456789ab" + "c" * 52


@pytest.mark.parametrize(
    ("material", "old", "new", "expected"),
    [
        ("apk:musl", None, "1.2.4-r2", ADDED),
        ("apk:musl", "1.2.4-r2", None, REMOVED),
        ("apk:musl", "1.2.4-r1", "1.2.4-r2", REVISION),
        ("apk:busybox", "1.36.1-r2", "1.36.1-r4", REVISION),
        ("apk:go", "1.19.7-r0", "1.19.8-r0", PATCH),
        ("apk:curl", "8.1.2-r0", "8.2.0-r1", MINOR),
        ("apk:ca-certificates", "20220614-r4", "20230506-r0", MAJOR),
        ("apk:mpfr4", "4.2.0-r3", "4.2.0_p12-r0", PATCH),
        ("apk:openssl", "3.2.0_rc1-r0", "3.2.0-r0", PRERELEASE),
        ("apk:zlib", "1.2.13-r1", "1.2.12-r3", DOWNGRADE),
        ("apk:zlib", "1.2.13-r1", "not-a-version", CHANGED),
        ("image:golang", SHA_A, SHA_B, DIGEST),
        ("image:base", "a" * 64, "b" * 64, DIGEST),
        ("git:https://example.test/repo", "v1.42.0", "v1.42.1", PATCH),
        ("git:https://example.test/repo", "v1.48.2", "v1.50.0", MINOR),
        ("git:https://example.test/repo", "v1.9.0", "v2.0.0", MAJOR),
        ("git:https://example.test/repo", "v2.0.0-rc.1", "v2.0.0", PRERELEASE),
        ("git:https://example.test/repo", "v2.0.0", "v1.9.9", DOWNGRADE),
        ("golang", "go1.20.2", "go1.20.3", PATCH),
        ("github:miniflux/v2", "v2.0.46", "2.0.46", CHANGED),
        ("github:owner/repo", "release-5", "release-6", MAJOR),
        ("github:owner/repo", "nightly", "stable", CHANGED),
    ],
)
def test_classify_material_change(
    material: str, old: str | None, new: str | None, expected: str
) -> None:
    assert classify_material_change(material, old, new) == expected


def test_change_kind_and_label() -> None:
    change = Change(image="base", material="apk:musl", old="1.2.4-r1", new="1.2.4-r2")

    assert change.action == "changed"
    assert change.kind == REVISION
    assert change.label == "package revision"


def test_digest_label_reads_digest_only() -> None:
    change = Change(image="base", material="image:alpine", old=SHA_A, new=SHA_B)

    assert change.label == "digest only"


def test_diff_materials_sorted_with_actions() -> None:
    changes = diff_materials(
        "app",
        {"b": "1.0", "a": "1.0", "same": "1"},
        {"c": "2.0", "a": "1.1", "same": "1"},
    )

    assert [(change.material, change.action) for change in changes] == [
        ("a", "changed"),
        ("b", "removed"),
        ("c", "added"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SHA_B, "0123456789ab"),
        ("7442771fc9e4d70fbf8f9d592e28b9ec7b9b81af30ddb87cbaaba90f2cc0064f", "7442771fc9e4"),
        ("12.2.1_git20220924-r10", "12.2.1_git20220924-r10"),
        ("v1.50.1", "v1.50.1"),
    ],
)
def test_shorten_value(value: str, expected: str) -> None:
    assert shorten_value(value) == expected
