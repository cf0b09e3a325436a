"""`pinwright schema`: write the JSON Schemas of pinwright.yaml and image.yaml."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from compiler.schemas import write_schemas


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("schema", help="write JSON Schemas of the spec files")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("schemas"),
        help="folder to write the schemas to (default: schemas/)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    for path in write_schemas(args.output):
        console.print(f"wrote {path}", markup=False)
    return 0
