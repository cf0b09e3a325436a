"""The image graph: an input `image: NAME` naming a catalog image is an edge."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from spec.catalog import Catalog
from spec.errors import InvalidInputError, Location
from spec.models import ImageInput


class DependencyCycleError(InvalidInputError):
    """Catalog images depend on each other in a cycle; `cycle` starts and ends at one image."""

    def __init__(self, message: str, *, cycle: list[str], location: Location | None = None) -> None:
        super().__init__(message, location=location)
        self.cycle = cycle


def order_catalog(catalog: Catalog) -> list[str]:
    """Return every catalog image in dependency order.

    Raises DependencyCycleError located at the input that starts the cycle.
    """
    try:
        return order_images(catalog_dependencies(catalog))
    except DependencyCycleError as error:
        first, second = error.cycle[0], error.cycle[1]
        entry = catalog.images[first]
        names = [
            name
            for name, value in entry.spec.inputs.items()
            if isinstance(value, ImageInput) and value.image == second
        ]
        location = entry.document.locate(("inputs", names[0], "image")) if names else None
        raise DependencyCycleError(error.message, cycle=error.cycle, location=location) from error


def catalog_dependencies(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Return, for each image, the catalog images it names as inputs (sorted)."""
    graph: dict[str, tuple[str, ...]] = {}
    for name, entry in catalog.images.items():
        found = {
            value.image
            for value in entry.spec.inputs.values()
            if isinstance(value, ImageInput) and value.image in catalog.images
        }
        graph[name] = tuple(sorted(found))
    return graph


def order_images(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Sort images so each comes after the images it depends on; ties break by name.

    Raises DependencyCycleError naming the images of one cycle.
    """
    dependencies = {name: set(parents) for name, parents in graph.items()}
    dependents: dict[str, set[str]] = {name: set() for name in dependencies}
    for name, parents in dependencies.items():
        for parent in parents:
            dependents.setdefault(parent, set()).add(name)

    waiting = {name: len(parents) for name, parents in dependencies.items()}
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for child in dependents.get(name, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)

    if len(order) < len(dependencies):
        cycle = find_cycle({name: dependencies[name] for name in dependencies if name not in order})
        raise DependencyCycleError(
            "dependency cycle between images: " + " -> ".join(cycle), cycle=cycle
        )
    return order


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Return one cycle of `graph` as a path that starts and ends at the same image."""
    for start in sorted(graph):
        path = [start]
        seen = {start}
        current = start
        while True:
            parents = sorted(parent for parent in graph.get(current, ()) if parent in graph)
            if not parents:
                break
            current = parents[0]
            if current in seen:
                return [*path[path.index(current) :], current]
            path.append(current)
            seen.add(current)
    return sorted(graph)


def with_dependencies(graph: Mapping[str, Iterable[str]], names: Iterable[str]) -> set[str]:
    """Return `names` and every image they depend on, directly or not."""
    result: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in result:
            result.add(name)
            pending.extend(graph.get(name, ()))
    return result


def with_dependents(graph: Mapping[str, Iterable[str]], names: Iterable[str]) -> set[str]:
    """Return `names` and every image that depends on them, directly or not."""
    dependents: dict[str, set[str]] = {}
    for name, parents in graph.items():
        for parent in parents:
            dependents.setdefault(parent, set()).add(name)
    return with_dependencies(dependents, names)
