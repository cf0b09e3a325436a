"""Changes between two sets of materials: what was added, removed or changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


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
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"


def diff_materials(image: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """Return the changes from `old` to `new`, sorted by material name."""
    changes = []
    for material in sorted(set(old) | set(new)):
        before = old.get(material)
        after = new.get(material)
        if before != after:
            changes.append(Change(image=image, material=material, old=before, new=after))
    return changes
