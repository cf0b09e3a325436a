"""Graph export: text, JSON, dot, a Docker Bake file and a GitHub Actions workflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compiler.build.export import IdConflictError, format_bake, format_github_actions
from compiler.build.targets import BuildTarget, build_targets, version_tag
from compiler.cli import main
from compiler.locked import LockedGitTag, LockedImage
from compiler.lockfile import Lock, write_lock
from spec.catalog import load_catalog
from tests.trees import write_tree

REGISTRY = "registry.example.test/team"
BASE_DIGEST = "sha256:" + "b" * 64
ALPINE_DIGEST = "sha256:" + "a" * 64


@pytest.fixture
def catalog_root(tmp_path: Path) -> Path:
    """Three images: `base` on an outside image, `app` and `tool` on `base`."""
    write_tree(
        tmp_path,
        {
            "pinwright.yaml": f"registry: {REGISTRY}\narchitectures: [x86_64, aarch64]\n",
            "images/base/image.yaml": 'inputs:\n  alpine: {image: "alpine:3.20"}\n',
            "images/base/Dockerfile.j2": "FROM {{ inputs.alpine }}\n",
            "images/app/image.yaml": """
                inputs:
                  base: {image: base}
                  source: {git_tag: "https://git.example.test/app.git", prefix: v}
                version_from: source
            """,
            "images/app/Dockerfile.j2": "FROM {{ inputs.base }}\n",
            "images/tool/image.yaml": "inputs:\n  base: {image: base}\n",
            "images/tool/Dockerfile.j2": "FROM {{ inputs.base }}\n",
        },
    )
    base_reference = f"{REGISTRY}/base:latest"
    write_lock(
        tmp_path / "images/app/image.lock.json",
        Lock(
            image="app",
            spec_sha256="0" * 64,
            inputs_sha256="0" * 64,
            templates={},
            inputs={
                "base": LockedImage(
                    declared="base",
                    reference=base_reference,
                    digest=BASE_DIGEST,
                    media_type="application/vnd.oci.image.index.v1+json",
                    platforms=("linux/amd64", "linux/arm64"),
                    source=f"https://{REGISTRY}/v2/base/manifests/latest",
                ),
                "source": LockedGitTag(
                    url="https://git.example.test/app.git",
                    tag="v2.4.1+build.7",
                    version="2.4.1+build.7",
                    commit="c" * 40,
                ),
            },
        ),
    )
    return tmp_path


def run_graph(root: Path, capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    assert main(["-C", str(root), "graph", *arguments]) == 0
    return capsys.readouterr().out


def test_targets_order_tags_and_bases(catalog_root: Path) -> None:
    targets = build_targets(load_catalog(catalog_root))

    assert [target.name for target in targets] == ["base", "app", "tool"]
    app = targets[1]
    assert app.tags == ("latest", "2.4.1-build.7")
    assert app.references == (f"{REGISTRY}/app:latest", f"{REGISTRY}/app:2.4.1-build.7")
    assert app.platforms == ("linux/amd64", "linux/arm64")
    assert app.bases == {"base": f"{REGISTRY}/base:latest@{BASE_DIGEST}"}
    # `tool` has no lock yet, so its base is named by the tag the build resolves.
    assert targets[2].bases == {"base": f"{REGISTRY}/base:latest"}
    assert targets[0].tags == ("latest",)


def test_version_tag_rejects_unusable_versions() -> None:
    def lock_with(version: str) -> Lock:
        locked = LockedGitTag(url="u", tag=version, version=version, commit="c" * 40)
        return Lock("x", "0", "0", {}, {"source": locked})

    assert version_tag(lock_with("1.2.3"), "source") == "1.2.3"
    assert version_tag(lock_with("latest"), "source") is None
    assert version_tag(lock_with(".hidden"), "source") is None
    assert version_tag(lock_with("1" * 129), "source") is None
    assert version_tag(lock_with("1.2.3"), None) is None
    assert version_tag(None, "source") is None


def test_text_format(catalog_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_graph(catalog_root, capsys) == "base\napp <- base\ntool <- base\n"


def test_text_format_of_selection(catalog_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_graph(catalog_root, capsys, "tool") == "tool <- base\n"


def test_json_format(catalog_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(run_graph(catalog_root, capsys, "--format", "json"))

    assert document["order"] == ["base", "app", "tool"]
    assert document["images"]["tool"] == {
        "depends_on": ["base"],
        "context": "images/tool",
        "dockerfile": "images/tool/Dockerfile",
        "tags": [f"{REGISTRY}/tool:latest"],
        "platforms": ["linux/amd64", "linux/arm64"],
    }


def test_dot_format(catalog_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_graph(catalog_root, capsys, "--format", "dot") == (
        "digraph images {\n"
        "  rankdir=LR;\n"
        '  "base";\n'
        '  "app";\n'
        '  "tool";\n'
        '  "base" -> "app";\n'
        '  "base" -> "tool";\n'
        "}\n"
    )


def test_bake_file_structure(catalog_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = catalog_root / "docker-bake.json"
    printed = run_graph(catalog_root, capsys, "--format", "bake", "--output", str(output))
    bake = json.loads(output.read_text())

    assert printed == f"wrote {output}\n"
    # The keys `docker buildx bake --print` shows for a JSON definition: a `group` map of
    # `{targets: [...]}` and a `target` map of build options, with nothing else at the top.
    assert set(bake) == {"group", "target"}
    assert bake["group"] == {"default": {"targets": ["base", "app", "tool"]}}
    assert bake["target"]["base"] == {
        "context": "images/base",
        "dockerfile": "Dockerfile",
        "tags": [f"{REGISTRY}/base:latest"],
        "platforms": ["linux/amd64", "linux/arm64"],
    }
    assert bake["target"]["app"] == {
        "context": "images/app",
        "dockerfile": "Dockerfile",
        "tags": [f"{REGISTRY}/app:latest", f"{REGISTRY}/app:2.4.1-build.7"],
        "platforms": ["linux/amd64", "linux/arm64"],
        "contexts": {f"{REGISTRY}/base:latest@{BASE_DIGEST}": "target:base"},
    }
    assert bake["target"]["tool"]["contexts"] == {f"{REGISTRY}/base:latest": "target:base"}
    for name, target in bake["target"].items():
        assert isinstance(target["tags"], list), name
        for value in target.get("contexts", {}).values():
            assert value.removeprefix("target:") in bake["target"], name


def test_bake_of_selection_drops_contexts_outside_it(
    catalog_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bake = json.loads(run_graph(catalog_root, capsys, "--format", "bake", "app"))

    assert bake["group"] == {"default": {"targets": ["app"]}}
    assert "contexts" not in bake["target"]["app"]


def test_github_actions_workflow(catalog_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = run_graph(catalog_root, capsys, "--format", "github-actions")
    workflow = YAML(typ="safe", pure=True).load(text)

    assert workflow["on"] == {"workflow_dispatch": {}}
    assert list(workflow["jobs"]) == ["build-base", "build-app", "build-tool"]
    assert "needs" not in workflow["jobs"]["build-base"]
    assert workflow["jobs"]["build-app"]["needs"] == ["build-base"]
    assert workflow["jobs"]["build-tool"]["needs"] == ["build-base"]
    last_step = workflow["jobs"]["build-tool"]["steps"][-1]
    assert last_step["run"] == "pinwright build --push tool"


def make_target(name: str, bases: dict[str, str] | None = None) -> BuildTarget:
    """Return a target for `name` built on the catalog images in `bases`."""
    bases = bases or {}
    return BuildTarget(
        name, name, name, name, ("latest",), ("linux/amd64",), tuple(sorted(bases)), bases
    )


def test_github_actions_job_id_conflict() -> None:
    with pytest.raises(IdConflictError) as caught:
        format_github_actions([make_target("web.api"), make_target("web-api")])
    assert str(caught.value) == (
        "images 'web.api' and 'web-api' both map to GitHub Actions job id 'build-web-api'; "
        "rename one of them"
    )


def test_bake_maps_invalid_target_characters() -> None:
    targets = [
        make_target("web.api"),
        make_target("py3.12+tools", {"web.api": "r.test/web.api:latest"}),
    ]
    bake = json.loads(format_bake(targets))

    assert bake["group"] == {"default": {"targets": ["web-api", "py3-12-tools"]}}
    assert sorted(bake["target"]) == ["py3-12-tools", "web-api"]
    assert bake["target"]["py3-12-tools"]["contexts"] == {"r.test/web.api:latest": "target:web-api"}
    assert bake["target"]["web-api"]["context"] == "web.api"


def test_bake_target_name_conflict() -> None:
    with pytest.raises(IdConflictError) as caught:
        format_bake([make_target("web.api"), make_target("web-api")])
    assert str(caught.value) == (
        "images 'web.api' and 'web-api' both map to bake target name 'web-api'; rename one of them"
    )
    assert caught.value.exit_code == 2
