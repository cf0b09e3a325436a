"""`pinwright validate`: check specs, config, image graph and templates, with no network."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.findings import FORMATS, Finding, Rule, count_errors, format_findings, sort_findings
from compiler.validate import RULES, validate_catalog


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate", help="check specs, config, image graph and templates (no network)"
    )
    add_report_arguments(parser)
    parser.set_defaults(run=run)


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every checking command shares: the output format and --strict."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="output format: text, json, github (workflow commands) or sarif (default: text)",
    )
    parser.add_argument("--strict", action="store_true", help="exit with status 1 on warnings too")


def print_findings(
    findings: Sequence[Finding],
    args: argparse.Namespace,
    rules: Mapping[str, Rule],
    console: Console,
) -> int:
    """Print the findings in the requested format; return 1 when any fails the run, else 0."""
    ordered = sort_findings(findings)
    for line in format_findings(ordered, args.format, rules):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return 1 if count_errors(ordered, strict=args.strict) else 0


def run(args: argparse.Namespace, console: Console) -> int:
    _, report = validate_catalog(Path(args.catalog))
    return print_findings(report.findings, args, RULES, console)
