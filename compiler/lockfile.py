"""The lockfile `images/NAME/image.lock.json`: the bill of materials of one image.

The file is deterministic: sorted keys, two-space indentation, LF line endings, no
timestamps, written atomically.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.fsutil import format_json, write_atomic
from compiler.locked import LockedInput, locked_from_json
from spec.catalog import Catalog, ImageEntry
from spec.errors import InvalidInputError, Location

LOCK_FORMAT = 1


class LockInvalidError(InvalidInputError):
    """A lockfile that cannot be read: broken JSON, an unknown format or kind."""


@dataclass(frozen=True)
class Lock:
    """The resolved inputs of one image and the checksums of what they came from."""

    image: str
    spec_sha256: str
    inputs_sha256: str  # of the declared inputs and the config that affects resolution
    templates: Mapping[str, str]  # catalog-relative path -> sha256
    inputs: Mapping[str, LockedInput]

    def materials(self) -> dict[str, str]:
        """Return the flat map of material names to versions or digests."""
        result: dict[str, str] = {}
        for name in sorted(self.inputs):
            result.update(self.inputs[name].materials())
        return dict(sorted(result.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": LOCK_FORMAT,
            "image": self.image,
            "spec_sha256": self.spec_sha256,
            "inputs_sha256": self.inputs_sha256,
            "templates": dict(self.templates),
            "inputs": {name: locked.to_json() for name, locked in self.inputs.items()},
            "materials": self.materials(),
        }


def sha256_text(content: bytes) -> str:
    """Return the sha256 of text content with CRLF and CR line endings normalised to LF."""
    normalised = content.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return hashlib.sha256(normalised).hexdigest()


def sha256_json(value: Any) -> str:
    """Return the sha256 of the canonical JSON form of `value`."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def inputs_checksum(entry: ImageEntry, catalog: Catalog) -> str:
    """Return the sha256 of everything that decides what the inputs of `entry` resolve to.

    Mirrors and URL rewrites are left out: they change where things are fetched from,
    not what a reference means.
    """
    config = catalog.config
    declared = {
        name: value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        for name, value in entry.spec.inputs.items()
    }
    return sha256_json(
        {
            "inputs": declared,
            "architectures": list(config.architectures),
            "alpine": config.alpine.model_dump(mode="json", exclude={"mirror"}),
            "registry": config.registry,
        }
    )


def format_lock(lock: Lock) -> str:
    """Return the exact text of a lockfile."""
    return format_json(lock.to_json())


def write_lock(path: Path, lock: Lock) -> bool:
    """Write the lockfile atomically; returns False when it already had these bytes."""
    return write_atomic(path, format_lock(lock))


def read_lock(path: Path) -> Lock | None:
    """Read a lockfile, or return None when there is none.

    Raises LockInvalidError for a file that is not a lockfile of this format.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise LockInvalidError(f"cannot read lockfile: {error}", location=Location(path)) from error
    return parse_lock(text, path)


DIGEST = re.compile(r"^sha(256|384|512):[0-9a-f]{64,128}$")
HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
# Values that end up as one word in a Dockerfile: a version, a tag, a package name.
WORD = re.compile(r"^[^\s]+$")
RULES_BY_KEY: dict[str, tuple[re.Pattern[str], str]] = {
    "digest": (DIGEST, "a digest such as sha256:<64 hex digits>"),
    "sha256": (HEX_SHA256, "64 hex digits"),
    "commit": (COMMIT, "a commit hash of 40 or 64 hex digits"),
    "version": (WORD, "a version without spaces"),
    "tag": (WORD, "a tag without spaces"),
    "name": (WORD, "a name without spaces"),
}


def find_invalid_value(value: Any, where: str = "") -> str | None:
    """Return a description of the first value of lock data that cannot be trusted, or None.

    Every text must be free of control characters, because locked values are written
    into Dockerfiles, where a line break would start a new instruction. Digests,
    checksums, commits, versions, tags and names must also have their usual form.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            rule = RULES_BY_KEY.get(str(key))
            # A checksum may be missing where upstream publishes none; the others may not.
            optional = key == "sha256" and item in (None, "")
            if rule is not None and not optional:
                pattern, expected = rule
                if not isinstance(item, str) or not pattern.match(item):
                    return f"{inner}: expected {expected}, found {item!r}"
            problem = find_invalid_value(item, inner)
            if problem is not None:
                return problem
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = find_invalid_value(item, f"{where}[{index}]")
            if problem is not None:
                return problem
        return None
    if isinstance(value, str) and any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return f"{where}: control character in {value!r}"
    if value is None or isinstance(value, str | int | float):
        return None
    return f"{where}: unexpected value {value!r}"


def parse_lock(text: str, path: Path) -> Lock:
    """Parse lockfile text that came from `path`; raises LockInvalidError."""
    try:
        data = json.loads(text)
        problem = find_invalid_value(data)
    except json.JSONDecodeError as error:
        location = Location(path, error.lineno, error.colno)
        raise LockInvalidError(f"invalid JSON: {error.msg}", location=location) from error
    except RecursionError as error:
        raise LockInvalidError(
            "invalid lockfile: values nested too deeply; run `pinwright lock`",
            location=Location(path),
        ) from error
    if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise LockInvalidError(
            f"unsupported lockfile format {found!r} (expected {LOCK_FORMAT}); run `pinwright lock`",
            location=Location(path),
        )
    if problem is not None:
        raise LockInvalidError(
            f"invalid lockfile value {problem}; run `pinwright lock`", location=Location(path)
        )
    try:
        return Lock(
            image=data["image"],
            spec_sha256=data["spec_sha256"],
            inputs_sha256=data["inputs_sha256"],
            templates=dict(data["templates"]),
            inputs={name: locked_from_json(value) for name, value in data["inputs"].items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise LockInvalidError(
            f"malformed lockfile ({type(error).__name__}: {error}); run `pinwright lock`",
            location=Location(path),
        ) from error
