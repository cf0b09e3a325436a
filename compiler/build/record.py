"""The build record `images/NAME/image.build.json`: what was last built and pushed.

The file is deterministic (sorted keys, two-space indentation, LF line endings, no
timestamps) and written atomically, like the lock beside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.fsutil import format_json, write_atomic
from spec.errors import InvalidInputError, Location

RECORD_FILE = "image.build.json"
RECORD_FORMAT = 1


class BuildRecordInvalidError(InvalidInputError):
    """A build record that cannot be read: broken JSON or an unknown format."""


@dataclass(frozen=True)
class PushRecord:
    """Where an image was pushed: the repository and the digest behind each tag."""

    repository: str
    digest: str
    tags: Mapping[str, str]  # tag -> digest

    def to_json(self) -> dict[str, Any]:
        return {"repository": self.repository, "digest": self.digest, "tags": dict(self.tags)}


@dataclass(frozen=True)
class BuildRecord:
    """The last successful build of one image; `pushed` is None until it is pushed."""

    image: str
    dockerfile_sha256: str
    platforms: tuple[str, ...]
    builder: str
    pushed: PushRecord | None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "image": self.image,
            "dockerfile_sha256": self.dockerfile_sha256,
            "platforms": list(self.platforms),
            "builder": self.builder,
            "pushed": None if self.pushed is None else self.pushed.to_json(),
        }


def record_path(image_directory: Path) -> Path:
    return image_directory / RECORD_FILE


def format_record(record: BuildRecord) -> str:
    """Return the exact text of a build record."""
    return format_json(record.to_json())


def write_record(path: Path, record: BuildRecord) -> bool:
    """Write the record atomically; returns False when the file already had these bytes."""
    return write_atomic(path, format_record(record))


def read_record(path: Path) -> BuildRecord | None:
    """Read a build record, or return None when there is none.

    Raises BuildRecordInvalidError for a file that is not a record of this format.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise BuildRecordInvalidError(
            f"cannot read build record: {error}", location=Location(path)
        ) from error
    try:
        data = json.loads(text)
        if data.get("format") != RECORD_FORMAT:
            raise ValueError(f"unsupported format {data.get('format')!r}")
        pushed = data["pushed"]
        return BuildRecord(
            image=data["image"],
            dockerfile_sha256=data["dockerfile_sha256"],
            platforms=tuple(data["platforms"]),
            builder=data["builder"],
            pushed=None
            if pushed is None
            else PushRecord(
                repository=pushed["repository"],
                digest=pushed["digest"],
                tags=dict(pushed["tags"]),
            ),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BuildRecordInvalidError(
            f"invalid build record ({error}); delete it to build the image again",
            location=Location(path),
        ) from error
    except RecursionError as error:
        raise BuildRecordInvalidError(
            "invalid build record (JSON nested too deeply to read); delete it to build the "
            "image again",
            location=Location(path),
        ) from error
