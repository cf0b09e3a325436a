"""`check --online` of release, package registry and URL inputs against a loopback server.

The server serves a copy of the hand-written samples in tests/sources/samples, plus the
release files the lock points at, so a test changes upstream by editing that copy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from compiler.cli import main
from compiler.online import ONLINE_RULES
from compiler.settings import ResolveOptions
from compiler.validate import check_catalog
from tests.e2e.test_upstreams import LOCK, SAMPLES, write_catalog
from tests.servers.http_server import Fault, LoopbackHttpServer, serve_folder

pytestmark = pytest.mark.e2e

# Every file URL of the release and `url_checksum` inputs, as paths on the server.
FILE_PATHS = [
    "/alpine/v3.20/releases/aarch64/alpine-minirootfs-3.20.3-aarch64.tar.gz",
    "/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz",
    "/files/NOTICE-2.4.1.txt",
    "/files/tool-2.4.1-aarch64.tar.gz",
    "/files/tool-2.4.1-x86_64.tar.gz",
    "/go/dl/go1.23.4.linux-amd64.tar.gz",
    "/go/dl/go1.23.4.linux-arm64.tar.gz",
    "/postgres/v17.2/postgresql-17.2.tar.bz2",
]
DOCUMENT_PATHS = ["/npm/@types/node", "/npm/prettier", "/pages/tool.html", "/pypi/httpie/json"]


@dataclass
class Locked:
    root: Path
    upstream_root: Path
    server: LoopbackHttpServer
    cache: Path


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Locked]:
    """A catalog locked against the samples, with every locked file present upstream."""
    upstream_root = tmp_path / "upstream"
    shutil.copytree(SAMPLES, upstream_root)

    with serve_folder(upstream_root) as server:
        root = write_catalog(tmp_path / "catalog", server)
        cache = tmp_path / "cache"
        assert main(["-C", str(root), "update", "--cache-dir", str(cache)]) == 0
        for path in FILE_PATHS:
            file = upstream_root / path.lstrip("/")
            if not file.exists():
                file.write_bytes(b"release file\n")
        server.clear_requests()
        yield Locked(root, upstream_root, server, cache)


def online_findings(locked: Locked) -> list[tuple[str, str, str]]:
    """Return (rule, severity, message) of every online finding, sorted."""
    options = ResolveOptions(jobs=4, cache_dir=locked.cache)
    _, report = check_catalog(locked.root, (), upstream=options)
    return sorted(
        (finding.rule, finding.severity, finding.message)
        for finding in report.findings
        if finding.rule in ONLINE_RULES
    )


def edit_json(path: Path, edit: dict[str, object]) -> None:
    """Replace top-level entries of the JSON document at `path`."""
    document = json.loads(path.read_text())
    document.update(edit)
    path.write_text(json.dumps(document))


def test_locked_files_and_versions_pass(locked: Locked, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    arguments = ["-C", str(locked.root), "check", "--online", "--cache-dir", str(locked.cache)]

    assert main(arguments) == 0

    assert capsys.readouterr().out == "no problems found\n"
    heads = sorted(request.path for request in locked.server.requests if request.method == "HEAD")
    assert heads == FILE_PATHS
    gets = sorted({request.path for request in locked.server.requests if request.method == "GET"})
    assert gets == DOCUMENT_PATHS


def test_removed_release_files(locked: Locked) -> None:
    url = locked.server.url
    for path in ("/go/dl/go1.23.4.linux-arm64.tar.gz", "/postgres/v17.2/postgresql-17.2.tar.bz2"):
        (locked.upstream_root / path.lstrip("/")).unlink()

    assert online_findings(locked) == [
        (
            "release-vanished",
            "error",
            f"input 'go' of image tools: {url}/go/dl/go1.23.4.linux-arm64.tar.gz returned HTTP 404",
        ),
        (
            "release-vanished",
            "error",
            f"input 'postgres' of image tools: {url}/postgres/v17.2/postgresql-17.2.tar.bz2 "
            "returned HTTP 404",
        ),
    ]


def test_removed_download_url(locked: Locked) -> None:
    (locked.upstream_root / "files/NOTICE-2.4.1.txt").unlink()

    assert online_findings(locked) == [
        (
            "url-vanished",
            "error",
            f"input 'notice' of image tools: {locked.server.url}/files/NOTICE-2.4.1.txt "
            "returned HTTP 404",
        )
    ]


def test_head_rejected_falls_back_to_ranged_get(locked: Locked) -> None:
    path = "/files/tool-2.4.1-x86_64.tar.gz"
    locked.server.set_fault(path, Fault(status=405, times=1))

    assert online_findings(locked) == []

    requests = [request for request in locked.server.requests if request.path == path]
    assert [(request.method, request.status) for request in requests] == [
        ("HEAD", 405),
        ("GET", 200),
    ]
    assert requests[1].headers["Range"] == "bytes=0-0"


def test_rejected_file_request_is_unreachable(locked: Locked) -> None:
    path = "/files/tool-2.4.1-aarch64.tar.gz"
    locked.server.set_fault(path, Fault(status=403))

    assert online_findings(locked) == [
        (
            "upstream-unreachable",
            "error",
            f"input 'tool_archive' of image tools: GET {locked.server.url}{path} returned HTTP 403",
        )
    ]


def test_package_versions_vanished(locked: Locked) -> None:
    url = locked.server.url
    pypi = locked.upstream_root / "pypi/httpie/json"
    releases = json.loads(pypi.read_text())["releases"]
    for file in releases["3.2.4"]:
        file["yanked"] = True
    edit_json(pypi, {"releases": releases})
    prettier = locked.upstream_root / "npm/prettier"
    versions = json.loads(prettier.read_text())["versions"]
    del versions["3.3.3"]
    edit_json(prettier, {"versions": versions})
    (locked.upstream_root / "npm/@types/node").unlink()

    assert online_findings(locked) == [
        (
            "package-version-vanished",
            "error",
            f"input 'httpie' of image tools: version 3.2.4 of PyPI project httpie is no longer "
            f"listed, or is yanked, at {url}/pypi/httpie/json",
        ),
        (
            "package-version-vanished",
            "error",
            f"input 'prettier' of image tools: version 3.3.3 of npm package prettier is no "
            f"longer listed at {url}/npm/prettier",
        ),
        (
            "package-version-vanished",
            "error",
            f"input 'types' of image tools: npm package @types/node is gone: "
            f"{url}/npm/@types%2Fnode returned HTTP 404",
        ),
    ]


def test_url_regex_value_changed(locked: Locked, capsys: pytest.CaptureFixture[str]) -> None:
    page = locked.upstream_root / "pages/tool.html"
    page.write_text(page.read_text().replace("tool 2.4.1", "tool 2.5.0"))
    url = f"{locked.server.url}/pages/tool.html"

    assert online_findings(locked) == [
        (
            "url-value-changed",
            "warning",
            f"input 'tool' of image tools: {url} now yields '2.5.0', not the locked '2.4.1'",
        )
    ]

    page.write_text("<p>no release listed</p>\n")
    assert online_findings(locked) == [
        (
            "url-value-changed",
            "warning",
            f"input 'tool' of image tools: 'tool (\\\\d+\\\\.\\\\d+\\\\.\\\\d+)' matches nothing "
            f"in {url}",
        )
    ]

    capsys.readouterr()
    arguments = ["-C", str(locked.root), "check", "--online", "--cache-dir", str(locked.cache)]
    assert main(arguments) == 0
    assert main([*arguments, "--strict"]) == 1


def test_online_check_stays_on_loopback(locked: Locked) -> None:
    # The lock names PyPI and npm file URLs on public hosts; only the registry documents
    # are read, so every request goes to the loopback server.
    lock = json.loads((locked.root / LOCK).read_text())
    assert (
        urlsplit(lock["inputs"]["httpie"]["files"][0]["url"]).hostname == "files.pythonhosted.org"
    )

    assert online_findings(locked) == []

    assert {request.path for request in locked.server.requests} == {
        *FILE_PATHS,
        *DOCUMENT_PATHS,
    }
