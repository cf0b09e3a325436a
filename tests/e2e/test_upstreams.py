"""`pinwright lock` of release, package registry and URL inputs against a loopback server.

The server serves a copy of the hand-written samples in tests/sources/samples, so a test
can change upstream by editing its copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.cli import main
from tests.conftest import REPOSITORY
from tests.servers.http_server import Fault, LoopbackHttpServer, serve_folder
from tests.trees import snapshot_tree, write_tree

pytestmark = pytest.mark.e2e

SAMPLES = Path(__file__).parents[1] / "sources" / "samples"
LOCK = "images/tools/image.lock.json"

# Every document of one cold lock, in the order of the inputs in the spec.
UPSTREAM_PATHS = [
    "/alpine/v3.20/releases/x86_64/latest-releases.yaml",
    "/alpine/v3.20/releases/aarch64/latest-releases.yaml",
    "/go/dl/listing.json",
    "/postgres/index.html",
    "/postgres/v17.2/postgresql-17.2.tar.bz2.sha256",
    "/pages/tool.html",
    "/files/tool-2.4.1-x86_64.tar.gz",
    "/files/tool-2.4.1-aarch64.tar.gz",
    "/files/NOTICE-2.4.1.txt",
    "/pypi/httpie/json",
    "/npm/prettier",
    "/npm/@types/node",
]


@pytest.fixture
def upstream_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the samples, which a test may edit to change upstream."""
    root = tmp_path_factory.mktemp("upstream")
    shutil.copytree(SAMPLES, root, dirs_exist_ok=True)
    return root


@pytest.fixture
def upstream(upstream_root: Path) -> Iterator[LoopbackHttpServer]:
    with serve_folder(upstream_root) as server:
        yield server


def write_catalog(root: Path, server: LoopbackHttpServer) -> Path:
    url = server.url
    write_tree(
        root,
        {
            "pinwright.yaml": f"""
                registry: registry.example/catalog
                architectures: [x86_64, aarch64]
                alpine:
                  mirror: {url}/alpine
                  branch: v3.20
                upstreams:
                  go: "{url}/go/dl/listing.json?mode=json&include=all"
                  postgres: {url}/postgres/index.html
                  pypi: {url}/pypi
                  npm: {url}/npm
            """,
            "images/tools/image.yaml": f"""
                inputs:
                  rootfs: {{alpine_release: {{}}}}
                  go: {{go_release: {{minor: "1.23"}}}}
                  postgres: {{postgres_release: 17}}
                  tool:
                    url_regex: {{url: "{url}/pages/tool.html", regex: 'tool (\\d+\\.\\d+\\.\\d+)'}}
                  tool_archive:
                    url_checksum: {{url: "{url}/files/tool-{{{{ inputs.tool }}}}-{{{{ arch }}}}.tar.gz"}}
                  notice:
                    url_checksum: {{url: "{url}/files/NOTICE-{{{{ inputs.tool.version }}}}.txt"}}
                  httpie: {{pypi: httpie}}
                  prettier: {{npm: prettier}}
                  types: {{npm: "@types/node", major: 20}}
            """,
            "images/tools/Dockerfile.j2": """
                FROM scratch
                ADD --checksum=sha256:{{ inputs.rootfs.sha256 }} {{ inputs.rootfs.url }} /
                {% for arch, file in inputs.go.arch.items() %}
                # go {{ inputs.go }} {{ arch }} {{ file.url }} {{ file.sha256 }}
                {% endfor %}
                RUN echo postgres {{ inputs.postgres }} {{ inputs.postgres.sha256 }}
                RUN echo tool {{ inputs.tool }} {{ inputs.tool_archive.arch.aarch64.sha256 }}
                RUN echo notice {{ inputs.notice }}
                RUN pip install httpie=={{ inputs.httpie }} --hash=sha256:{{ inputs.httpie.hashes | join(" --hash=sha256:") }}
                RUN npm install prettier@{{ inputs.prettier }} @types/node@{{ inputs.types }}
            """,
        },
    )
    return root


