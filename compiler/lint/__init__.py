"""`pinwright lint`: find what is not pinned or not verified in any Dockerfile."""

from __future__ import annotations

from pathlib import Path

from compiler.findings import Finding
from compiler.lint.dockerfile import parse_dockerfile
from compiler.lint.rules import RULES, Context, check_instruction
from spec.errors import InvalidInputError, Location

__all__ = ["RULES", "DockerfileUnreadableError", "lint_dockerfile", "lint_text"]


class DockerfileUnreadableError(InvalidInputError):
    """A Dockerfile given to `lint` cannot be read as UTF-8 text."""


def lint_dockerfile(path: Path) -> list[Finding]:
    """Lint the Dockerfile at `path`; raises DockerfileUnreadableError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise DockerfileUnreadableError(
            f"cannot read Dockerfile: {reason}", location=Location(path)
        ) from error
    return lint_text(text, path)


def lint_text(text: str, path: Path) -> list[Finding]:
    """Lint Dockerfile text that came from `path`; a `# pinwright: ignore=RULE` line above
    an instruction silences that rule for the instruction."""
    context = Context()
    findings: list[Finding] = []
    for instruction in parse_dockerfile(text):
        for issue in check_instruction(instruction, context):
            if issue.rule in instruction.ignored:
                continue
            findings.append(
                Finding(
                    rule=issue.rule,
                    severity=RULES[issue.rule].severity,
                    path=path,
                    line=issue.line,
                    column=issue.column,
                    message=issue.message,
                    fix=issue.fix,
                )
            )
    return findings
