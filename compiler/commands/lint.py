"""`pinwright lint`: report unpinned images, packages and downloads in any Dockerfile."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.commands.validate import add_report_arguments, print_findings
from compiler.findings import Finding
from compiler.lint import RULES, lint_dockerfile


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lint", help="report what is not pinned or not verified in Dockerfiles"
    )
    parser.add_argument("dockerfiles", nargs="+", type=Path, metavar="DOCKERFILE")
    add_report_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    findings: list[Finding] = []
    for path in args.dockerfiles:
        findings.extend(lint_dockerfile(path))
    return print_findings(findings, args, RULES, console)
