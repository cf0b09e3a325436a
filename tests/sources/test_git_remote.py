"""Tests of git tag listing and resolution against real git remotes on loopback."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
from pathlib import Path

import pytest

from compiler.sources.git import (
    GitRemoteError,
    GitTagsNotFoundError,
    LockedTag,
    github_url,
    list_tags,
    resolve_git_tag,
)
from compiler.versions import NoMatchingVersionError, VersionPolicy
from tests.servers import git as git_servers
from tests.servers.git import (
    GitFixtureMirror,
    GitRepositories,
    GitServer,
    find_free_port,
    git_environment,
    make_tagged_repository,
    start_http_server,
    start_smart_http,
)

# The session fixtures of the git test servers, made visible to this module.
git_repositories = git_servers.git_repositories
git_daemon = git_servers.git_daemon
git_smart_http = git_servers.git_smart_http
git_fixture_mirror = git_servers.git_fixture_mirror

TRANSPORTS = ["git_daemon", "git_smart_http"]
# caddy's v2.11.4 is an annotated tag: its tag object and the commit it peels to.
CADDY_V2_11_4_OBJECT = "8ec11a4b7e39a5fd00da2fc5cb9b543e31fd7926"
CADDY_V2_11_4_COMMIT = "e2eee6a7fce366321294c9c2a79f3146891dcbdf"
NOBODY = 65534  # the uid and gid of "nobody" on Debian


@pytest.fixture(params=TRANSPORTS)
def git_server(request: pytest.FixtureRequest) -> GitServer:
    server: GitServer = request.getfixturevalue(request.param)
    return server


def test_list_tags_peels_annotated_tags(
    git_server: GitServer, git_repositories: GitRepositories
) -> None:
    refs = list_tags(git_server.url("tagged.git"))

    assert sorted(ref.tag or "" for ref in refs) == [
        "1.2.3",
        "docs-snapshot",
        "v1.0.0",
        "v1.1.0",
        "v1.2.3",
        "v2.0.0-rc.1",
    ]
    for ref in refs:
        assert ref.tag is not None
        assert ref.commit == git_repositories.commits[ref.tag]
    by_tag = {ref.tag: ref for ref in refs}
    # Annotated tags point at a tag object; lightweight ones point at the commit itself.
    assert by_tag["v1.1.0"].object != by_tag["v1.1.0"].commit
    assert by_tag["v1.0.0"].object == by_tag["v1.0.0"].commit


@pytest.mark.parametrize(
    ("policy", "tag"),
    [
        (VersionPolicy(), "1.2.3"),
        (VersionPolicy(prefix="v"), "v1.2.3"),
        (VersionPolicy(prerelease=True), "v2.0.0-rc.1"),
        (VersionPolicy(minor="1.1"), "v1.1.0"),
        (VersionPolicy(ordering="semver", filter="^v1[.]0"), "v1.0.0"),
    ],
    ids=["default", "prefix", "prerelease", "minor", "filter"],
)
def test_resolve_git_tag_by_policy(
    git_server: GitServer, git_repositories: GitRepositories, policy: VersionPolicy, tag: str
) -> None:
    url = git_server.url("tagged.git")
    assert resolve_git_tag(url, policy) == LockedTag(
        url=url,
        tag=tag,
        commit=git_repositories.commits[tag],
        version=tag.removeprefix(policy.prefix),
    )


def test_resolve_git_tag_no_match(git_daemon: GitServer) -> None:
    url = git_daemon.url("tagged.git")
    with pytest.raises(NoMatchingVersionError) as caught:
        resolve_git_tag(url, VersionPolicy(major=3))
    assert str(caught.value) == (
        f"no version of {url} matches the version policy "
        "(ordering loose, stable versions only, major 3); 6 candidates checked"
    )


def test_list_tags_untagged_repository(git_server: GitServer) -> None:
    url = git_server.url("untagged.git")
    with pytest.raises(GitTagsNotFoundError) as caught:
        list_tags(url)
    assert str(caught.value) == (
        f"no tags found at {url}: the repository has no tags, "
        "or the server returned no references at all"
    )


def test_list_tags_missing_repository_over_http(git_smart_http: GitServer) -> None:
    url = git_smart_http.url("missing.git")
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url)
    assert str(caught.value) == (
        f"failed to list the tags of {url}: fatal: repository '{url}/' not found"
    )


def test_list_tags_missing_repository_over_git(git_daemon: GitServer) -> None:
    url = git_daemon.url("missing.git")
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url)
    assert str(caught.value) == (
        f"failed to list the tags of {url}: fatal: remote error: no such repository: /missing.git"
    )


def test_list_tags_unreachable_git_port() -> None:
    url = f"git://127.0.0.1:{find_free_port()}/tagged.git"
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url)
    assert str(caught.value) == (
        f"failed to list the tags of {url}: fatal: unable to connect to 127.0.0.1: "
        "127.0.0.1[0: 127.0.0.1]: errno=Connection refused"
    )


def test_list_tags_unreachable_http_port() -> None:
    port = find_free_port()
    url = f"http://127.0.0.1:{port}/tagged.git"
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url)
    # curl's message goes on with the time it took, so only its start is compared.
    assert str(caught.value).startswith(
        f"failed to list the tags of {url}: fatal: unable to access '{url}/': "
        f"Failed to connect to 127.0.0.1 port {port} "
    )


class UnauthorizedHandler(http.server.BaseHTTPRequestHandler):
    """Reject every request with 401 and a Basic challenge."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


