"""`pinwright apk` end to end: exact output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.cli import main

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


def test_resolve_url_not_supported(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apk", "resolve", "--repo", "http://127.0.0.1:9/x", "a"]) == 2
    assert "not supported yet" in capsys.readouterr().err


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
