"""Settings of one run that reaches upstream: concurrency and the download cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_JOBS = 8


@dataclass(frozen=True)
class ResolveOptions:
    """How a run reaches upstream."""

    jobs: int = DEFAULT_JOBS
    offline: bool = False
    refresh: bool = False
    cache_dir: Path | None = None
