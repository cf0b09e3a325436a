"""The hooks in `.pre-commit-hooks.yaml` name real commands and match the right files."""

from __future__ import annotations

import re

import pytest
from ruamel.yaml import YAML

from compiler.cli import build_parser
from tests.conftest import REPOSITORY


def load_hooks() -> dict[str, dict[str, object]]:
    hooks = YAML(typ="safe").load((REPOSITORY / ".pre-commit-hooks.yaml").read_text())
    return {hook["id"]: hook for hook in hooks}


def test_hooks_run_registered_commands() -> None:
    hooks = load_hooks()
    assert sorted(hooks) == ["pinwright-check", "pinwright-lint", "pinwright-validate"]
    subcommands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for hook in hooks.values():
        program, command = str(hook["entry"]).split()
        assert program == "pinwright"
        assert command in subcommands
        assert hook["language"] == "python"


@pytest.mark.parametrize(
    ("hook", "path", "matches"),
    [
        ("pinwright-lint", "Dockerfile", True),
        ("pinwright-lint", "docker/Dockerfile.dev", True),
        ("pinwright-lint", "images/app/build.dockerfile", True),
        ("pinwright-lint", "images/app/Dockerfile.j2", False),
        ("pinwright-lint", "docs/dockerfiles.md", False),
        ("pinwright-validate", "images/app/image.yaml", True),
        ("pinwright-validate", "_includes/macros.j2", True),
        ("pinwright-validate", "images/app/Dockerfile", False),
        ("pinwright-check", "images/app/Dockerfile", True),
        ("pinwright-check", "images/app/image.lock.json", True),
        ("pinwright-check", "README.md", False),
    ],
)
def test_hook_file_patterns(hook: str, path: str, matches: bool) -> None:
    settings = load_hooks()[hook]
    included = re.search(str(settings["files"]), path) is not None
    excluded = "exclude" in settings and re.search(str(settings["exclude"]), path) is not None
    if matches:
        assert included
        assert not excluded
    else:
        assert not included or excluded