def test_list_tags_never_prompts_for_credentials() -> None:
    running = start_http_server(UnauthorizedHandler)
    try:
        url = f"{running.base_url}/private.git"
        with pytest.raises(GitRemoteError) as caught:
            list_tags(url)
    finally:
        running.stop()
    assert str(caught.value) == (
        f"failed to list the tags of {url}: fatal: could not read Username for "
        f"'{running.base_url}': terminal prompts disabled"
    )


def test_list_tags_timeout() -> None:
    # The kernel completes connections to a listening socket that never accepts them,
    # so git sends its request and then waits for an answer that never comes.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/slow.git"
        with pytest.raises(GitRemoteError) as caught:
            list_tags(url, timeout=0.5)
    assert str(caught.value) == f"listing the tags of {url} timed out after 0.5 seconds"


def test_list_tags_not_a_repository(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    url = folder.as_uri()
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url)
    assert str(caught.value) == (
        f"failed to list the tags of {url}: "
        f"fatal: '{folder}' does not appear to be a git repository"
    )


def test_list_tags_rejects_ext_protocol(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    url = f"ext::touch {marker}"
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url)
    assert str(caught.value) == (
        f"failed to list the tags of {url}: fatal: transport 'ext' not allowed"
    )
    assert not marker.exists()


def test_list_tags_url_starting_with_dash(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    url = f"--upload-pack=touch {marker}"
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url)
    assert str(caught.value) == (
        f"failed to list the tags of {url}: fatal: strange pathname '{url}' blocked"
    )
    assert not marker.exists()


def test_list_tags_redacts_credentials(git_smart_http: GitServer) -> None:
    url = git_smart_http.url("missing.git").replace("http://", "http://user:s3cret@")
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url)
    assert "s3cret" not in str(caught.value)
    assert str(caught.value).startswith(
        f"failed to list the tags of {git_smart_http.url('missing.git')}: "
    )


