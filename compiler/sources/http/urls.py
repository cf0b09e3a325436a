"""URL checks and the redaction applied before a URL reaches a log, an error or the cache."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Query parameter names that carry secrets in presigned or token URLs (S3, GCS, Azure SAS,
# GitHub and registry tokens). Matched case-insensitively against the whole name.
_SECRET_PARAMETER = re.compile(
    r".*(token|secret|password|passwd|signature|credential|apikey|api_key|auth).*|sig|key|code",
    re.IGNORECASE,
)
REDACTED = "REDACTED"


def redact_url(url: str) -> str:
    """Return `url` without userinfo and with the values of secret query parameters replaced.

    A URL that cannot be split is returned as the fixed text "<invalid URL>", so that
    nothing of it leaks.
    """
    try:
        parts = urlsplit(url)
        hostname = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"

    netloc = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None:
        netloc += f":{port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [
                (name, REDACTED if _SECRET_PARAMETER.fullmatch(name) else value)
                for name, value in pairs
            ],
            safe="/:",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def has_userinfo(url: str) -> bool:
    """Return True when `url` carries a user name or password before its host."""
    parts = urlsplit(url)
    return parts.username is not None or parts.password is not None


def split_host(url: str) -> tuple[str, str]:
    """Return the scheme and the `host:port` that `url` connects to, both lowercase.

    Raises ValueError when the URL is not http or https, or has no host or a bad port.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise ValueError(f"unsupported scheme {scheme!r}, only http and https are allowed")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, f"{parts.hostname.lower()}:{port}"
