"""Changes between two sets of materials: what was added, removed or changed, and how.

A change is classified by the values it moves between. Two digests (`sha256:...` or a
bare hex string of 32 characters or more) give "digest". Versions of `apk:` materials
are ordered the way apk-tools orders them. Other versions, such as git tags, are ordered
by Semantic Versioning when both sides parse as semver and by the loose ordering of
`compiler.versions` otherwise.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from compiler.apk.version import InvalidVersionError, compare_versions
from compiler.versions import Ordering, classify_change, parse_semver

ADDED = "added"
REMOVED = "removed"
MAJOR = "major"
MINOR = "minor"
PATCH = "patch"
PRERELEASE = "prerelease"
REVISION = "revision"  # only the apk package revision `-rN` changed
DIGEST = "digest"
DOWNGRADE = "downgrade"
CHANGED = "changed"  # a change that none of the other kinds describes

# Report wording of each kind.
KIND_LABELS: dict[str, str] = {
    ADDED: "added",
    REMOVED: "removed",
    MAJOR: "major",
    MINOR: "minor",
    PATCH: "patch",
    PRERELEASE: "prerelease",
    REVISION: "package revision",
    DIGEST: "digest only",
    DOWNGRADE: "downgrade",
    CHANGED: "changed",
}

# An OCI digest (`algorithm:hex`) or a bare hex digest such as a sha256 or a git commit.
DIGEST_PATTERN = re.compile(r"(?:[a-z0-9]+(?:[+._-][a-z0-9]+)*:)?(?P<hex>[0-9a-f]{32,})")
SHORT_DIGEST_LENGTH = 12

APK_REVISION = re.compile(r"-r\d+$")
APK_NUMBERS = re.compile(r"\d+(?:\.\d+)*")
APK_PRERELEASE_SUFFIX = re.compile(r"_(?:alpha|beta|pre|rc)\d*")
NON_DIGITS = re.compile(r"\D*")


@dataclass(frozen=True)
class Change:
    """One material of one image whose value differs between two locks.

    `old` is None for an added material and `new` is None for a removed one.
    """

    image: str
    material: str
    old: str | None
    new: str | None

    @property
    def action(self) -> str:
        """The action: added, removed or changed."""
        if self.old is None:
            return ADDED
        if self.new is None:
            return REMOVED
        return "changed"

    @cached_property
    def kind(self) -> str:
        """The classification of the change, one of the keys of KIND_LABELS."""
        return classify_material_change(self.material, self.old, self.new)

    @property
    def label(self) -> str:
        """The classification as it reads in reports, such as "digest only"."""
        return KIND_LABELS[self.kind]


def diff_materials(image: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """Return the changes from `old` to `new`, sorted by material name."""
    changes = []
    for material in sorted(set(old) | set(new)):
        before = old.get(material)
        after = new.get(material)
        if before != after:
            changes.append(Change(image=image, material=material, old=before, new=after))
    return changes


def classify_material_change(material: str, old: str | None, new: str | None) -> str:
    """Classify the step of `material` from `old` to `new` (None when absent on that side).

    Returns one of the keys of KIND_LABELS. Equal values give CHANGED, as does any pair
    of values that no ordering can compare.
    """
    if old is None:
        return ADDED
    if new is None:
        return REMOVED
    if is_digest(old) and is_digest(new):
        return DIGEST
    if material.startswith("apk:"):
        return classify_apk_change(old, new)
    return classify_tag_change(old, new)


def classify_apk_change(old: str, new: str) -> str:
    """Classify a step between two Alpine package versions such as `1.2.4-r1`."""
    try:
        order = compare_versions(old, new)
    except InvalidVersionError:
        return CHANGED
    if order == 0:
        return CHANGED
    if order > 0:
        return DOWNGRADE

    old_base = APK_REVISION.sub("", old)
    new_base = APK_REVISION.sub("", new)
    if old_base == new_base:
        return REVISION

    step = classify_release_numbers(_apk_numbers(old_base), _apk_numbers(new_base))
    if step is not None:
        return step
    # Equal numbers: the letter, a suffix such as `_p12` or `_git2023...` or the hash moved.
    if APK_PRERELEASE_SUFFIX.search(old_base) or APK_PRERELEASE_SUFFIX.search(new_base):
        return PRERELEASE
    return PATCH


def classify_tag_change(old: str, new: str) -> str:
    """Classify a step between two release tags, ignoring a shared prefix such as `go`."""
    prefix = NON_DIGITS.match(os.path.commonprefix([old, new]))
    length = len(prefix[0]) if prefix is not None else 0
    before, after = old[length:], new[length:]

    ordering: Ordering = "loose"
    if parse_semver(before) is not None and parse_semver(after) is not None:
        ordering = "semver"
    step = classify_change(before, after, ordering)
    if step in (MAJOR, MINOR, PATCH, PRERELEASE, DOWNGRADE):
        return step
    return CHANGED


def classify_release_numbers(old: tuple[int, ...], new: tuple[int, ...]) -> str | None:
    """Return MAJOR, MINOR or PATCH for the first release number that differs, else None.

    Missing trailing numbers count as zero, so `1.2` and `1.2.0` are equal.
    """
    width = max(len(old), len(new), 3)
    padded_old = old + (0,) * (width - len(old))
    padded_new = new + (0,) * (width - len(new))
    if padded_old[0] != padded_new[0]:
        return MAJOR
    if padded_old[1] != padded_new[1]:
        return MINOR
    if padded_old[2:] != padded_new[2:]:
        return PATCH
    return None


def is_digest(value: str) -> bool:
    """Return whether `value` is a content digest rather than a version."""
    return DIGEST_PATTERN.fullmatch(value) is not None


def shorten_value(value: str) -> str:
    """Cut a digest to its first 12 hex characters, without the algorithm; keep versions whole."""
    match = DIGEST_PATTERN.fullmatch(value)
    if match is None:
        return value
    return match["hex"][:SHORT_DIGEST_LENGTH]


def _apk_numbers(version: str) -> tuple[int, ...]:
    match = APK_NUMBERS.match(version)
    if match is None:
        return ()
    return tuple(int(part) for part in match[0].split("."))
