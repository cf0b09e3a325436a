"""Findings of `validate`, `check` and `lint`, and the formats they are printed in.

Formats: human text (coloured by rich on a terminal), JSON, GitHub Actions workflow
commands (shown as annotations on a pull request) and SARIF 2.1.0 (code scanning).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from rich.text import Text

Severity = Literal["error", "warning"]
FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"


@dataclass(frozen=True)
class Rule:
    """A kind of finding: its id, its severity and what it means."""

    id: str
    severity: Severity
    summary: str  # one line, for SARIF's shortDescription


@dataclass(frozen=True)
class Finding:
    """One problem at one place; line and column are 1-based and None when unknown."""

    rule: str
    severity: Severity
    path: Path
    line: int | None
    column: int | None
    message: str
    fix: str | None = None
    detail: str | None = None  # more lines, such as a unified diff

    @property
    def display_path(self) -> str:
        return display_path(self.path)

    @property
    def where(self) -> str:
        text = self.display_path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


def display_path(path: Path) -> str:
    """Show `path` relative to the working folder when it is inside it, with forward slashes."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Order findings by file, then position, then rule; unknown positions come first."""
    return sorted(
        findings,
        key=lambda item: (item.display_path, item.line or 0, item.column or 0, item.rule),
    )


def count_errors(findings: Iterable[Finding], *, strict: bool = False) -> int:
    """Count the findings that fail a run: errors, and warnings too when `strict`."""
    return sum(1 for finding in findings if strict or finding.severity == "error")


def format_findings(
    findings: Sequence[Finding], output_format: str, rules: Mapping[str, Rule]
) -> list[Text | str]:
    """Build the lines to print for `findings` in one of FORMATS."""
    if output_format == "json":
        return [format_json(findings)]
    if output_format == "github":
        return list(format_github(findings))
    if output_format == "sarif":
        return [format_sarif(findings, rules)]
    return list(format_text(findings))


# ----- text -----


def format_text(findings: Sequence[Finding]) -> list[Text]:
    """Build the lines of the human report, ending with a summary line."""
    lines: list[Text] = []
    for finding in findings:
        style = "bold red" if finding.severity == "error" else "yellow"
        line = Text(f"{finding.where}: ")
        line.append(finding.severity, style=style)
        line.append(f": {finding.message} ")
        line.append(f"[{finding.rule}]", style="dim")
        lines.append(line)
        if finding.fix:
            lines.append(Text(f"  fix: {finding.fix}", style="cyan"))
        if finding.detail:
            lines.extend(_diff_line(text) for text in finding.detail.splitlines())
    lines.append(Text(summarize(findings)))
    return lines


def _diff_line(text: str) -> Text:
    style = ""
    if text.startswith(("+++", "---")):
        style = "bold"
    elif text.startswith("+"):
        style = "green"
    elif text.startswith("-"):
        style = "red"
    elif text.startswith("@@"):
        style = "cyan"
    return Text("  " + text, style=style)


def summarize(findings: Sequence[Finding]) -> str:
    """Return the closing line: how many errors and warnings there are."""
    errors = sum(1 for finding in findings if finding.severity == "error")
    warnings = len(findings) - errors
    if not findings:
        return "no problems found"
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ----- JSON -----


def format_json(findings: Sequence[Finding]) -> str:
    """Return a JSON document with every finding and the counts."""
    errors = sum(1 for finding in findings if finding.severity == "error")
    document = {
        "findings": [
            {
                "rule": finding.rule,
                "severity": finding.severity,
                "path": finding.display_path,
                "line": finding.line,
                "column": finding.column,
                "message": finding.message,
                "fix": finding.fix,
                "detail": finding.detail,
            }
            for finding in findings
        ],
        "errors": errors,
        "warnings": len(findings) - errors,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


# ----- GitHub Actions workflow commands -----


def format_github(findings: Sequence[Finding]) -> list[str]:
    """Return one `::error` or `::warning` workflow command per finding.

    The syntax is `::LEVEL file=F,line=L,col=C,title=T::MESSAGE`. In the message `%`,
    CR and LF are percent-encoded; property values also encode `:` and `,`.
    """
    lines = []
    for finding in findings:
        properties = [f"file={_escape_property(finding.display_path)}"]
        if finding.line is not None:
            properties.append(f"line={finding.line}")
            if finding.column is not None:
                properties.append(f"col={finding.column}")
        properties.append(f"title={_escape_property(f'pinwright {finding.rule}')}")
        message = finding.message
        if finding.fix:
            message += f"\nfix: {finding.fix}"
        lines.append(f"::{finding.severity} {','.join(properties)}::{_escape_data(message)}")
    return lines


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# ----- SARIF 2.1.0 -----


def format_sarif(findings: Sequence[Finding], rules: Mapping[str, Rule]) -> str:
    """Return a SARIF 2.1.0 log with one run: the rules used and one result per finding.

    Artifact URIs are relative to the working folder, under the base id `%SRCROOT%`, and
    percent-encoded (RFC 3986) except for `/`, so `#`, `?`, `%` and `:` stay in the path.
    """
    used = sorted({finding.rule for finding in findings})
    rule_index = {rule_id: index for index, rule_id in enumerate(used)}
    driver: dict[str, Any] = {
        "name": "Pinwright",
        "version": _version(),
        "rules": [_sarif_rule(rules.get(rule_id), rule_id) for rule_id in used],
    }
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "results": [_sarif_result(finding, rule_index) for finding in findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def _sarif_rule(rule: Rule | None, rule_id: str) -> dict[str, Any]:
    severity = rule.severity if rule else "error"
    summary = rule.summary if rule else rule_id
    return {
        "id": rule_id,
        "shortDescription": {"text": summary},
        "defaultConfiguration": {"level": severity},
    }


def _sarif_result(finding: Finding, rule_index: Mapping[str, int]) -> dict[str, Any]:
    text = finding.message
    if finding.fix:
        text += f" Fix: {finding.fix}"
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": quote(finding.display_path, safe="/"), "uriBaseId": "%SRCROOT%"}
    }
    if finding.line is not None:
        region: dict[str, int] = {"startLine": finding.line}
        if finding.column is not None:
            region["startColumn"] = finding.column
        physical["region"] = region
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index[finding.rule],
        "level": finding.severity,
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
    }


def _version() -> str:
    try:
        return metadata.version("pinwright")
    except metadata.PackageNotFoundError:
        return "0"
