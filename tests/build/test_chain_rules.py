"""Pure rules of the build chain: masking, retry decisions, change detection, records."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.build.chain import change_reason, is_transient
from compiler.build.process import CommandResult, mask_arguments
from compiler.build.record import (
    BuildRecord,
    BuildRecordInvalidError,
    PushRecord,
    format_record,
    read_record,
    write_record,
)
from compiler.build.targets import BuildTarget
from spec.errors import Location

TARGET = BuildTarget(
    name="app",
    context="images/app",
    dockerfile="images/app/Dockerfile",
    repository="registry.example.test/team/app",
    tags=("latest", "1.2.3"),
    platforms=("linux/amd64",),
    depends_on=(),
    bases={},
)
PUSHED = PushRecord(
    repository="registry.example.test/team/app",
    digest="sha256:" + "e" * 64,
    tags={"latest": "sha256:" + "e" * 64, "1.2.3": "sha256:" + "e" * 64},
)


def test_mask_hides_credential_values() -> None:
    arguments = ["buildah", "push", "--creds", "user:secret", "--dest-creds=u:p", "image"]
    assert mask_arguments(arguments) == [
        "buildah",
        "push",
        "--creds",
        "***",
        "--dest-creds=***",
        "image",
    ]


def test_transient_errors_are_retried() -> None:
    refused = CommandResult(1, ("Error: dial tcp 127.0.0.1:1: connect: connection refused",))
    denied = CommandResult(1, ("Error: unauthorized: authentication required",))
    assert is_transient(refused)
    assert not is_transient(denied)
    assert denied.error_line == "Error: unauthorized: authentication required"


def test_change_reason_cases() -> None:
    record = BuildRecord("app", "a" * 64, ("linux/amd64",), "buildah", PUSHED)
    assert change_reason(None, "a" * 64, TARGET, push=False) == "never built"
    assert change_reason(record, "b" * 64, TARGET, push=False) == "Dockerfile changed"
    assert change_reason(record, "a" * 64, TARGET, push=True) is None
    unpushed = BuildRecord("app", "a" * 64, ("linux/amd64",), "buildah", None)
    assert change_reason(unpushed, "a" * 64, TARGET, push=False) is None
    assert change_reason(unpushed, "a" * 64, TARGET, push=True) == "not pushed"
    arm = BuildRecord("app", "a" * 64, ("linux/arm64",), "buildah", PUSHED)
    assert change_reason(arm, "a" * 64, TARGET, push=False) == "platforms changed"


def test_record_round_trip_is_deterministic(tmp_path: Path) -> None:
    record = BuildRecord("app", "a" * 64, ("linux/amd64",), "buildah", PUSHED)
    path = tmp_path / "image.build.json"

    assert write_record(path, record)
    assert not write_record(path, record)
    assert read_record(path) == record
    assert path.read_text() == format_record(record)
    assert read_record(tmp_path / "missing.json") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"a":' * 100_000,
            "invalid build record (JSON nested too deeply to read); delete it to build the "
            "image again",
        ),
        (
            "[]",
            "invalid build record ('list' object has no attribute 'get'); delete it to "
            "build the image again",
        ),
    ],
    ids=["deep", "array"],
)
def test_record_invalid_rejected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "image.build.json"
    path.write_text(text)

    with pytest.raises(BuildRecordInvalidError) as raised:
        read_record(path)

    assert raised.value.message == message
    assert raised.value.location == Location(path)
    assert raised.value.exit_code == 2
