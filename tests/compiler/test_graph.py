"""The image graph: order by dependencies, ties by name, cycles named."""

from __future__ import annotations

import pytest

from compiler.graph import (
    DependencyCycleError,
    order_images,
    with_dependencies,
    with_dependents,
)


def test_order_bases_first_ties_by_name() -> None:
    graph = {"svc-b": ["base"], "svc-a": ["base"], "base": ["root"], "root": [], "tool": []}
    assert order_images(graph) == ["root", "base", "svc-a", "svc-b", "tool"]


def test_cycle_is_named() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": []}
    with pytest.raises(DependencyCycleError) as caught:
        order_images(graph)
    assert str(caught.value) == "dependency cycle between images: a -> b -> c -> a"
    assert caught.value.exit_code == 2


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(DependencyCycleError) as caught:
        order_images({"a": ["a"]})
    assert str(caught.value) == "dependency cycle between images: a -> a"


def test_closure_helpers() -> None:
    graph = {"app": ["base"], "base": ["root"], "root": [], "other": ["root"]}
    assert with_dependencies(graph, ["app"]) == {"app", "base", "root"}
    assert with_dependents(graph, ["base"]) == {"base", "app"}
    assert with_dependents(graph, ["root"]) == {"root", "base", "app", "other"}