def run_cli(root: Path, *arguments: str) -> int:
    return main(["-C", str(root), *arguments])


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_update_pins_every_upstream(
    upstream: LoopbackHttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    url = upstream.url

    assert run_cli(root, "update", "--cache-dir", str(tmp_path / "cache")) == 0

    lock = json.loads((root / LOCK).read_text())
    archive_x86 = sha256_of("tool 2.4.1 for x86_64\n")
    archive_arm = sha256_of("tool 2.4.1 for aarch64\n")
    notice = sha256_of("shared notice for tool 2.4.1\n")
    assert lock["materials"] == {
        "alpine_release:minirootfs": "3.20.3",
        "go:go": "1.23.4",
        "npm:@types/node": "20.17.9",
        "npm:prettier": "3.3.3",
        "postgres:17": "17.2",
        "pypi:httpie": "3.2.4",
        "url:notice": notice,
        "url:tool": "2.4.1",
        "url:tool_archive:aarch64": archive_arm,
        "url:tool_archive:x86_64": archive_x86,
    }
    assert lock["inputs"]["rootfs"]["architectures"]["aarch64"] == {
        "url": f"{url}/alpine/v3.20/releases/aarch64/alpine-minirootfs-3.20.3-aarch64.tar.gz",
        "sha256": sha256_of("alpine-minirootfs-3.20.3-aarch64.tar.gz"),
    }
    assert lock["inputs"]["tool_archive"]["architectures"]["x86_64"]["url"] == (
        f"{url}/files/tool-2.4.1-x86_64.tar.gz"
    )

    wheel = sha256_of("httpie-3.2.4-py3-none-any.whl")
    sdist = sha256_of("httpie-3.2.4.tar.gz")
    rootfs = "alpine-minirootfs-3.20.3-x86_64.tar.gz"
    assert (root / "images/tools/Dockerfile").read_text() == (
        "# Generated by Pinwright from images/tools/image.yaml and images/tools/image.lock.json.\n"
        "# Do not edit: change the spec, then run `pinwright compile tools`.\n"
        "\n"
        "FROM scratch\n"
        f"ADD --checksum=sha256:{sha256_of(rootfs)} {url}/alpine/v3.20/releases/x86_64/{rootfs} /\n"
        f"# go 1.23.4 x86_64 {url}/go/dl/go1.23.4.linux-amd64.tar.gz "
        f"{sha256_of('go1.23.4.linux-amd64.tar.gz')}\n"
        f"# go 1.23.4 aarch64 {url}/go/dl/go1.23.4.linux-arm64.tar.gz "
        f"{sha256_of('go1.23.4.linux-arm64.tar.gz')}\n"
        f"RUN echo postgres 17.2 {sha256_of('postgresql-17.2.tar.bz2')}\n"
        f"RUN echo tool 2.4.1 {archive_arm}\n"
        f"RUN echo notice {notice}\n"
        f"RUN pip install httpie==3.2.4 --hash=sha256:{wheel} --hash=sha256:{sdist}\n"
        "RUN npm install prettier@3.3.3 @types/node@20.17.9\n"
    )
    assert capsys.readouterr().out.endswith(
        "wrote images/tools/image.lock.json\nwrote images/tools/Dockerfile\n"
    )


def test_cold_lock_requests_each_document_once(
    upstream: LoopbackHttpServer, tmp_path: Path
) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)

    assert run_cli(root, "lock", "--cache-dir", str(tmp_path / "cache")) == 0

    paths = [request.path for request in upstream.requests]
    assert sorted(paths) == sorted(UPSTREAM_PATHS)
    assert {request.status for request in upstream.requests} == {200}


