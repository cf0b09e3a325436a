"""JSON Schemas generated from the spec models, for editors and other tools."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from compiler.fsutil import write_atomic
from spec.models import CatalogConfig, ImageSpec

SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "pinwright.schema.json": CatalogConfig,
    "image.schema.json": ImageSpec,
}


def render_schema(model: type[BaseModel], file_name: str) -> str:
    """Return the JSON Schema text of `model`, stable byte for byte."""
    schema = model.model_json_schema(by_alias=True)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": file_name,
        **schema,
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into `folder`; returns the paths whose content changed."""
    written = []
    for file_name, model in SCHEMA_FILES.items():
        path = folder / file_name
        if write_atomic(path, render_schema(model, file_name)):
            written.append(path)
    return written
