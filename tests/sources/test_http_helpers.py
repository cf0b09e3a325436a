"""Pure parts of the HTTP layer: URL redaction, retry delays and the cache folder."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
import pytest

from compiler.sources.http import default_cache_dir, redact_url
from compiler.sources.http.retry import compute_delay, is_retryable_status, parse_retry_after


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.test/a/b", "https://example.test/a/b"),
        ("https://user:pass@example.test:8443/a", "https://example.test:8443/a"),
        ("https://token@example.test/a", "https://example.test/a"),
        (
            "https://example.test/blob?X-Amz-Signature=abc&X-Amz-Credential=def&part=1",
            "https://example.test/blob?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&part=1",
        ),
        (
            "https://example.test/x?access_token=abc&sig=def&key=ghi&branch=v3.20",
            "https://example.test/x?access_token=REDACTED&sig=REDACTED&key=REDACTED&branch=v3.20",
        ),
        ("https://example.test/x#fragment", "https://example.test/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://example.test:notaport/x", "<invalid URL>"),
    ],
    ids=["plain", "userinfo", "user-only", "presigned", "tokens", "fragment", "ipv6", "bad-port"],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, False), (304, False), (404, False), (429, True), (500, True), (503, True), (599, True)],
)
def test_retryable_statuses(status: int, expected: bool) -> None:
    assert is_retryable_status(status) is expected


def test_retry_after_forms() -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)

    assert parse_retry_after(None) is None
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 7 ") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now=now) == 90.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None


def test_delay_grows_with_jitter_and_cap() -> None:
    delays = [
        compute_delay(attempt, backoff=0.5, max_wait=60.0, rng=random.Random(7))
        for attempt in range(4)
    ]

    for attempt, delay in enumerate(delays):
        assert 0.5 * 2**attempt * 0.5 <= delay <= 0.5 * 2**attempt
    assert compute_delay(10, backoff=0.5, max_wait=60.0, rng=random.Random(7)) == 60.0


def test_delay_honours_retry_after() -> None:
    assert compute_delay(0, backoff=0.5, max_wait=60.0, retry_after=30.0) == 30.0
    assert compute_delay(0, backoff=0.5, max_wait=60.0, retry_after=3600.0) == 60.0
    assert compute_delay(0, backoff=0.5, max_wait=60.0, retry_after=0.0) <= 0.5


def test_cache_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PINWRIGHT_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"

    monkeypatch.delenv("PINWRIGHT_CACHE_DIR")
    assert default_cache_dir() == Path(platformdirs.user_cache_dir()) / "pinwright"
