"""The YAML examples in README.md stay valid as the models change."""

from __future__ import annotations

import re

from ruamel.yaml import YAML

from spec.models import CatalogConfig, ImageSpec
from tests.conftest import REPOSITORY


def yaml_blocks() -> list[object]:
    text = (REPOSITORY / "README.md").read_text()
    yaml = YAML(typ="safe")
    return [yaml.load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]


def test_readme_examples_validate() -> None:
    blocks = yaml_blocks()
    configs = [block for block in blocks if isinstance(block, dict) and "registry" in block]
    specs = [block for block in blocks if isinstance(block, dict) and "inputs" in block]

    assert len(configs) == 1
    assert len(specs) == 1
    CatalogConfig.model_validate(configs[0])
    ImageSpec.model_validate(specs[0])
