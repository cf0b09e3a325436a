"""Shared test fixtures: the real public data next to the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPOSITORY.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The folder of real public data beside the checkout; skips the test when it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real fixture data not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


# Loopback servers, shared by every test module that names them as fixtures.
from tests.servers.git import (  # noqa: E402, F401
    git_daemon,
    git_fixture_mirror,
    git_repositories,
    git_smart_http,
)
from tests.servers.registry import (  # noqa: E402, F401
    registry_anonymous,
    registry_basic,
    registry_token,
)
