"""Shared helpers for sources that read upstream documents: JSON, YAML and checksum files."""

from __future__ import annotations

import json
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from spec.errors import PinwrightError

SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


class DocumentInvalidError(PinwrightError):
    """An upstream document that cannot be parsed or lacks a field Pinwright needs."""


def parse_json(content: bytes, *, source: str) -> Any:
    """Parse a JSON document; raises DocumentInvalidError naming `source`."""
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DocumentInvalidError(f"{source} is not valid JSON: {error}") from None


def parse_yaml(content: bytes, *, source: str) -> Any:
    """Parse a YAML document with every scalar as a string, so `3.20` stays `3.20`.

    Raises DocumentInvalidError naming `source`.
    """
    try:
        return YAML(typ="base").load(content.decode("utf-8"))
    except (UnicodeDecodeError, YAMLError) as error:
        raise DocumentInvalidError(f"{source} is not valid YAML: {error}") from None


def require_sha256(value: Any, *, source: str, item: str) -> str:
    """Return `value` as a lowercase hex sha256; raises DocumentInvalidError otherwise."""
    if not isinstance(value, str) or not SHA256_PATTERN.fullmatch(value.lower()):
        raise DocumentInvalidError(f"{source}: {item} has no valid sha256, found {value!r}")
    return value.lower()


def require_text(record: Any, key: str, *, source: str, item: str) -> str:
    """Return the non-empty string `record[key]`; raises DocumentInvalidError otherwise."""
    value = record.get(key) if isinstance(record, dict) else None
    if not isinstance(value, str) or not value:
        raise DocumentInvalidError(f"{source}: {item} has no {key!r} text field")
    return value


def parse_sha256_file(content: bytes, filename: str, *, source: str) -> str:
    """Return the sha256 listed for `filename` in a `sha256sum` style checksum file.

    Each line is `HEX  NAME` or `HEX *NAME`; a file with a single bare hash also counts.
    Raises DocumentInvalidError when no line gives a sha256 for `filename`.
    """
    text = content.decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        digest, _, name = line.partition(" ")
        name = name.strip().lstrip("*")
        if name.rsplit("/", 1)[-1] == filename and SHA256_PATTERN.fullmatch(digest.lower()):
            return digest.lower()
    if len(lines) == 1 and SHA256_PATTERN.fullmatch(lines[0].lower()):
        return lines[0].lower()
    raise DocumentInvalidError(f"{source} lists no sha256 for {filename}")
