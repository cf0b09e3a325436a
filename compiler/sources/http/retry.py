"""When to retry a request and how long to wait first."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# 429 Too Many Requests and every 5xx are worth another try, per RFC 9110 section 15.6.
TOO_MANY_REQUESTS = 429


def is_retryable_status(status: int) -> bool:
    """Return True for statuses that a later try may not get: 429 and 5xx."""
    return status == TOO_MANY_REQUESTS or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a `Retry-After` value, delay-seconds or an HTTP date, into seconds from now.

    Returns None when the value is absent or invalid, and 0.0 for a date in the past.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (moment - current).total_seconds())


def compute_delay(
    attempt: int,
    *,
    backoff: float,
    max_wait: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Return the seconds to wait before try number `attempt + 1` (attempt counts from 0).

    The delay is exponential, `backoff * 2**attempt`, with jitter that keeps between half
    and all of it, so that clients that failed together do not retry together. A server's
    `Retry-After` wins when it requests a longer wait. The result never exceeds `max_wait`.
    """
    jitter = rng.uniform(0.5, 1.0) if rng is not None else random.uniform(0.5, 1.0)
    delay = backoff * 2.0**attempt * jitter
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, max_wait)
