"""The result cache of registry and git look-ups, and the offline mode that reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.sources.git import (
    GitRef,
    list_tags,
    list_tags_cached,
    refs_from_json,
    refs_to_json,
)
from compiler.sources.registry import (
    RegistryClient,
    RegistrySettings,
    ResolvedImage,
    image_from_json,
    image_to_json,
)
from compiler.sources.results import CachedResultMissingError, ResultCache
from tests.servers import git as git_servers
from tests.servers.git import GitRepositories, GitServer
from tests.servers.registry import RunningRegistry
from tests.sources.test_registry import CountingSession

# The session fixtures of the git test servers, made visible to this module.
git_repositories = git_servers.git_repositories
git_daemon = git_servers.git_daemon
git_smart_http = git_servers.git_smart_http

IMAGE = ResolvedImage(
    reference="127.0.0.1:5000/library/base:3.19",
    digest="sha256:" + "ab" * 32,
    media_type="application/vnd.oci.image.index.v1+json",
    platforms=("linux/amd64", "linux/arm64"),
    source="http://127.0.0.1:5000/v2/library/base/manifests/3.19",
)


def test_cache_round_trip(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)

    cache.store("registry", "alpine:3.19", {"digest": "sha256:00"})

    assert cache.load("registry", "alpine:3.19") == {"digest": "sha256:00"}
    assert cache.load("registry", "alpine:3.20") is None
    assert cache.load("git-tags", "alpine:3.19") is None


def test_cache_file_names_and_contents(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)

    cache.store("registry", "alpine:3.19", ["x"])

    path = cache.path_for("registry", "alpine:3.19")
    assert [entry.name for entry in tmp_path.iterdir()] == [path.name]
    assert path.name.endswith(".result.json")
    assert json.loads(path.read_text()) == {
        "version": 1,
        "kind": "registry",
        "key": "alpine:3.19",
        "value": ["x"],
    }


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"version": 2, "kind": "registry", "key": "alpine:3.19", "value": 1}',
        '{"version": 1, "kind": "registry", "key": "alpine:3.20", "value": 1}',
    ],
    ids=["broken-json", "not-object", "other-version", "other-key"],
)
def test_cache_ignores_bad_entry(tmp_path: Path, content: str) -> None:
    cache = ResultCache(tmp_path)
    cache.path_for("registry", "alpine:3.19").write_text(content)

    assert cache.load("registry", "alpine:3.19") is None


def test_cache_write_failure_is_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ResultCache(blocker / "cache")

    cache.store("registry", "alpine:3.19", 1)

    assert cache.load("registry", "alpine:3.19") is None
    assert "cannot write the cache entry" in caplog.text


def test_image_json_round_trip() -> None:
    assert image_from_json(json.loads(json.dumps(image_to_json(IMAGE)))) == IMAGE


def test_image_json_redacts_source() -> None:
    signed = ResolvedImage(
        reference=IMAGE.reference,
        digest=IMAGE.digest,
        media_type=IMAGE.media_type,
        platforms=(),
        source="https://user:pw@cdn.test/blob?X-Amz-Signature=abc&part=1",
    )

    assert (
        image_to_json(signed)["source"] == "https://cdn.test/blob?X-Amz-Signature=REDACTED&part=1"
    )


@pytest.mark.parametrize(
    "value",
    [None, [], {"reference": "a"}, {**image_to_json(IMAGE), "platforms": "linux/amd64"}],
    ids=["none", "list", "missing-fields", "platforms-not-list"],
)
def test_image_json_rejects_bad_shape(value: object) -> None:
    assert image_from_json(value) is None


def test_refs_json_round_trip() -> None:
    refs = (GitRef(name="refs/tags/v1", object="a" * 40, commit="b" * 40),)

    assert refs_from_json(json.loads(json.dumps(refs_to_json(refs)))) == refs
    assert refs_from_json([]) is None
    assert refs_from_json([{"name": "refs/tags/v1"}]) is None


def test_offline_registry_needs_cache() -> None:
    with CountingSession() as session, pytest.raises(ValueError):
        RegistryClient(session, offline=True)


def test_registry_offline_reads_online_result(
    registry_anonymous: RunningRegistry, tmp_path: Path
) -> None:
    digest = registry_anonymous.push("results/app", "1", platforms=("linux/amd64", "linux/arm64"))
    reference = f"{registry_anonymous.host}/results/app:1"
    cache = ResultCache(tmp_path / "cache")
    settings = {registry_anonymous.host: RegistrySettings(insecure=True)}
    with CountingSession() as session:
        online = RegistryClient(session, settings=settings, results=cache).resolve(reference)

    with CountingSession() as session:
        offline = RegistryClient(session, settings=settings, results=cache, offline=True)
        resolved = offline.resolve(reference)
        with pytest.raises(CachedResultMissingError) as missing:
            offline.resolve(f"{registry_anonymous.host}/results/app:2")

    assert resolved == online
    assert resolved.digest == digest
    assert resolved.platforms == ("linux/amd64", "linux/arm64")
    assert session.counts == {}
    assert missing.value.message == (
        f"{registry_anonymous.host}/results/app:2 is not in the cache, run without --offline"
    )
    assert missing.value.exit_code == 1


def test_git_offline_reads_online_listing(
    git_daemon: GitServer, git_repositories: GitRepositories, tmp_path: Path
) -> None:
    cache = ResultCache(tmp_path / "cache")
    alias = "git://127.0.0.1:1/alias/"
    rewrites = {alias: f"{git_daemon.base_url}/"}

    online = list_tags_cached(f"{alias}tagged.git", results=cache, rewrites=rewrites)
    offline = list_tags_cached(f"{alias}tagged.git", results=cache, rewrites=rewrites, offline=True)
    direct = list_tags_cached(git_daemon.url("tagged.git"), results=cache, offline=True)

    assert online == list_tags(git_daemon.url("tagged.git"))
    assert offline == online
    assert direct == online
    assert {ref.tag: ref.commit for ref in offline} == git_repositories.commits


def test_git_offline_miss_names_rewritten_url(git_daemon: GitServer, tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    alias = "git://127.0.0.1:1/alias/"
    rewrites = {alias: f"{git_daemon.base_url}/"}

    with pytest.raises(CachedResultMissingError) as missing:
        list_tags_cached(f"{alias}tagged.git", results=cache, rewrites=rewrites, offline=True)

    assert missing.value.message == (
        f"the tags of {alias}tagged.git (rewritten to {git_daemon.base_url}/tagged.git) "
        "are not in the cache, run without --offline"
    )
    assert list(tmp_path.iterdir()) == []


def test_git_cache_key_has_no_credentials(git_smart_http: GitServer, tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    with_password = git_smart_http.url("tagged.git").replace("://", "://alice:s3cret@")

    online = list_tags_cached(with_password, results=cache)
    offline = list_tags_cached(git_smart_http.url("tagged.git"), results=cache, offline=True)

    assert offline == online
    [entry] = (tmp_path / "cache").iterdir()
    content = entry.read_text()
    assert "s3cret" not in content
    assert "alice" not in content
    assert json.loads(content)["key"] == git_smart_http.url("tagged.git")