def test_list_tags_ignores_repository_config_of_working_folder(
    git_daemon: GitServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A repository around the current folder that rewrites every URL must not apply.
    subprocess.run(
        ["git", "init", "-q", str(tmp_path)], check=True, env=git_environment({})
    )
    subprocess.run(
        ["git", "config", "url.http://127.0.0.1:1/.insteadOf", "git://"],
        cwd=tmp_path,
        check=True,
        env=git_environment({}),
    )
    monkeypatch.chdir(tmp_path)
    assert len(list_tags(git_daemon.url("tagged.git"))) == 6


def test_list_tags_rewrites_url(git_daemon: GitServer, git_repositories: GitRepositories) -> None:
    rewrites = {"https://git.example.invalid/": git_daemon.base_url + "/"}
    locked = resolve_git_tag(
        "https://git.example.invalid/tagged.git", VersionPolicy(prefix="v"), rewrites=rewrites
    )
    assert locked == LockedTag(
        url="https://git.example.invalid/tagged.git",
        tag="v1.2.3",
        commit=git_repositories.commits["v1.2.3"],
        version="1.2.3",
    )


def test_rewritten_url_named_in_errors(git_daemon: GitServer) -> None:
    rewrites = {"https://git.example.invalid/": git_daemon.base_url + "/"}
    with pytest.raises(GitTagsNotFoundError) as caught:
        list_tags("https://git.example.invalid/untagged.git", rewrites=rewrites)
    assert str(caught.value) == (
        "no tags found at https://git.example.invalid/untagged.git "
        f"(rewritten to {git_daemon.url('untagged.git')}): the repository has no tags, "
        "or the server returned no references at all"
    )


@pytest.mark.parametrize("version", ["0", "2"])
def test_smart_http_speaks_protocol_version(
    git_smart_http: GitServer,
    git_repositories: GitRepositories,
    version: str,
) -> None:
    completed = subprocess.run(
        ["git", "-c", f"protocol.version={version}", "ls-remote", git_smart_http.url("tagged.git")],
        capture_output=True,
        text=True,
        check=True,
        env=git_environment({"GIT_TRACE_PACKET": "1"}),
    )
    assert "refs/tags/v1.2.3^{}" in completed.stdout
    assert ("< version 2" in completed.stderr) is (version == "2")


def test_smart_http_clone(git_smart_http: GitServer, tmp_path: Path) -> None:
    subprocess.run(
        ["git", "clone", "-q", "--branch", "v1.1.0", git_smart_http.url("tagged.git"), "copy"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env=git_environment({}),
    )
    assert (tmp_path / "copy" / "file.txt").read_text() == "commit 2\n"


def test_smart_http_reports_dubious_ownership(tmp_path: Path) -> None:
    # git refuses a repository owned by another user. A CGI server that sends status
    # 200 before git runs turns this into empty output and success; this server must not.
    if os.geteuid() != 0:
        pytest.skip("giving a repository to another user needs root")
    make_tagged_repository(tmp_path / "foreign.git")
    for path in [tmp_path / "foreign.git", *(tmp_path / "foreign.git").rglob("*")]:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)

    running = start_smart_http(tmp_path)
    try:
        url = f"{running.base_url}/foreign.git"
        with pytest.raises(GitRemoteError) as caught:
            list_tags(url)
    finally:
        running.stop()
    assert str(caught.value) == (
        f"failed to list the tags of {url}: fatal: unable to access '{url}/': "
        "The requested URL returned error: 500"
    )


# The latest tags of the real repositories, read from their info/refs fixture files.
REAL_LATEST = [
    ("miniflux/v2", VersionPolicy(), "2.3.3", "2.3.3"),
    ("miniflux/v2", VersionPolicy(prefix="v"), "v2.3.3", "2.3.3"),
    ("miniflux/v2", VersionPolicy(major=1), "v1.0.46", "v1.0.46"),
    ("caddyserver/caddy", VersionPolicy(prefix="v"), "v2.11.4", "2.11.4"),
    ("caddyserver/caddy", VersionPolicy(prefix="v", major=1), "v1.0.5", "1.0.5"),
    ("caddyserver/caddy", VersionPolicy(prefix="v", minor="2.10"), "v2.10.2", "2.10.2"),
    (
        "caddyserver/caddy",
        VersionPolicy(prefix="v", prerelease=True, filter="-"),
        "v2.11.0-beta.2",
        "2.11.0-beta.2",
    ),
    ("prometheus/node_exporter", VersionPolicy(), "v1.12.1", "v1.12.1"),
    ("prometheus/node_exporter", VersionPolicy(major=0), "v0.18.1", "v0.18.1"),
    (
        "prometheus/node_exporter",
        VersionPolicy(prerelease=True, filter="rc"),
        "v1.4.0-rc.0",
        "v1.4.0-rc.0",
    ),
    (
        "prometheus/node_exporter",
        VersionPolicy(ordering="pep440", prerelease=True, minor="0.12"),
        "0.12.0",
        "0.12.0",
    ),
    ("csmith/contempt", VersionPolicy(), "v1.14.0", "v1.14.0"),
    ("csmith/contempt", VersionPolicy(prefix="v", ordering="semver"), "v1.14.0", "1.14.0"),
]


@pytest.mark.parametrize(
    ("repository", "policy", "tag", "version"),
    REAL_LATEST,
    ids=[f"{repository}-{index}" for index, (repository, *_rest) in enumerate(REAL_LATEST)],
)
def test_resolve_real_github_tags(
    git_fixture_mirror: GitFixtureMirror,
    fixtures_dir: Path,
    repository: str,
    policy: VersionPolicy,
    tag: str,
    version: str,
) -> None:
    url = github_url(repository)
    locked = resolve_git_tag(url, policy, rewrites=git_fixture_mirror.rewrites)

    assert locked.url == url
    assert locked.tag == tag
    assert locked.version == version
    refs_file = fixtures_dir / f"git/github.com/{repository}.git/info/refs"
    assert expected_commit(refs_file.read_text(), tag) == locked.commit


def expected_commit(refs: str, tag: str) -> str:
    """Return the commit of `tag` in an info/refs text, read with plain string matching."""
    objects: dict[str, str] = {}
    for line in refs.splitlines():
        object_id, name = line.split("\t")
        objects[name] = object_id
    return objects.get(f"refs/tags/{tag}^{{}}", objects[f"refs/tags/{tag}"])


def test_real_annotated_tag_commit(git_fixture_mirror: GitFixtureMirror) -> None:
    locked = resolve_git_tag(
        github_url("caddyserver/caddy"),
        VersionPolicy(prefix="v"),
        rewrites=git_fixture_mirror.rewrites,
    )
    assert locked.commit == CADDY_V2_11_4_COMMIT

    refs = list_tags(github_url("caddyserver/caddy"), rewrites=git_fixture_mirror.rewrites)
    by_tag = {ref.tag: ref for ref in refs}
    assert len(refs) == 154
    assert by_tag["v2.11.4"].object == CADDY_V2_11_4_OBJECT


def test_real_mirror_missing_repository(git_fixture_mirror: GitFixtureMirror) -> None:
    url = github_url("caddyserver/missing")
    with pytest.raises(GitRemoteError) as caught:
        list_tags(url, rewrites=git_fixture_mirror.rewrites)
    mirror_url = f"{git_fixture_mirror.base_url}/github.com/caddyserver/missing"
    assert str(caught.value) == (
        f"failed to list the tags of {url} (rewritten to {mirror_url}): "
        f"fatal: repository '{mirror_url}/' not found"
    )
