"""The on-disk HTTP cache: a body and its validators per URL, nothing else.

Each entry is two files named by the sha256 of the URL: `<key>.body` contains the body and
`<key>.json` contains the validators (ETag, Last-Modified) with the sha256 and size of the
body. Both are written atomically, the body first, and an entry whose body does not match
its recorded digest counts as missing, so a reader never sees a mix of two versions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from compiler.fsutil import format_json, write_atomic

logger = logging.getLogger(__name__)

CACHE_DIR_VARIABLE = "PINWRIGHT_CACHE_DIR"
_FORMAT_VERSION = 1


def default_cache_dir() -> Path:
    """Return the cache folder: $PINWRIGHT_CACHE_DIR if set, else the user cache dir + pinwright."""
    override = os.environ.get(CACHE_DIR_VARIABLE)
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir()) / "pinwright"


@dataclass(frozen=True)
class CacheEntry:
    """A cached body and the validators to revalidate it with."""

    content: bytes
    etag: str | None
    last_modified: str | None

    def validators(self) -> dict[str, str]:
        """Return the headers of a conditional GET for this entry (RFC 9110 section 13.1)."""
        headers: dict[str, str] = {}
        if self.etag is not None:
            headers["If-None-Match"] = self.etag
        if self.last_modified is not None:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class ResponseCache:
    """Bodies and validators under one folder, keyed by the sha256 of the URL."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.folder / f"{key}.json", self.folder / f"{key}.body"

    def load(self, url: str) -> CacheEntry | None:
        """Return the entry for `url`, or None when it is missing, unreadable or inconsistent."""
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            content = body_path.read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.warning("ignoring unreadable cache entry %s: %s", meta_path.name, error)
            return None

        if not isinstance(meta, dict) or meta.get("version") != _FORMAT_VERSION:
            return None
        if meta.get("sha256") != hashlib.sha256(content).hexdigest():
            return None
        etag = meta.get("etag")
        last_modified = meta.get("last_modified")
        return CacheEntry(
            content=content,
            etag=etag if isinstance(etag, str) else None,
            last_modified=last_modified if isinstance(last_modified, str) else None,
        )

    def store(self, url: str, entry: CacheEntry) -> None:
        """Write `entry` for `url`: the body first, then the validators that point at it."""
        meta_path, body_path = self._paths(url)
        meta = {
            "version": _FORMAT_VERSION,
            "sha256": hashlib.sha256(entry.content).hexdigest(),
            "size": len(entry.content),
            "etag": entry.etag,
            "last_modified": entry.last_modified,
        }
        write_atomic(body_path, entry.content)
        write_atomic(meta_path, format_json(meta))
