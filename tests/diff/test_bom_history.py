"""Real update history of a contempt-managed catalog: our diff against the recorded messages.

Each pair contains the first lines of a Dockerfile before and after one commit, and the
message contempt wrote for it. contempt cut every value to 12 characters and did not
report removed materials, so the comparison allows for both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.diff import diff_sides
from compiler.diff.sides import read_path_sides
from compiler.report import format_commit_message
from tests.conftest import SHARED_FIXTURES

HISTORY = SHARED_FIXTURES / "bom-history"
PAIRS = sorted(path.name for path in HISTORY.iterdir()) if HISTORY.is_dir() else []


def parse_message(text: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """Split a recorded message into the image name and `material -> (old, new)`."""
    lines = text.strip().splitlines()
    image, summary = lines[0][1:].split("] ", 1)
    body = lines[2:] if len(lines) > 1 else [summary]
    recorded = {}
    for line in body:
        material, values = line.split(" ", 1)
        old, new = values.split("->")
        recorded[material] = (old, new)
    return image, recorded


def read_raw_bom(path: Path) -> dict[str, str]:
    """Read the `# BOM:` JSON straight from the file, independently of the product."""
    for line in path.read_text().splitlines():
        if line.startswith("# BOM: "):
            return dict(json.loads(line[len("# BOM: ") :]))
    raise AssertionError(f"no BOM line in {path}")


@pytest.fixture
def history(fixtures_dir: Path) -> Path:
    return fixtures_dir / "bom-history"


def test_history_has_forty_pairs(history: Path) -> None:
    assert len(PAIRS) == 40


@pytest.mark.parametrize("pair", PAIRS)
def test_changes_match_recorded_message(history: Path, pair: str) -> None:
    folder = history / pair
    old_side, new_side = read_path_sides(folder / "old.Dockerfile", folder / "new.Dockerfile")
    image, recorded = parse_message((folder / "message.txt").read_text())

    changes = diff_sides(old_side, new_side)

    assert list(changes) == [image]
    reported = [change for change in changes[image] if change.new is not None]
    assert {change.material for change in reported} == set(recorded)
    raw_old = read_raw_bom(folder / "old.Dockerfile")
    raw_new = read_raw_bom(folder / "new.Dockerfile")
    for change in reported:
        old, new = recorded[change.material]
        assert raw_old.get(change.material, "")[:12] == old
        assert raw_new[change.material][:12] == new
        assert (change.old or "").removeprefix("sha256:") == raw_old.get(change.material, "")
        assert change.new.removeprefix("sha256:") == raw_new[change.material]


@pytest.mark.parametrize("pair", PAIRS)
def test_commit_message_equals_recorded(history: Path, pair: str) -> None:
    folder = history / pair
    old_side, new_side = read_path_sides(folder / "old.Dockerfile", folder / "new.Dockerfile")
    image, _ = parse_message((folder / "message.txt").read_text())

    changes = diff_sides(old_side, new_side)

    # No recorded value is a version longer than 12 characters, so the messages agree
    # even though Pinwright never cuts versions.
    assert (
        format_commit_message(image, changes[image]) == (folder / "message.txt").read_text().strip()
    )


def test_history_classifies_real_steps(history: Path) -> None:
    kinds = {}
    for pair in PAIRS:
        folder = history / pair
        changes = diff_sides(*read_path_sides(folder / "old.Dockerfile", folder / "new.Dockerfile"))
        for image_changes in changes.values():
            for change in image_changes:
                kinds[(pair, change.material)] = change.kind

    assert kinds[("001", "image:base")] == "digest"
    assert kinds[("005", "apk:busybox")] == "revision"
    assert kinds[("005", "apk:libssl3")] == "patch"
    assert kinds[("012", "github:tailscale/tailscale")] == "minor"
    assert kinds[("021", "apk:mpfr4")] == "patch"
    assert kinds[("034", "apk:ca-certificates")] == "major"
    assert kinds[("040", "golang")] == "patch"
