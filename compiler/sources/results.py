"""The on-disk cache of look-up results that are not plain HTTP downloads.

A registry resolution (reference to digest) and a git tag listing are each stored as one
JSON file, `<sha256 of KIND and KEY>.result.json`, in the folder of the HTTP cache. Every
online run overwrites the entries it looked up, and an offline run reads only these
files. The file also contains the kind and key, so an entry is used only for the look-up
it was written for. Callers pass keys and values without credentials, because the files
are stored in plain text.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from compiler.fsutil import format_json, write_atomic
from spec.errors import PinwrightError

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1
OFFLINE_HINT = "run without --offline"


class CachedResultMissingError(PinwrightError):
    """An offline look-up whose result no earlier online run stored in the cache."""


class ResultCache:
    """JSON results under one folder, keyed by the sha256 of their kind and key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, kind: str, key: str) -> Path:
        """Return the file of the entry (`kind`, `key`), which need not exist."""
        digest = hashlib.sha256(f"{kind}\n{key}".encode()).hexdigest()
        return self.folder / f"{digest}.result.json"

    def load(self, kind: str, key: str) -> Any | None:
        """Return the stored value of (`kind`, `key`), or None when it is missing or unreadable."""
        path = self.path_for(kind, key)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.warning("ignoring unreadable cache entry %s: %s", path.name, error)
            return None

        if not isinstance(document, dict) or document.get("version") != _FORMAT_VERSION:
            return None
        if document.get("kind") != kind or document.get("key") != key:
            return None
        return document.get("value")

    def store(self, kind: str, key: str, value: Any) -> None:
        """Write `value`, a JSON-serialisable object, as the entry of (`kind`, `key`).

        A failed write is logged and otherwise ignored, because a missing entry costs only
        the offline runs that need it, and those report the miss.
        """
        document = {"version": _FORMAT_VERSION, "kind": kind, "key": key, "value": value}
        path = self.path_for(kind, key)
        try:
            write_atomic(path, format_json(document))
        except OSError as error:
            logger.warning(
                "cannot write the cache entry %s in %s: %s",
                path.name,
                self.folder,
                error.strerror or error,
            )
