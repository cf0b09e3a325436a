"""Lock the project's own catalog against the offline snapshot of upstream.

These machines cannot reach upstream, so the committed locks and Dockerfiles under
`images/` are resolved against loopback stand-ins:

- Alpine: the real signed v3.20.2 `main` x86_64 index from the shared fixtures, served
  as a mirror on 127.0.0.1:8780 (a fixed port, because the lock records index URLs);
- git: the real tag references of GitHub repositories from the shared fixtures,
  reached through `git.url_rewrites`;
- images: one-file images pushed into a loopback registry that stands in for
  Docker Hub and ghcr.io through `registries.HOST.mirror`. Their digests are not
  the real images' digests.

Run `python -m tests.snapshot` from the repository root to rewrite the locks and
Dockerfiles under `images/`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ruamel.yaml import YAML

from compiler.cli import main
from tests.conftest import REPOSITORY, SHARED_FIXTURES
from tests.servers.git import start_static_mirror
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror
from tests.servers.registry import RunningRegistry, start_registry

APK_MIRROR_PORT = 8780
APK_RELEASES = ("3.20.2-main-x86_64",)

# Stand-in images: (mirror path, tag, platforms). `hub/` stands in for Docker Hub and
# `ghcr/` for ghcr.io, where the catalog's own images live.
STAND_INS = (
    ("hub/library/alpine", "3.20", ("linux/amd64", "linux/arm64")),
    ("hub/library/golang", "1.23-alpine", ("linux/amd64", "linux/arm64")),
    ("ghcr/pinwright/alpine", "latest", ("linux/amd64",)),
    ("ghcr/pinwright/base", "latest", ("linux/amd64",)),
    ("ghcr/pinwright/golang", "latest", ("linux/amd64",)),
)
GENERATED = ("image.lock.json", "Dockerfile")


def push_stand_ins(registry: RunningRegistry) -> dict[str, str]:
    """Push one small distinct image per stand-in; returns digests by repository path."""
    digests = {}
    for repository, tag, platforms in STAND_INS:
        # A text file alone keeps the digests the same on every machine, whatever busybox
        # build its packages hold.
        files = {"etc/stand-in": f"{repository}:{tag}\n".encode()}
        digests[repository] = registry.push(
            repository, tag, platforms=platforms, files=files, index=True
        )
    return digests


def write_overlay_config(source: Path, target: Path, registry: str, git_mirror: str) -> None:
    """Copy `pinwright.yaml`, routing every upstream through the loopback stand-ins."""
    yaml = YAML()
    config = yaml.load(source.read_text())
    config["alpine"]["mirror"] = f"http://127.0.0.1:{APK_MIRROR_PORT}/alpine"
    config["registries"] = {
        registry: {"insecure": True},
        "docker.io": {"mirror": f"http://{registry}/hub"},
        "ghcr.io": {"mirror": f"http://{registry}/ghcr"},
    }
    config["git"] = {"url_rewrites": {"https://github.com/": f"{git_mirror}/github.com/"}}
    with target.open("w") as stream:
        yaml.dump(config, stream)


def copy_catalog(source: Path, target: Path) -> None:
    """Copy the catalog's inputs (specs, templates, includes), not its generated files."""
    shutil.copytree(source / "_includes", target / "_includes")
    for spec in sorted((source / "images").glob("*/image.yaml")):
        shutil.copytree(
            spec.parent,
            target / "images" / spec.parent.name,
            ignore=shutil.ignore_patterns(*GENERATED),
        )


@contextmanager
def snapshot_upstream(workdir: Path) -> Iterator[tuple[RunningRegistry, str]]:
    """Start the loopback stand-ins; yields the registry and the git mirror URL."""
    with ExitStack() as stack:
        mirror_root = workdir / "mirror"
        build_apk_mirror(mirror_root / "alpine", APK_RELEASES)
        mirror = LoopbackHttpServer(mirror_root, port=APK_MIRROR_PORT).start()
        stack.callback(mirror.stop)
        git_mirror = start_static_mirror(SHARED_FIXTURES / "git")
        stack.callback(git_mirror.stop)
        registry = start_registry(workdir / "registry", "anonymous")
        stack.callback(registry.stop)
        push_stand_ins(registry)
        yield registry, git_mirror.base_url


def lock_snapshot(catalog: Path, output: Path) -> int:
    """Run `pinwright update` on a copy of `catalog` against the stand-ins.

    The generated files land in `output/images/NAME/`. Returns the exit code.
    """
    with tempfile.TemporaryDirectory(prefix="pinwright-snapshot-") as temporary:
        workdir = Path(temporary)
        work_catalog = workdir / "catalog"
        copy_catalog(catalog, work_catalog)
        with snapshot_upstream(workdir) as (registry, git_mirror):
            write_overlay_config(
                catalog / "pinwright.yaml",
                work_catalog / "pinwright.yaml",
                registry.host,
                git_mirror,
            )
            code = main(["-C", str(work_catalog), "update", "--cache-dir", str(workdir / "cache")])
        for generated in sorted(work_catalog.glob("images/*/*")):
            if generated.name in GENERATED:
                destination = output / "images" / generated.parent.name / generated.name
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(generated, destination)
    return code


if __name__ == "__main__":
    sys.exit(lock_snapshot(REPOSITORY, REPOSITORY))
