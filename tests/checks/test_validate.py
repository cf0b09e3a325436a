"""`pinwright validate` on the corpus of broken catalogs, and its exit codes and formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.validate import validate_catalog
from tests.checks.expected import describe_findings, read_expected
from tests.trees import write_tree

CATALOGS = Path(__file__).parent / "corpus" / "catalogs"
CASES = sorted(path.name for path in CATALOGS.iterdir() if path.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_corpus_catalog_findings(case: str) -> None:
    root = CATALOGS / case

    _, report = validate_catalog(root)

    assert describe_findings(report.findings, root) == read_expected(root / "expected.txt")


def test_corpus_has_every_validate_rule() -> None:
    found = {
        line.split()[0]
        for case in CASES
        for line in read_expected(CATALOGS / case / "expected.txt")
    }
    assert found == {
        "yaml-invalid",
        "spec-invalid",
        "image-unknown",
        "image-cycle",
        "template-syntax",
        "template-not-found",
        "template-undefined",
        "input-unused",
    }


def run_cli(*arguments: str) -> int:
    return main(list(arguments))


def test_clean_catalog_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("-C", str(CATALOGS / "clean"), "validate") == 0
    assert capsys.readouterr().out == "no problems found\n"


def test_errors_exit_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("-C", str(CATALOGS / "graph"), "validate", "--format", "json") == 1
    document = json.loads(capsys.readouterr().out)
    assert document["errors"] == 2
    assert document["warnings"] == 0


def write_unused_input_catalog(root: Path) -> None:
    write_tree(
        root,
        {
            "pinwright.yaml": "registry: registry.example.test/catalog\n",
            "images/app/image.yaml": """
                inputs:
                  base: {image: "registry.example.test/library/alpine:3.20"}
                  spare: {image: "registry.example.test/library/busybox:1.36"}
                stages:
                  - base: base
            """,
        },
    )


def test_warnings_exit_zero_unless_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_unused_input_catalog(tmp_path)
    monkeypatch.chdir(tmp_path)

    assert run_cli("validate") == 0
    assert capsys.readouterr().out == (
        "images/app/image.yaml:3:3: warning: input 'spare' of image app is not used "
        "[input-unused]\n"
        "  fix: use `inputs.spare` in a template or stage, or remove the input\n"
        "0 errors, 1 warning\n"
    )
    assert run_cli("validate", "--strict") == 1


def test_missing_catalog_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("-C", str(tmp_path), "validate") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"no pinwright.yaml found in {tmp_path.resolve()}")


def test_bad_format_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        run_cli("validate", "--format", "xml")
    assert raised.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