def test_warm_lock_transfers_no_body(upstream: LoopbackHttpServer, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    cache = str(tmp_path / "cache")
    assert run_cli(root, "lock", "--cache-dir", cache) == 0
    before = snapshot_tree(root)
    upstream.clear_requests()

    assert run_cli(root, "lock", "--cache-dir", cache) == 0

    assert snapshot_tree(root) == before
    assert sorted(request.path for request in upstream.requests) == sorted(UPSTREAM_PATHS)
    assert {request.status for request in upstream.requests} == {304}
    assert sum(request.body_bytes for request in upstream.requests) == 0


def test_changed_upstream_is_seen(
    upstream: LoopbackHttpServer,
    upstream_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    cache = str(tmp_path / "cache")
    assert run_cli(root, "lock", "--cache-dir", cache) == 0
    page = upstream_root / "pypi/httpie/json"
    document = json.loads(page.read_text())
    released = [dict(file) for file in document["releases"]["3.2.4"]]
    for file in released:
        file["filename"] = file["filename"].replace("3.2.4", "3.2.6")
        file["digests"] = {"sha256": sha256_of(file["filename"])}
        file["url"] = file["url"].replace("3.2.4", "3.2.6")
    document["releases"]["3.2.6"] = released
    page.write_text(json.dumps(document))
    upstream.clear_requests()
    capsys.readouterr()

    assert run_cli(root, "lock", "--cache-dir", cache) == 0

    lock = json.loads((root / LOCK).read_text())
    assert lock["materials"]["pypi:httpie"] == "3.2.6"
    assert lock["inputs"]["httpie"]["files"][1] == {
        "filename": "httpie-3.2.6.tar.gz",
        "packagetype": "sdist",
        "sha256": sha256_of("httpie-3.2.6.tar.gz"),
        "url": "https://files.pythonhosted.org/packages/ab/cd/httpie-3.2.6.tar.gz",
    }
    changed = [request.path for request in upstream.requests if request.status == 200]
    assert changed == ["/pypi/httpie/json"]
    assert len(upstream.requests) == len(UPSTREAM_PATHS)
    assert capsys.readouterr().out == "wrote images/tools/image.lock.json\n"


def test_offline_lock_after_run(upstream: LoopbackHttpServer, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    cache = str(tmp_path / "cache")
    assert run_cli(root, "lock", "--cache-dir", cache) == 0
    before = snapshot_tree(root)
    (root / LOCK).unlink()
    upstream.clear_requests()

    assert run_cli(root, "lock", "--offline", "--cache-dir", cache) == 0

    assert snapshot_tree(root) == before
    assert upstream.requests == []


def test_offline_lock_cache_miss(
    upstream: LoopbackHttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    cache = str(tmp_path / "cache")
    assert run_cli(root, "lock", "--cache-dir", cache, "--jobs", "1") == 0
    (root / "images/tools/image.yaml").write_text(
        (root / "images/tools/image.yaml").read_text() + "  extra: {npm: left-pad}\n"
    )
    before = snapshot_tree(root)
    upstream.clear_requests()
    capsys.readouterr()

    assert run_cli(root, "lock", "--offline", "--cache-dir", cache) == 1

    assert snapshot_tree(root) == before
    assert upstream.requests == []
    assert capsys.readouterr().err == (
        f"{root}/images/tools/image.yaml:14:10: input 'extra' of image tools: "
        f"{upstream.url}/npm/left-pad is not in the cache, run without --offline\n"
    )


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=503, times=2),
        Fault(status=429, retry_after="1", times=1),
        Fault(reset=True, times=1),
        Fault(truncate=True, times=1),
        Fault(delay_ms=300, times=1),
    ],
    ids=["503-twice", "429-retry-after", "reset", "truncated", "delay"],
)
@pytest.mark.parametrize("path", ["/pypi/httpie/json", "/go/dl/listing.json"])
def test_recovered_fault_writes_clean_result(
    upstream: LoopbackHttpServer, tmp_path: Path, fault: Fault, path: str
) -> None:
    clean = write_catalog(tmp_path / "clean", upstream)
    assert run_cli(clean, "lock", "--cache-dir", str(tmp_path / "clean-cache")) == 0
    upstream.clear_requests()
    faulty = write_catalog(tmp_path / "faulty", upstream)
    upstream.set_fault(path, fault)

    assert run_cli(faulty, "lock", "--cache-dir", str(tmp_path / "faulty-cache")) == 0

    assert snapshot_tree(faulty) == snapshot_tree(clean)
    tries = [request for request in upstream.requests if request.path == path]
    expected_tries = 3 if fault.times == 2 else 2
    if fault.delay_ms:
        expected_tries = 1
    assert len(tries) == expected_tries
    assert tries[-1].status == 200


def test_oversized_document_fails_clearly(
    upstream: LoopbackHttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    upstream.set_fault("/npm/prettier", Fault(oversize=9 * 1024 * 1024))

    assert run_cli(root, "lock", "--cache-dir", str(tmp_path / "cache")) == 1

    assert not (root / LOCK).exists()
    assert capsys.readouterr().err == (
        f"{root}/images/tools/image.yaml:12:13: input 'prettier' of image tools: "
        f"GET {upstream.url}/npm/prettier is 9437184 bytes, over the limit of 8388608 bytes\n"
    )


def test_missing_document_fails_clearly(
    upstream: LoopbackHttpServer,
    upstream_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    (upstream_root / "postgres/v17.2/postgresql-17.2.tar.bz2.sha256").unlink()

    assert run_cli(root, "lock", "--cache-dir", str(tmp_path / "cache")) == 1

    assert not (root / LOCK).exists()
    assert capsys.readouterr().err == (
        f"{root}/images/tools/image.yaml:4:13: input 'postgres' of image tools: "
        f"GET {upstream.url}/postgres/v17.2/postgresql-17.2.tar.bz2.sha256 returned HTTP 404\n"
    )


def test_failed_input_skips_its_dependents(
    upstream: LoopbackHttpServer,
    upstream_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    (upstream_root / "pages/tool.html").write_text("no release here\n")

    assert run_cli(root, "lock", "--cache-dir", str(tmp_path / "cache")) == 1

    spec = f"{root}/images/tools/image.yaml"
    assert capsys.readouterr().err.splitlines() == [
        f"{spec}:6:5: input 'tool' of image tools: "
        f"'tool (\\\\d+\\\\.\\\\d+\\\\.\\\\d+)' matches nothing in {upstream.url}/pages/tool.html",
        f"{spec}:8:5: input 'tool_archive' of image tools: not resolved because input 'tool' failed",
        f"{spec}:10:5: input 'notice' of image tools: not resolved because input 'tool' failed",
    ]


def test_verbose_logs_each_request(
    upstream: LoopbackHttpServer, upstream_root: Path, tmp_path: Path
) -> None:
    root = write_catalog(tmp_path / "catalog", upstream)
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}

    finished = subprocess.run(
        [sys.executable, "-m", "compiler", "-v", "-C", str(root), "lock"]
        + ["--cache-dir", str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )

    assert finished.returncode == 0
    request_lines = [
        line
        for line in finished.stderr.splitlines()
        if line.startswith("[DEBUG] compiler.sources.http.client: GET ")
    ]
    assert len(request_lines) == len(UPSTREAM_PATHS)
    pypi = [line for line in request_lines if "/pypi/httpie/json" in line]
    size = (upstream_root / "pypi/httpie/json").stat().st_size
    assert len(pypi) == 1
    assert pypi[0].startswith(
        f"[DEBUG] compiler.sources.http.client: GET {upstream.url}/pypi/httpie/json 200, "
        f"{size} bytes, "
    )
    assert pypi[0].endswith(" ms, cache miss")
