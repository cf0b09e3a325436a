"""Dependency chains: why a package is in a resolved closure.

A solution records, for every package, the names that pulled it in (`required_by`, with
"world" for world entries). The chains read from the world down to the package.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from compiler.apk.solver import WORLD

MAX_PATHS = 10


def find_dependency_paths(
    required_by: Mapping[str, tuple[str, ...]], package: str, *, limit: int = MAX_PATHS
) -> list[tuple[str, ...]]:
    """Return the shortest chains `world -> ... -> package`, at most `limit`, sorted.

    Every chain has the same, minimal length. Returns [] when `package` has no chain to
    the world in `required_by`. A package brought in by install_if lists each of its
    conditions as a requirer, so a chain may pass through any one of them.
    """
    distance = _distances_to(required_by, package)
    if WORLD not in distance:
        return []

    # Walk down from the world, always to a name one step closer to the package.
    children: dict[str, list[str]] = {}
    for child, parents in required_by.items():
        if child not in distance:
            continue
        for parent in parents:
            if distance.get(parent) == distance[child] + 1:
                children.setdefault(parent, []).append(child)

    paths: list[tuple[str, ...]] = []
    stack: list[tuple[str, ...]] = [(WORLD,)]
    while stack and len(paths) < limit:
        path = stack.pop()
        if path[-1] == package:
            paths.append(path)
            continue
        for child in sorted(children.get(path[-1], ()), reverse=True):
            stack.append((*path, child))
    return paths


def _distances_to(required_by: Mapping[str, tuple[str, ...]], package: str) -> dict[str, int]:
    """Return how many steps each name is from `package`, following `required_by` upwards."""
    distance = {package: 0}
    queue = deque([package])
    while queue:
        name = queue.popleft()
        for parent in required_by.get(name, ()):
            if parent not in distance:
                distance[parent] = distance[name] + 1
                queue.append(parent)
    return distance
