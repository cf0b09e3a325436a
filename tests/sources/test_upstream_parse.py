"""Parsing of upstream documents, on the hand-written samples, with no network."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from compiler.sources.alpine_release import parse_latest_releases, select_flavor
from compiler.sources.documents import DocumentInvalidError, parse_sha256_file
from compiler.sources.go_release import find_go_file, parse_go_listing, select_go_release
from compiler.sources.npm import package_url, parse_npm_document
from compiler.sources.postgres_release import parse_postgres_listing
from compiler.sources.pypi import parse_pypi_project, project_url
from compiler.sources.url_regex import UrlRegexNoMatchError, extract_capture
from compiler.urltemplate import UrlTemplateError, referenced_inputs, render_url, uses_arch
from compiler.versions import NoMatchingVersionError, VersionPolicy, select_latest

SAMPLES = Path(__file__).parent / "samples"


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_alpine_releases_minirootfs_entry() -> None:
    content = (SAMPLES / "alpine/v3.20/releases/aarch64/latest-releases.yaml").read_bytes()
    entries = parse_latest_releases(content, source="sample")

    entry = select_flavor(entries, "minirootfs", "aarch64")

    assert len(entries) == 3
    assert entry is not None
    assert entry.version == "3.20.3"
    assert entry.branch == "v3.20"
    assert entry.file == "alpine-minirootfs-3.20.3-aarch64.tar.gz"
    assert entry.sha256 == sha256_of("alpine-minirootfs-3.20.3-aarch64.tar.gz")
    assert select_flavor(entries, "alpine-virt", "aarch64") is not None
    assert select_flavor(entries, "minirootfs", "x86_64") is None
    assert select_flavor(entries, "netboot", "aarch64") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"title: not a list\n", "sample is not a list of releases"),
        (b"- {arch: x86_64, flavor: f, version: 1, file: a}\n", "release 1 has no valid sha256"),
        (b"- {flavor: f, version: 1, file: a, sha256: x}\n", "release 1 has no 'arch' text"),
        (b"- [unclosed\n", "sample is not valid YAML"),
    ],
    ids=["mapping", "no-sha256", "no-arch", "broken"],
)
def test_alpine_releases_invalid(content: bytes, message: str) -> None:
    with pytest.raises(DocumentInvalidError) as caught:
        parse_latest_releases(content, source="sample")

    assert message in str(caught.value)


def test_alpine_releases_keep_version_text() -> None:
    content = b"- {arch: x86_64, flavor: f, version: 3.20, file: a, sha256: %s}\n" % (b"a" * 64)

    entries = parse_latest_releases(content, source="sample")

    assert entries[0].version == "3.20"


def test_go_listing_latest_stable() -> None:
    releases = parse_go_listing((SAMPLES / "go/dl/listing.json").read_bytes(), source="sample")

    latest = select_go_release(releases, VersionPolicy(), source="sample")
    line = select_go_release(releases, VersionPolicy(minor="1.22"), source="sample")
    preview = select_go_release(releases, VersionPolicy(prerelease=True), source="sample")

    assert [release.version for release in releases] == [
        "go1.24rc1",
        "go1.23.4",
        "go1.23.3",
        "go1.22.10",
        "go1.22.9",
    ]
    assert releases[0].stable is False
    assert latest.version == "go1.23.4"
    assert line.version == "go1.22.10"
    assert preview.version == "go1.24rc1"


def test_go_listing_files_by_architecture() -> None:
    releases = parse_go_listing((SAMPLES / "go/dl/listing.json").read_bytes(), source="sample")
    release = releases[1]

    amd64 = find_go_file(release, "archive", "x86_64")
    arm64 = find_go_file(release, "archive", "aarch64")
    armv7 = find_go_file(release, "archive", "armv7")
    source = find_go_file(release, "source", "x86_64")

    assert amd64 is not None and amd64.filename == "go1.23.4.linux-amd64.tar.gz"
    assert amd64.sha256 == sha256_of("go1.23.4.linux-amd64.tar.gz")
    assert arm64 is not None and arm64.filename == "go1.23.4.linux-arm64.tar.gz"
    assert armv7 is not None and armv7.filename == "go1.23.4.linux-armv6l.tar.gz"
    assert source is not None and source.filename == "go1.23.4.src.tar.gz"
    assert find_go_file(release, "archive", "s390x") is None


def test_go_listing_without_files() -> None:
    with pytest.raises(DocumentInvalidError) as caught:
        parse_go_listing(b'[{"version": "go1.23.4", "stable": true}]', source="sample")

    assert str(caught.value) == "sample: release go1.23.4 has no list of files"


def test_postgres_listing_versions() -> None:
    versions = parse_postgres_listing((SAMPLES / "postgres/index.html").read_bytes())

    assert versions == ["16.6", "17.1", "17.2", "17rc1", "18beta1"]
    assert select_latest(versions, VersionPolicy(major=17), source="pg") == "17.2"
    assert select_latest(versions, VersionPolicy(major=16), source="pg") == "16.6"
    assert select_latest(versions, VersionPolicy(major=18, prerelease=True), source="pg") == (
        "18beta1"
    )
    with pytest.raises(NoMatchingVersionError):
        select_latest(versions, VersionPolicy(major=18), source="pg")


def test_sha256_file_formats() -> None:
    digest = sha256_of("x")
    named = f"{digest}  postgresql-17.2.tar.bz2\n".encode()
    binary = f"{digest.upper()} *dist/postgresql-17.2.tar.bz2\n".encode()

    assert parse_sha256_file(named, "postgresql-17.2.tar.bz2", source="s") == digest
    assert parse_sha256_file(binary, "postgresql-17.2.tar.bz2", source="s") == digest
    assert parse_sha256_file(digest.encode() + b"\n", "any.tar.gz", source="s") == digest
    with pytest.raises(DocumentInvalidError) as caught:
        parse_sha256_file(named, "postgresql-17.1.tar.bz2", source="s")
    assert str(caught.value) == "s lists no sha256 for postgresql-17.1.tar.bz2"


def test_pypi_project_skips_yanked_and_empty() -> None:
    project = parse_pypi_project((SAMPLES / "pypi/httpie/json").read_bytes(), source="sample")

    assert project.name == "httpie"
    assert sorted(project.releases) == ["3.2.3", "3.2.4", "3.3.0b1"]
    files = project.releases["3.2.4"]
    assert [file.filename for file in files] == [
        "httpie-3.2.4-py3-none-any.whl",
        "httpie-3.2.4.tar.gz",
    ]
    assert files[1].packagetype == "sdist"
    assert files[1].sha256 == sha256_of("httpie-3.2.4.tar.gz")
    assert select_latest(project.releases, VersionPolicy(ordering="pep440"), source="p") == "3.2.4"
    assert project_url("https://pypi.org/pypi/", "httpie") == "https://pypi.org/pypi/httpie/json"


def test_pypi_project_without_releases() -> None:
    with pytest.raises(DocumentInvalidError) as caught:
        parse_pypi_project(b'{"info": {"name": "x"}}', source="sample")

    assert str(caught.value) == "sample has no `releases` mapping"


def test_npm_document_versions() -> None:
    versions = parse_npm_document((SAMPLES / "npm/prettier").read_bytes(), source="sample")

    latest = select_latest(versions, VersionPolicy(ordering="semver"), source="npm")
    beta = select_latest(versions, VersionPolicy(ordering="semver", prerelease=True), source="n")

    assert sorted(versions) == ["2.8.8", "3.3.2", "3.3.3", "3.4.0-beta.1"]
    assert latest == "3.3.3"
    assert beta == "3.4.0-beta.1"
    dist = versions["3.3.3"]
    assert dist.tarball == "https://registry.npmjs.org/prettier/-/prettier-3.3.3.tgz"
    assert dist.integrity.startswith("sha512-")
    assert len(dist.shasum) == 40


def test_npm_scoped_package_url() -> None:
    assert package_url("https://registry.npmjs.org", "@types/node") == (
        "https://registry.npmjs.org/@types%2Fnode"
    )
    assert package_url("https://registry.npmjs.org/", "prettier") == (
        "https://registry.npmjs.org/prettier"
    )


def test_npm_document_without_tarball() -> None:
    content = b'{"versions": {"1.0.0": {"dist": {"shasum": "ab"}}}}'

    with pytest.raises(DocumentInvalidError) as caught:
        parse_npm_document(content, source="sample")

    assert str(caught.value) == "sample: the dist of 1.0.0 has no 'tarball' text field"


def test_regex_first_capture_of_first_match() -> None:
    page = (SAMPLES / "pages/tool.html").read_text()

    assert extract_capture(page, r"tool (\d+\.\d+\.\d+)", source="page") == "2.4.1"
    assert extract_capture(page, r"Older release: tool ([\d.]+\d)", source="page") == "2.3.9"


def test_regex_without_match() -> None:
    with pytest.raises(UrlRegexNoMatchError) as caught:
        extract_capture("nothing here", r"v(\d+)", source="http://page")

    assert str(caught.value) == "'v(\\\\d+)' matches nothing in http://page"


def test_regex_with_empty_group() -> None:
    with pytest.raises(UrlRegexNoMatchError) as caught:
        extract_capture("release", r"release(-\d+)?", source="page")

    assert (
        str(caught.value) == "'release(-\\\\d+)?' matches page at 0, but its first group is empty"
    )


def test_url_template_references() -> None:
    template = "https://x/{{ inputs.tool.version }}/{{ inputs['go'] }}-{{ arch }}.tgz"

    assert referenced_inputs(template) == {"tool", "go"}
    assert uses_arch(template) is True
    assert uses_arch("https://x/{{ inputs.tool }}") is False


def test_url_template_renders_strictly() -> None:
    class Value:
        version = "2.4.1"

    assert render_url("https://x/{{ inputs.tool.version }}-{{ arch }}", {"tool": Value()}, "a") == (
        "https://x/2.4.1-a"
    )
    with pytest.raises(UrlTemplateError) as caught:
        render_url("https://x/{{ inputs.other }}", {}, "")
    assert str(caught.value) == (
        "cannot render URL template 'https://x/{{ inputs.other }}': "
        "'mappingproxy object' has no attribute 'other'"
    )
    with pytest.raises(UrlTemplateError) as syntax:
        referenced_inputs("https://x/{{ inputs.tool ")
    assert str(syntax.value).startswith("invalid URL template")
