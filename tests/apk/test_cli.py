"""`pinwright apk` end to end: exact output and exit codes."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.cli import main
from tests.apk.test_index import make_unsigned_archive
from tests.conftest import REPOSITORY
from tests.e2e.test_update import read_index_versions
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror

MIRROR_INDEX = "alpine/v3.19/main/x86_64/APKINDEX.tar.gz"

INDEX = """\
P:a
V:2
D:b

P:b
V:1.0-r0

P:b
V:1.1-r0
"""


@pytest.fixture
def index_file(tmp_path: Path) -> Path:
    path = tmp_path / "APKINDEX"
    path.write_text(INDEX)
    return path


def test_resolve_text(index_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apk", "resolve", "--repo", str(index_file), "a"]) == 0
    assert capsys.readouterr().out == "a 2\nb 1.1-r0\n"


def test_resolve_json(index_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "apk",
            "resolve",
            "--repo",
            str(index_file),
            "--arch",
            "aarch64",
            "--format",
            "json",
            "a",
            "b<1.1",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"aarch64": {"a": "2", "b": "1.0-r0"}}


def test_resolve_unsatisfiable(index_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apk", "resolve", "--repo", str(index_file), "a", "!b"]) == 1
    assert capsys.readouterr().err == (
        "ERROR: unable to select packages (x86_64):\n"
        "  b-1.1-r0:\n"
        "    breaks: world[!b]\n"
        "    satisfies: a-2[b]\n"
    )


def test_resolve_without_repo_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["apk", "resolve", "busybox"])

    assert raised.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "pinwright apk resolve: error: the following arguments are required: --repo"
    )


def test_resolve_unknown_arch(index_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["apk", "resolve", "--repo", str(index_file), "--arch", "amd64", "a"])

    assert raised.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "pinwright apk resolve: error: argument --arch: invalid choice: 'amd64' (choose from "
        "'x86_64', 'aarch64', 'armv7', 'armhf', 'x86', 'ppc64le', 's390x', 'riscv64', "
        "'loongarch64')"
    )


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"hello world\nthis is text\n", "{path}:1: expected an 'X:value' line, got 'hello world'"),
        (b"X:1\nY:2\n", "{path}:1: package entry without P: or V:"),
        (b"", "it contains no package (no P: line)"),
        (
            b"\x1f\x8bgarbage",
            "{path}: not a gzip archive: Error -3 while decompressing data: "
            "unknown compression method",
        ),
        (gzip.compress(b"no tar inside"), "{path}: not a tar archive: truncated header"),
    ],
    ids=["plain-text", "no-package-field", "empty", "broken-gzip", "gzip-without-tar"],
)
def test_resolve_repo_not_an_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, detail: str
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)

    exit_code = main(["apk", "resolve", "--repo", str(path), "busybox"])

    assert capsys.readouterr().err == (
        f"--repo {path} is not an APKINDEX: {detail.format(path=path)}\n"
    )
    assert exit_code == 2


@pytest.mark.parametrize("value", ["@t", "@=index", "@t=", ""])
def test_resolve_bad_tag_named(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main(["apk", "resolve", "--repo", value, "busybox"])

    error = capsys.readouterr().err
    assert exit_code == 2
    value_text = value or "''"
    assert error.startswith(f"--repo {value_text}:")


def test_resolve_tag_without_path_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apk", "resolve", "--repo", "@t", "busybox"]) == 2
    assert capsys.readouterr().err == "--repo @t: expected @TAG=PATH or @TAG=URL\n"


def test_resolve_other_scheme_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apk", "resolve", "--repo", "ftp://127.0.0.1:9/APKINDEX.tar.gz", "a"]) == 2
    assert capsys.readouterr().err == (
        "--repo ftp://127.0.0.1:9/APKINDEX.tar.gz: only http:// and https:// URLs are supported\n"
    )


def test_resolve_keeps_emoji_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "APKINDEX"
    path.write_text("P:smile:x:\nV:1.0-r0\n")

    assert main(["apk", "resolve", "--repo", str(path), "smile:x:"]) == 0
    assert capsys.readouterr().out == "smile:x: 1.0-r0\n"


@pytest.fixture
def apk_mirror(
    tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LoopbackHttpServer]:
    """A mirror of the real signed Alpine v3.19.3 main index, and an empty download cache."""
    build_apk_mirror(tmp_path / "mirror" / "alpine", ["3.19.3-main-x86_64"])
    monkeypatch.setenv("PINWRIGHT_CACHE_DIR", str(tmp_path / "cache"))
    with LoopbackHttpServer(tmp_path / "mirror") as server:
        yield server


def test_resolve_url_matches_local_file(
    apk_mirror: LoopbackHttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = tmp_path / "mirror" / MIRROR_INDEX
    assert main(["apk", "resolve", "--repo", str(local), "busybox"]) == 0
    from_file = capsys.readouterr().out

    exit_code = main(["apk", "resolve", "--repo", apk_mirror.url_for(MIRROR_INDEX), "busybox"])

    from_url = capsys.readouterr().out
    versions = read_index_versions(local)
    assert exit_code == 0
    assert from_url == from_file
    assert f"busybox {versions['busybox']}\n" in from_url
    assert f"musl {versions['musl']}\n" in from_url
    assert [(entry.path, entry.status) for entry in apk_mirror.requests] == [
        (f"/{MIRROR_INDEX}", 200)
    ]


def test_resolve_tagged_url(
    apk_mirror: LoopbackHttpServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = apk_mirror.url_for(MIRROR_INDEX)
    versions = read_index_versions(tmp_path / "mirror" / MIRROR_INDEX)

    assert main(["apk", "resolve", "--repo", f"@main={url}", "musl@main"]) == 0
    assert capsys.readouterr().out == f"musl {versions['musl']}\n"


def test_resolve_url_needs_signature(
    apk_mirror: LoopbackHttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unsigned = tmp_path / "mirror" / "unsigned" / "APKINDEX.tar.gz"
    unsigned.parent.mkdir()
    unsigned.write_bytes(make_unsigned_archive(INDEX))
    url = apk_mirror.url_for("unsigned/APKINDEX.tar.gz")

    assert main(["apk", "resolve", "--repo", str(unsigned), "a"]) == 0
    assert capsys.readouterr().out == "a 2\nb 1.1-r0\n"
    assert main(["apk", "resolve", "--repo", url, "a"]) == 1
    assert capsys.readouterr().err == f"{url}: index is not signed\n"


def test_resolve_url_not_found(
    apk_mirror: LoopbackHttpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = apk_mirror.url_for("missing/APKINDEX.tar.gz")

    assert main(["apk", "resolve", "--repo", url, "a"]) == 1
    assert capsys.readouterr().err == f"GET {url} returned HTTP 404\n"


def test_apk_command_imports_no_cryptography() -> None:
    script = (
        "import sys, compiler.commands.apk; "
        "print(sorted(name for name in ('cryptography', 'requests', 'compiler.apk.keys') "
        "if name in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPOSITORY,
        env={"PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        check=True,
    )

    assert completed.stdout == "[]\n"


@pytest.mark.parametrize(
    ("a", "b", "out"), [("1.0", "1.0-r1", "<\n"), ("2", "2", "=\n"), ("1.10", "1.9", ">\n")]
)
def test_compare(a: str, b: str, out: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apk", "compare", a, b]) == 0
    assert capsys.readouterr().out == out


def test_compare_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apk", "compare", "1.x", "2"]) == 2
    assert "'1.x'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["1.2", ">=", "1.0"], 0),
        (["1.2", "<", "1.0"], 1),
        (["1.2", "!<", "1.0"], 0),
        (["2.10", "~", "2.4"], 1),
    ],
)
def test_match(args: list[str], code: int) -> None:
    assert main(["apk", "match", *args]) == code
