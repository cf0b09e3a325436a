"""YAML loading with ruamel.yaml that keeps the line and column of every node.

Positions let validation errors point at `file:line:col`, so users find the
problem in their editor instead of guessing from a key path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from spec.errors import InvalidInputError, Location

# A path into a document: mapping keys and sequence indexes, outermost first.
NodePath = tuple[str | int, ...]


class YamlSyntaxError(InvalidInputError):
    """The file is not valid YAML, or uses a YAML feature Pinwright rejects."""


@dataclass(frozen=True)
class Document:
    """Plain data loaded from one YAML file, with the position of every node."""

    path: Path
    data: Any
    # 1-based (line, column) of each value, and of each mapping key under `keys`.
    values: dict[NodePath, tuple[int, int]]
    keys: dict[NodePath, tuple[int, int]]

    def locate(self, node_path: Sequence[str | int], *, key: bool = False) -> Location:
        """Return the location of the deepest existing node along `node_path`.

        Path elements that are not in the document (such as the names pydantic adds for
        union members) are skipped, so the location is that of the closest real node.
        """
        found: NodePath = ()
        current: NodePath = ()
        for element in node_path:
            candidate = (*current, element)
            if candidate in self.values or candidate in self.keys:
                current = candidate
                found = candidate
        if key and found in self.keys:
            line, column = self.keys[found]
        elif found in self.values:
            line, column = self.values[found]
        else:
            return Location(self.path, 1, 1)
        return Location(self.path, line, column)


def load_document(path: Path) -> Document:
    """Read and parse one YAML file.

    Raises YamlSyntaxError for unreadable files, syntax errors and duplicate keys.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise YamlSyntaxError(f"cannot read file: {error}", location=Location(path)) from error
    return parse_document(text, path)


def parse_document(text: str, path: Path) -> Document:
    """Parse YAML text that came from `path`; raises YamlSyntaxError."""
    yaml = YAML(typ="rt", pure=True)
    try:
        root = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        location = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        raise YamlSyntaxError(f"invalid YAML: {problem}", location=location) from error
    except YAMLError as error:
        raise YamlSyntaxError(f"invalid YAML: {error}", location=Location(path)) from error

    values: dict[NodePath, tuple[int, int]] = {(): (1, 1)}
    keys: dict[NodePath, tuple[int, int]] = {}
    data = _to_plain(root, (), values, keys)
    return Document(path=path, data=data, values=values, keys=keys)


def _to_plain(
    node: Any,
    node_path: NodePath,
    values: dict[NodePath, tuple[int, int]],
    keys: dict[NodePath, tuple[int, int]],
) -> Any:
    """Convert ruamel's round-trip nodes to dicts, lists and scalars, recording positions."""
    if isinstance(node, CommentedMap):
        result: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*node_path, key)
            key_line, key_column = node.lc.key(key)
            value_line, value_column = node.lc.value(key)
            keys[child] = (key_line + 1, key_column + 1)
            values[child] = (value_line + 1, value_column + 1)
            result[key] = _to_plain(value, child, values, keys)
        return result
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*node_path, index)
            line, column = node.lc.item(index)
            values[child] = (line + 1, column + 1)
            items.append(_to_plain(value, child, values, keys))
        return items
    if isinstance(node, str):
        return str(node)
    return node
