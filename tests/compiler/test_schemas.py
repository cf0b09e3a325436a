"""The committed JSON Schemas match the models, and validate the project's own specs."""

from __future__ import annotations

import json

import jsonschema
from ruamel.yaml import YAML

from compiler.schemas import SCHEMA_FILES, render_schema
from tests.conftest import REPOSITORY


def test_committed_schemas_are_current() -> None:
    for file_name, model in SCHEMA_FILES.items():
        committed = (REPOSITORY / "schemas" / file_name).read_text()
        assert committed == render_schema(model, file_name), f"run `pinwright schema` ({file_name})"


def test_catalog_files_validate_against_schemas() -> None:
    yaml = YAML(typ="safe")
    config_schema = json.loads((REPOSITORY / "schemas/pinwright.schema.json").read_text())
    image_schema = json.loads((REPOSITORY / "schemas/image.schema.json").read_text())

    jsonschema.validate(yaml.load(REPOSITORY / "pinwright.yaml"), config_schema)
    specs = sorted((REPOSITORY / "images").glob("*/image.yaml"))
    assert len(specs) == 6
    for spec in specs:
        jsonschema.validate(yaml.load(spec), image_schema)
