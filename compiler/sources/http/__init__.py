"""The shared HTTP layer: every source that talks HTTP goes through `HttpClient`."""

from compiler.sources.http.cache import default_cache_dir
from compiler.sources.http.client import (
    KIND_LIMITS,
    FetchError,
    HttpClient,
    HttpResponse,
    HttpStats,
)
from compiler.sources.http.urls import redact_url

__all__ = [
    "KIND_LIMITS",
    "FetchError",
    "HttpClient",
    "HttpResponse",
    "HttpStats",
    "default_cache_dir",
    "redact_url",
]
