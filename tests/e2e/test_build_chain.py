"""`pinwright build` and `update --build --push` with real buildah on loopback registries.

Images are small: a static busybox base pushed by the test registry helper, and
Dockerfiles that COPY a file or RUN busybox under chroot isolation. The upstream busybox
is committed by buildah too: buildah 1.28 cannot build twice on top of an image whose
config has no history ("history lists 2 non-empty layers, but we have 3 layers"). buildah keeps its
images in vfs storage under the test's temporary folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.build import chain
from compiler.build.process import CommandResult
from compiler.cli import main
from compiler.locked import LockedGitTag, LockedImage
from compiler.lockfile import write_lock
from compiler.resolve import build_lock
from spec.catalog import load_catalog
from tests.servers.images import BUSYBOX
from tests.servers.registry import RunningRegistry, start_registry
from tests.trees import write_tree

pytestmark = pytest.mark.e2e

if shutil.which("buildah") is None:
    pytest.skip("buildah is not installed (apt package buildah)", allow_module_level=True)


def storage_arguments(folder: Path) -> list[str]:
    return [
        "--root",
        str(folder / "root"),
        "--runroot",
        str(folder / "runroot"),
        "--storage-driver",
        "vfs",
        "--isolation",
        "chroot",
    ]


def push_upstream(
    registry: RunningRegistry,
    reference: str,
    scratch: Path,
    *,
    platforms: tuple[str, ...] = ("linux/amd64",),
    release: str = "1",
) -> str:
    """Commit a busybox image (an index for several platforms) with buildah and push it."""
    buildah = ["buildah", *storage_arguments(scratch)[:6]]
    (scratch / "files").mkdir(parents=True, exist_ok=True)
    (scratch / "files" / "release").write_text(release + "\n")
    config = registry.write_docker_config(scratch / "auth")
    images = []
    for platform in platforms:
        os_name, architecture = platform.split("/")
        container = run(
            [*buildah, "from", "--arch", architecture, "--os", os_name, "scratch"]
        ).strip()
        run([*buildah, "copy", container, str(BUSYBOX), "/bin/busybox"])
        run([*buildah, "copy", container, str(scratch / "files" / "release"), "/etc/release"])
        run(
            [
                *buildah,
                "config",
                "--arch",
                architecture,
                "--os",
                os_name,
                "--entrypoint",
                '["/bin/busybox"]',
                container,
            ]
        )
        images.append(run([*buildah, "commit", "--timestamp", "0", container]).strip())
    source = images[0]
    push = [*buildah, "push"]
    if len(platforms) > 1:
        source = "upstream-list"
        run([*buildah, "manifest", "create", source])
        for image in images:
            run([*buildah, "manifest", "add", source, image])
        push = [*buildah, "manifest", "push", "--all", "--format", "oci"]
    digest_file = scratch / "digest"
    run(
        [
            *push,
            "--tls-verify=false",
            "--authfile",
            str(config),
            "--digestfile",
            str(digest_file),
            source,
            f"docker://{registry.host}/{reference}",
        ]
    )
    return digest_file.read_text().strip()


def run(arguments: list[str]) -> str:
    completed = subprocess.run(arguments, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def write_chain_catalog(root: Path, registry: RunningRegistry, upstream: str) -> None:
    """Three images in a chain: `base` on an upstream busybox, `middle` on `base`, `top` on
    `middle`, plus `solo`, which no catalog image is built on or under."""
    host = registry.host
    write_tree(
        root,
        {
            "pinwright.yaml": f"""
                registry: {host}/catalog
                architectures: [x86_64]
                registries:
                  "{host}": {{insecure: true}}
            """,
            "images/base/image.yaml": f'inputs:\n  busybox: {{image: "{host}/{upstream}"}}\n',
            "images/base/Dockerfile.j2": (
                "FROM {{ inputs.busybox }}\nCOPY base.txt /base.txt\n"
                'RUN ["/bin/busybox", "mkdir", "-p", "/base"]\n'
            ),
            "images/base/base.txt": "base layer\n",
            "images/middle/image.yaml": "inputs:\n  base: {image: base}\n",
            "images/middle/Dockerfile.j2": "FROM {{ inputs.base }}\nCOPY middle.txt /middle.txt\n",
            "images/middle/middle.txt": "middle layer\n",
            "images/top/image.yaml": "inputs:\n  middle: {image: middle}\n",
            "images/top/Dockerfile.j2": "FROM {{ inputs.middle }}\nCOPY top.txt /top.txt\n",
            "images/top/top.txt": "top layer\n",
            "images/solo/image.yaml": f'inputs:\n  busybox: {{image: "{host}/{upstream}"}}\n',
            "images/solo/Dockerfile.j2": "FROM {{ inputs.busybox }}\n",
        },
    )


def run_cli(root: Path, *arguments: str) -> int:
    return main(["-C", str(root), *arguments])


def read_json(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


def pushed_digest(root: Path, image: str) -> str:
    pushed = read_json(root / f"images/{image}/image.build.json")["pushed"]
    assert isinstance(pushed, dict)
    digest = pushed["digest"]
    assert isinstance(digest, str)
    return digest


def locked_digest(root: Path, image: str, material: str) -> str:
    materials = read_json(root / f"images/{image}/image.lock.json")["materials"]
    assert isinstance(materials, dict)
    return str(materials[material])


@pytest.fixture
def chain_registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    """A basic-auth registry of this test alone, so its repositories start empty."""
    registry = start_registry(tmp_path / "registry", "basic")
    yield registry
    registry.stop()


@pytest.fixture
def chain_config(
    chain_registry: RunningRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain_registry.write_docker_config(tmp_path / "docker-config")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("PINWRIGHT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.usefixtures("chain_config")
def test_base_update_rolls_through_chain(
    chain_registry: RunningRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream_v1 = push_upstream(chain_registry, "upstream/busybox:1", tmp_path / "upstream-1")
    root = tmp_path / "catalog"
    write_chain_catalog(root, chain_registry, "upstream/busybox:1")
    storage = storage_arguments(tmp_path / "storage")

    assert run_cli(root, "update", "--build", "--push", *storage) == 0
    first = {name: pushed_digest(root, name) for name in ("base", "middle", "top", "solo")}
    assert locked_digest(root, "base", f"image:{chain_registry.host}/upstream/busybox:1") == (
        upstream_v1
    )
    assert locked_digest(root, "middle", "image:base") == first["base"]
    assert locked_digest(root, "top", "image:middle") == first["middle"]
    capsys.readouterr()

    # Nothing changed upstream: the record matches every Dockerfile, so nothing is built.
    assert run_cli(root, "build", "--changed-only", "--push", *storage) == 0
    assert capsys.readouterr().out == (
        "unchanged base\nunchanged middle\nunchanged solo\nunchanged top\n"
    )

    upstream_v2 = push_upstream(
        chain_registry, "upstream/busybox:1", tmp_path / "upstream-2", release="2"
    )
    assert upstream_v2 != upstream_v1
    assert run_cli(root, "update", "--build", "--push", "base", "middle", "top", *storage) == 0

    second = {name: pushed_digest(root, name) for name in ("base", "middle", "top")}
    for name in ("base", "middle", "top"):
        assert second[name] != first[name], name
    assert locked_digest(root, "middle", "image:base") == second["base"]
    assert locked_digest(root, "top", "image:middle") == second["middle"]
    assert pushed_digest(root, "solo") == first["solo"]
    dockerfile = (root / "images/top/Dockerfile").read_text()
    assert f"{chain_registry.host}/catalog/middle:latest@{second['middle']}" in dockerfile
    record = read_json(root / "images/top/image.build.json")
    assert record["pushed"] == {
        "repository": f"{chain_registry.host}/catalog/top",
        "digest": second["top"],
        "tags": {"latest": second["top"]},
    }


@pytest.mark.usefixtures("chain_config")
def test_failed_push_stops_dependents_only(
    chain_registry: RunningRegistry,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    push_upstream(chain_registry, "upstream/busybox:1", tmp_path / "upstream")
    root = tmp_path / "catalog"
    write_chain_catalog(root, chain_registry, "upstream/busybox:1")
    # `alone` sorts before `base`, so it is built and pushed before the registry stops.
    (root / "images/solo").rename(root / "images/alone")
    base_destination = f"docker://{chain_registry.host}/catalog/base:latest"

    real_run_command = chain.run_command

    def stop_registry_before_base_push(arguments: list[str], **options: object) -> CommandResult:
        if base_destination in arguments:
            chain_registry.stop()
        return real_run_command(arguments, **options)  # type: ignore[arg-type]

    delays: list[float] = []
    monkeypatch.setattr(chain, "run_command", stop_registry_before_base_push)
    monkeypatch.setattr(chain, "pause", delays.append)

    exit_code = run_cli(root, "update", "--build", "--push", *storage_arguments(tmp_path / "s"))
    captured = capsys.readouterr()

    assert exit_code == 1
    assert delays == [2.0, 4.0, 8.0]
    assert (root / "images/alone/image.build.json").is_file()
    assert not (root / "images/base/image.build.json").exists()
    assert not (root / "images/middle/image.lock.json").exists()
    assert not (root / "images/top/image.lock.json").exists()
    errors = captured.err.splitlines()
    assert len(errors) == 3
    assert errors[0].startswith(
        f"pushing base to {chain_registry.host}/catalog/base:latest failed after 4 attempts: "
    )
    assert "connection refused" in errors[0]
    assert errors[1] == "middle not updated: its base image base failed"
    assert errors[2] == "top not updated: its base image middle failed"


@pytest.mark.usefixtures("chain_config")
def test_clean_rebuild_gives_same_index_digest(
    chain_registry: RunningRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = chain_registry.host
    upstream = push_upstream(
        chain_registry,
        "upstream/multi:1",
        tmp_path / "upstream",
        platforms=("linux/amd64", "linux/arm64"),
    )
    root = tmp_path / "catalog"
    # COPY only: binfmt is not available, so an arm64 RUN step cannot run here.
    write_tree(
        root,
        {
            "pinwright.yaml": f"""
                registry: {host}/catalog
                architectures: [x86_64, aarch64]
                registries:
                  "{host}": {{insecure: true}}
            """,
            "images/web/image.yaml": f"""
                inputs:
                  busybox: {{image: "{host}/upstream/multi:1"}}
                  source: {{git_tag: "https://git.example.test/web.git"}}
                version_from: source
            """,
            "images/web/Dockerfile.j2": "FROM {{ inputs.busybox }}\nCOPY web.txt /web.txt\n",
            "images/web/web.txt": "web\n",
        },
    )
    write_lock_by_hand(root, host, upstream)
    assert run_cli(root, "compile") == 0

    digests = []
    for attempt in ("first", "second"):
        storage = storage_arguments(tmp_path / f"storage-{attempt}")
        assert run_cli(root, "build", "--push", *storage) == 0
        digests.append(pushed_digest(root, "web"))
    capsys.readouterr()

    assert digests[0] == digests[1]
    record = read_json(root / "images/web/image.build.json")
    assert record["platforms"] == ["linux/amd64", "linux/arm64"]
    assert record["pushed"] == {
        "repository": f"{host}/catalog/web",
        "digest": digests[0],
        "tags": {"latest": digests[0], "3.1.0": digests[0]},
    }
    index = json.loads(
        run(
            [
                "skopeo",
                "inspect",
                "--raw",
                "--tls-verify=false",
                "--authfile",
                str(tmp_path / "docker-config/config.json"),
                f"docker://{host}/catalog/web:3.1.0",
            ]
        )
    )
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert [entry["platform"]["architecture"] for entry in index["manifests"]] == [
        "amd64",
        "arm64",
    ]


def write_lock_by_hand(root: Path, host: str, upstream: str) -> None:
    """Lock `web` without a git server: the git input is written as resolved."""
    catalog = load_catalog(root)
    entry = catalog.images["web"]
    lock = build_lock(
        entry,
        catalog,
        {
            "busybox": LockedImage(
                declared=f"{host}/upstream/multi:1",
                reference=f"{host}/upstream/multi:1",
                digest=upstream,
                media_type="application/vnd.oci.image.index.v1+json",
                platforms=("linux/amd64", "linux/arm64"),
                source=f"http://{host}/v2/upstream/multi/manifests/1",
            ),
            "source": LockedGitTag(
                url="https://git.example.test/web.git",
                tag="3.1.0",
                version="3.1.0",
                commit="d" * 40,
            ),
        },
    )
    write_lock(entry.lock_path, lock)
