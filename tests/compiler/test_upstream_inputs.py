"""Spec models, locked forms and input scheduling of the upstream input kinds."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import ValidationError

from compiler.locked import locked_from_json
from compiler.locked_releases import (
    DistributionFile,
    LockedGoRelease,
    LockedNpm,
    LockedPostgresRelease,
    LockedPypi,
    LockedUrlChecksum,
    LockedUrlRegex,
    ReleaseFile,
)
from compiler.scheduling import DependencyFailedError, Job, run_jobs
from spec.errors import PinwrightError
from spec.models import ImageSpec, PostgresReleaseInput, UrlRegexInput

ARCHITECTURES = ("x86_64", "aarch64")


def parse_inputs(inputs: dict[str, Any]) -> ImageSpec:
    return ImageSpec.model_validate({"inputs": inputs})


def test_postgres_release_short_form() -> None:
    short = parse_inputs({"pg": {"postgres_release": 17}}).inputs["pg"]
    long = parse_inputs({"pg": {"postgres_release": {"major": 17}}}).inputs["pg"]

    assert isinstance(short, PostgresReleaseInput)
    assert short == long
    assert short.postgres_release.major == 17
    assert short.postgres_release.archive == "tar.bz2"


def test_url_regex_needs_capture_group() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_inputs({"v": {"url_regex": {"url": "https://example.org/", "regex": "v1"}}})

    assert "the regular expression needs a capture group" in str(caught.value)


def test_url_regex_input_kind() -> None:
    spec = parse_inputs({"v": {"url_regex": {"url": "https://example.org/", "regex": "v(1)"}}})

    assert isinstance(spec.inputs["v"], UrlRegexInput)


def test_empty_release_options_keep_kind() -> None:
    spec = parse_inputs({"a": {"alpine_release": None}, "g": {"go_release": {}}})

    dumped = {
        name: value.model_dump(mode="json", exclude_defaults=True)
        for name, value in spec.inputs.items()
    }
    assert dumped == {"a": {"alpine_release": {}}, "g": {"go_release": {}}}


LOCKED = [
    LockedGoRelease(
        version="1.23.4",
        file="archive",
        listing="https://go.dev/dl/?mode=json",
        architectures={
            "x86_64": ReleaseFile("https://go.dev/dl/a.tar.gz", "a" * 64),
            "aarch64": ReleaseFile("https://go.dev/dl/b.tar.gz", "b" * 64),
        },
    ),
    LockedPostgresRelease(
        major=17,
        version="17.2",
        listing="https://ftp.postgresql.org/pub/source/",
        architectures={"x86_64": ReleaseFile("https://x/p.tar.bz2", "c" * 64)},
    ),
    LockedPypi(
        project="httpie",
        version="3.2.4",
        files=(DistributionFile("httpie-3.2.4.tar.gz", "https://x/h.tar.gz", "d" * 64, "sdist"),),
    ),
    LockedNpm(
        package="@types/node",
        version="20.17.9",
        tarball="https://x/node.tgz",
        integrity="sha512-AAAA",
        shasum="e" * 40,
    ),
    LockedUrlRegex(name="tool", url="https://x/", regex="v(1)", value="1"),
    LockedUrlChecksum(
        name="notice",
        template="https://x/{{ inputs.tool }}",
        architectures={"x86_64": ReleaseFile("https://x/1", "f" * 64)},
    ),
]


@pytest.mark.parametrize("locked", LOCKED, ids=[type(item).__name__ for item in LOCKED])
def test_locked_round_trip(locked: Any) -> None:
    assert locked_from_json(locked.to_json()) == locked


def test_release_value_first_architecture() -> None:
    value = LOCKED[0].template_value(("aarch64", "x86_64"))

    assert str(value) == "1.23.4"
    assert value.url == "https://go.dev/dl/b.tar.gz"
    assert value.sha256 == "b" * 64
    assert list(value.arch) == ["aarch64", "x86_64"]
    assert value.arch["x86_64"].url == "https://go.dev/dl/a.tar.gz"


def test_checksum_materials_per_architecture() -> None:
    shared = ReleaseFile("https://x/notice", "1" * 64)
    one_url = LockedUrlChecksum("n", "t", {"x86_64": shared, "aarch64": shared})
    per_arch = LockedUrlChecksum(
        "n", "t", {"x86_64": shared, "aarch64": ReleaseFile("https://x/arm", "2" * 64)}
    )

    assert one_url.materials() == {"url:n": "1" * 64}
    assert per_arch.materials() == {"url:n:x86_64": "1" * 64, "url:n:aarch64": "2" * 64}
    assert str(per_arch.template_value(ARCHITECTURES)) == "1" * 64


def test_jobs_receive_dependency_results() -> None:
    def constant(value: int) -> Job[str]:
        return Job(call=lambda dependency_results: value)

    def total(dependency_results: Mapping[str, Any]) -> int:
        return sum(dependency_results.values())

    jobs = {
        "a": constant(1),
        "b": constant(2),
        "sum": Job(call=total, dependencies=frozenset("ab")),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = run_jobs(pool, jobs)

    assert results == {"a": 1, "b": 2, "sum": 3}


def test_jobs_after_failure_and_cycle() -> None:
    def fail(dependency_results: Mapping[str, Any]) -> int:
        raise PinwrightError("broken")

    jobs: dict[str, Job[str]] = {
        "bad": Job(call=fail),
        "child": Job(call=lambda dependency_results: 1, dependencies=frozenset({"bad"})),
        "grandchild": Job(call=lambda dependency_results: 2, dependencies=frozenset({"child"})),
        "x": Job(call=lambda dependency_results: 3, dependencies=frozenset({"y"})),
        "y": Job(call=lambda dependency_results: 4, dependencies=frozenset({"x"})),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = run_jobs(pool, jobs)

    assert str(results["bad"]) == "broken"
    assert isinstance(results["child"], DependencyFailedError)
    assert str(results["child"]) == "not resolved because bad failed"
    assert str(results["grandchild"]) == "not resolved because child failed"
    assert str(results["x"]) == "not resolved because x, y wait on each other in a dependency cycle"
    assert str(results["y"]) == str(results["x"])
