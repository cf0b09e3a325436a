"""Tests of the pure parts of the git source: ls-remote output, URL rewrites, GitHub URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.sources.git import (
    GitHubRepositoryNameError,
    GitRef,
    github_url,
    parse_ls_remote,
    redact_url,
    rewrite_url,
)

LIGHTWEIGHT = "1111111111111111111111111111111111111111"
ANNOTATED = "2222222222222222222222222222222222222222"
PEELED = "3333333333333333333333333333333333333333"
HEAD = "4444444444444444444444444444444444444444"


def test_parse_lightweight_and_annotated() -> None:
    output = (
        f"{HEAD}\tHEAD\n"
        f"{LIGHTWEIGHT}\trefs/tags/v1.0.0\n"
        f"{ANNOTATED}\trefs/tags/v1.1.0\n"
        f"{PEELED}\trefs/tags/v1.1.0^{{}}\n"
    )
    assert parse_ls_remote(output) == (
        GitRef(name="HEAD", object=HEAD, commit=HEAD),
        GitRef(name="refs/tags/v1.0.0", object=LIGHTWEIGHT, commit=LIGHTWEIGHT),
        GitRef(name="refs/tags/v1.1.0", object=ANNOTATED, commit=PEELED),
    )


def test_parse_peeled_line_far_from_its_ref() -> None:
    # Dumb-HTTP remotes sort by name, so "v0.10.1^{}" follows "v0.10.10".
    output = (
        f"{ANNOTATED}\trefs/tags/v0.10.1\n"
        f"{LIGHTWEIGHT}\trefs/tags/v0.10.10\n"
        f"{PEELED}\trefs/tags/v0.10.1^{{}}\n"
    )
    refs = parse_ls_remote(output)
    assert refs == (
        GitRef(name="refs/tags/v0.10.1", object=ANNOTATED, commit=PEELED),
        GitRef(name="refs/tags/v0.10.10", object=LIGHTWEIGHT, commit=LIGHTWEIGHT),
    )


def test_parse_sha256_objects_and_blank_lines() -> None:
    object_id = "ab" * 32
    refs = parse_ls_remote(f"\n{object_id}\trefs/tags/1.0\n\n")
    assert refs == (GitRef(name="refs/tags/1.0", object=object_id, commit=object_id),)


def test_parse_empty_output() -> None:
    assert parse_ls_remote("") == ()


def test_ref_tag_name() -> None:
    assert GitRef("refs/tags/v1.2.3", HEAD, HEAD).tag == "v1.2.3"
    assert GitRef("refs/tags/release/2.0", HEAD, HEAD).tag == "release/2.0"
    assert GitRef("refs/heads/main", HEAD, HEAD).tag is None
    assert GitRef("HEAD", HEAD, HEAD).tag is None


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("not a line\n", "line 1 is not 'OBJECT<TAB>NAME'"),
        (f"{HEAD} refs/tags/v1\n", "line 1 is not 'OBJECT<TAB>NAME'"),
        (f"{HEAD}\t\n", "line 1 is not 'OBJECT<TAB>NAME'"),
        (f"{HEAD[:-1]}\trefs/tags/v1\n", "line 1 is not 'OBJECT<TAB>NAME'"),
        (f"{'AB' * 20}\trefs/tags/v1\n", "line 1 is not 'OBJECT<TAB>NAME'"),
        (f"{HEAD}\trefs/tags/v1\n{PEELED}\trefs/tags/v1\n", "line 2 repeats the reference"),
        (
            f"{PEELED}\trefs/tags/v1^{{}}\n",
            r"peeled line without its reference: refs/tags/v1\^\{\}",
        ),
    ],
)
def test_parse_rejects_malformed_output(output: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ls_remote(output)


def test_parse_real_dumb_http_refs(fixtures_dir: Path) -> None:
    refs_file = fixtures_dir / "git/github.com/caddyserver/caddy.git/info/refs"
    refs = {ref.name: ref for ref in parse_ls_remote(refs_file.read_text())}

    assert len(refs) == 155
    # v0.10.1 is an annotated tag whose peeled line comes nine lines after its own.
    assert refs["refs/tags/v0.10.1"] == GitRef(
        name="refs/tags/v0.10.1",
        object="44d9d85489577e31fb95f3c4092988b4ad6a4ca0",
        commit="6d9783a26764c0d29ed68609cb6ac1a7f7489342",
    )
    assert refs["refs/heads/master"].commit == "0cf03d32f7d99cf160d5375e8a40fbe3d910d515"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/a/b", "http://127.0.0.1:9/github.com/a/b"),
        ("https://github.com/mirror/b", "git://127.0.0.1:10/b"),
        ("https://gitlab.com/a/b", "https://gitlab.com/a/b"),
        ("https://github.com", "https://github.com"),
    ],
)
def test_rewrite_url_longest_prefix_wins(url: str, expected: str) -> None:
    rewrites = {
        "https://github.com/": "http://127.0.0.1:9/github.com/",
        "https://github.com/mirror/": "git://127.0.0.1:10/",
        "": "ignored://",
    }
    assert rewrite_url(url, rewrites) == expected


def test_rewrite_url_without_rewrites() -> None:
    assert rewrite_url("https://example.org/x.git", {}) == "https://example.org/x.git"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:secret@example.org/x.git", "https://example.org/x.git"),
        ("https://token@example.org:8443/x.git", "https://example.org:8443/x.git"),
        ("https://example.org/x.git", "https://example.org/x.git"),
        ("git@github.com:a/b.git", "git@github.com:a/b.git"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_github_url() -> None:
    assert github_url("caddyserver/caddy") == "https://github.com/caddyserver/caddy"
    assert github_url("miniflux/v2") == "https://github.com/miniflux/v2"


@pytest.mark.parametrize(
    "name", ["caddy", "a/b/c", "/b", "a/", "a b/c", "../etc", "a/..", "a/b?x=1", ""]
)
def test_github_url_rejects_invalid_names(name: str) -> None:
    with pytest.raises(GitHubRepositoryNameError) as caught:
        github_url(name)
    assert str(caught.value) == f"invalid GitHub repository {name!r}: expected OWNER/REPO"
    assert caught.value.exit_code == 2
