"""Loading catalogs: valid specs, and every problem reported at its YAML position."""

from __future__ import annotations

from pathlib import Path

import pytest

from spec.catalog import CatalogNotFoundError, UnknownImageError, load_catalog
from spec.errors import ProblemsError
from spec.models import AlpinePackagesInput, GithubTagInput, ImageInput
from tests.trees import write_tree

CONFIG = "registry: registry.example.test/team\nalpine: {mirror: 'http://127.0.0.1:9/alpine'}\n"


def load_problems(root: Path) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        load_catalog(root)
    prefix = str(root.resolve()) + "/"
    return [line.replace(prefix, "") for line in caught.value.lines()]


def test_valid_catalog_loads(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pinwright.yaml": CONFIG + "architectures: [x86_64, aarch64]\n",
            "images/app/image.yaml": """
                inputs:
                  base: {image: "alpine:3.20"}
                  tools: {alpine_packages: [busybox, "git>=2.40"]}
                  source: {github_tag: owner/repo, prefix: v}
                stages:
                  - base: base
                    packages: tools
                    steps:
                      - run: echo hello
                entrypoint: [/bin/sh]
            """,
        },
    )
    catalog = load_catalog(tmp_path)

    assert list(catalog.images) == ["app"]
    assert catalog.config.architectures == ["x86_64", "aarch64"]
    inputs = catalog.images["app"].spec.inputs
    assert inputs["base"] == ImageInput(image="alpine:3.20")
    assert inputs["tools"] == AlpinePackagesInput(alpine_packages=["busybox", "git>=2.40"])
    assert isinstance(inputs["source"], GithubTagInput)
    assert inputs["source"].prefix == "v"


def test_missing_config_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CatalogNotFoundError) as caught:
        load_catalog(tmp_path)
    assert "no pinwright.yaml found" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            "inputs:\n  base: {image: [unclosed\n",
            [
                "images/app/image.yaml:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'"
            ],
            id="yaml-syntax",
        ),
        pytest.param(
            "inputs: {}\ninputs: {}\n",
            [
                'images/app/image.yaml:2:1: invalid YAML: found duplicate key "inputs" with value "{}" (original value: "{}")'
            ],
            id="duplicate-key",
        ),
        pytest.param(
            "inputs:\n  base:\n    imag: alpine\n",
            [
                "images/app/image.yaml:3:5: inputs.base: unknown input kind 'imag' (did you mean 'image'?)"
            ],
            id="unknown-input-kind",
        ),
        pytest.param(
            "inputz: {}\n",
            ["images/app/image.yaml:1:1: unknown key 'inputz' (did you mean 'inputs'?)"],
            id="unknown-top-key",
        ),
        pytest.param(
            "inputs:\n  pkgs:\n    alpine_packages: busybox\n",
            [
                "images/app/image.yaml:3:22: inputs.pkgs.alpine_packages: input should be a valid list"
            ],
            id="wrong-type",
        ),
        pytest.param(
            "inputs:\n  src: {git_tag: 'https://example.test/r.git', prefixx: v}\n",
            ["images/app/image.yaml:2:48: unknown key 'prefixx' (did you mean 'prefix'?)"],
            id="unknown-option",
        ),
        pytest.param(
            "- just\n- a list\n",
            ["images/app/image.yaml:1:1: expected a mapping at the top of the file, found list"],
            id="not-a-mapping",
        ),
        pytest.param(
            "inputs:\n  base: {image: alpine}\nstages:\n  - base: nope\n",
            ["images/app/image.yaml:4:11: stage base 'nope' is not an input or an earlier stage"],
            id="unknown-stage-base",
        ),
        pytest.param(
            "template: Missing.j2\n",
            ["images/app/image.yaml:1:11: template 'Missing.j2' not found in app/"],
            id="missing-template",
        ),
    ],
)
def test_spec_problem_is_located(tmp_path: Path, spec: str, expected: list[str]) -> None:
    write_tree(tmp_path, {"pinwright.yaml": CONFIG, "images/app/image.yaml": spec})
    assert load_problems(tmp_path) == expected


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pinwright.yaml": "registry: r.example.test\narchitectures: [x86_64, sparc]\n",
            "images/one/image.yaml": "inputz: {}\ntemplatee: x\n",
            "images/two/image.yaml": "inputs:\n  a: {image: 'has space'}\n",
        },
    )
    problems = load_problems(tmp_path)

    assert len(problems) == 4
    assert problems[0].startswith("pinwright.yaml:2:25: architectures[1]: input should be")
    assert problems[1] == "images/one/image.yaml:1:1: unknown key 'inputz' (did you mean 'inputs'?)"
    assert (
        problems[2]
        == "images/one/image.yaml:2:1: unknown key 'templatee' (did you mean 'template'?)"
    )
    assert problems[3] == (
        "images/two/image.yaml:2:14: inputs.a.image: an image reference must not contain spaces"
    )


def test_select_rejects_unknown_image(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pinwright.yaml": CONFIG,
            "images/app/image.yaml": "inputs: {}\n",
            "images/app/Dockerfile.j2": "FROM scratch\n",
        },
    )
    catalog = load_catalog(tmp_path)

    assert catalog.select([]) == ["app"]
    with pytest.raises(UnknownImageError) as caught:
        catalog.select(["nope"])
    assert str(caught.value) == "unknown image 'nope' (catalog images: app)"
