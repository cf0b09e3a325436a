"""A value scraped from a web page: the first capture group of the first match."""

from __future__ import annotations

import logging
import re

from compiler.locked_releases import LockedUrlRegex
from compiler.sources.http import HttpClient
from spec.errors import PinwrightError

logger = logging.getLogger(__name__)


class UrlRegexNoMatchError(PinwrightError):
    """The regular expression of a `url_regex` input matches nothing on its page."""


def extract_capture(text: str, regex: str, *, source: str) -> str:
    """Return the first capture group of the first match of `regex` in `text`.

    Raises UrlRegexNoMatchError, naming `source`, when nothing matches or the first group
    took no part in the match.
    """
    match = re.search(regex, text)
    if match is None:
        raise UrlRegexNoMatchError(f"{regex!r} matches nothing in {source}")
    value = match.group(1)
    if value is None:
        raise UrlRegexNoMatchError(
            f"{regex!r} matches {source} at {match.start()}, but its first group is empty"
        )
    return value


def resolve_url_regex(http: HttpClient, *, name: str, url: str, regex: str) -> LockedUrlRegex:
    """Download `url` and read the value; raises FetchError or UrlRegexNoMatchError."""
    response = http.fetch(url)
    text = response.content.decode("utf-8", errors="replace")
    value = extract_capture(text, regex, source=url)
    logger.info("%s from %s is %s", name, url, value)
    return LockedUrlRegex(name=name, url=url, regex=regex, value=value)
