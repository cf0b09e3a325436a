"""Settings of one run that reaches upstream: concurrency and the download cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_JOBS = 16


@dataclass(frozen=True)
class ResolveOptions:
    """Network settings of one run: concurrency, offline mode and the download cache."""

    jobs: int = DEFAULT_JOBS
    offline: bool = False
    refresh: bool = False
    cache_dir: Path | None = None
