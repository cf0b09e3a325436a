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
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from spec.errors import InvalidInputError, Location

# A path into a document: mapping keys and sequence indexes, outermost first.
NodePath = tuple[str | int, ...]


# Maximum number of values in a document once its aliases are expanded.
MAX_NODES = 100_000
STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("map", "seq", "str", "int", "float", "bool", "null")
)


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
    except RecursionError as error:
        raise YamlSyntaxError(
            "invalid YAML: values nested too deeply", location=Location(path)
        ) from error

    converter = _Converter(path)
    try:
        data = converter.convert(root, ())
    except RecursionError as error:
        raise YamlSyntaxError(
            "invalid YAML: values nested too deeply", location=Location(path)
        ) from error
    return Document(path=path, data=data, values=converter.values, keys=converter.keys)


class _Converter:
    """Convert ruamel's round-trip nodes to dicts, lists and scalars, recording positions.

    Aliases are expanded, so the number of nodes is capped: a few nested anchors can
    otherwise expand into billions of nodes. Tags other than YAML's standard ones are
    rejected, since specs never need them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[NodePath, tuple[int, int]] = {(): (1, 1)}
        self.keys: dict[NodePath, tuple[int, int]] = {}
        self.count = 0

    def convert(self, node: Any, node_path: NodePath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlSyntaxError(
                f"document has more than {MAX_NODES} values after expanding aliases",
                location=self._location(node_path),
            )
        self._check_tag(node, node_path)
        if isinstance(node, CommentedMap):
            return self._convert_mapping(node, node_path)
        if isinstance(node, CommentedSeq):
            return self._convert_sequence(node, node_path)
        if isinstance(node, TaggedScalar):
            return str(node.value)
        if isinstance(node, str):
            return str(node)
        return node

    def _convert_mapping(self, node: CommentedMap, node_path: NodePath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*node_path, key)
            if key in node.lc.data:
                key_line, key_column = node.lc.key(key)
                value_line, value_column = node.lc.value(key)
                self.keys[child] = (key_line + 1, key_column + 1)
                self.values[child] = (value_line + 1, value_column + 1)
            else:
                # A key merged in with `<<` has no position here: point at the mapping.
                self.keys[child] = self.values[child] = self.values.get(node_path, (1, 1))
            result[key] = self.convert(value, child)
        return result

    def _convert_sequence(self, node: CommentedSeq, node_path: NodePath) -> list[Any]:
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*node_path, index)
            line, column = node.lc.item(index)
            self.values[child] = (line + 1, column + 1)
            items.append(self.convert(value, child))
        return items

    def _check_tag(self, node: Any, node_path: NodePath) -> None:
        tag = getattr(node, "tag", None)
        value = getattr(tag, "value", tag) if tag is not None else None
        if value is None or value in STANDARD_TAGS:
            return
        raise YamlSyntaxError(f"unsupported YAML tag {value!r}", location=self._location(node_path))

    def _location(self, node_path: NodePath) -> Location:
        line, column = self.values.get(node_path, (1, 1))
        return Location(self.path, line, column)
