"""Read the expected findings of a corpus case and put actual findings in the same form."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from compiler.findings import Finding


def read_expected(path: Path) -> list[str]:
    """Return the lines of an expected-findings file, without comments and blank lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def describe_findings(findings: Iterable[Finding], root: Path) -> list[str]:
    """Write each finding as `RULE PATH:LINE[:COLUMN]`, with PATH relative to `root`."""
    described = []
    for finding in findings:
        where = finding.path.resolve().relative_to(root.resolve()).as_posix()
        if finding.line is not None:
            where += f":{finding.line}"
            if finding.column is not None:
                where += f":{finding.column}"
        described.append(f"{finding.rule} {where}")
    return sorted(described)
