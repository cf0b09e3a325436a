"""Build compiled catalogs with locks made offline, for `check` tests and benchmarks."""

from __future__ import annotations

import hashlib
from pathlib import Path

from compiler.locked import IndexRecord, LockedGitTag, LockedImage, LockedPackage, LockedPackages
from compiler.lockfile import write_lock
from compiler.pipeline import compile_images
from compiler.resolve import build_lock
from spec.catalog import load_catalog
from spec.models import AlpinePackagesInput, GitTagInput, ImageInput
from tests.trees import write_tree

REGISTRY = "registry.example.test"
MIRROR = "http://127.0.0.1:9/alpine"


def fake_digest(seed: str) -> str:
    """Return a well-formed sha256 digest made from `seed`, not the digest of anything."""
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def write_small_catalog(root: Path) -> None:
    """Write a catalog of two images: `base` (template form) and `app` (stages form)."""
    write_tree(
        root,
        {
            "pinwright.yaml": f"""
                registry: {REGISTRY}/catalog
                alpine: {{mirror: "{MIRROR}", branch: v3.19, repositories: [main]}}
            """,
            "images/base/image.yaml": f"""
                description: Alpine with certificates
                inputs:
                  alpine: {{image: "{REGISTRY}/library/alpine:3.19"}}
                  packages: {{alpine_packages: [busybox, ca-certificates]}}
            """,
            "images/base/Dockerfile.j2": """
                FROM {{ inputs.alpine }}
                RUN apk add --no-cache {{ inputs.packages }}
            """,
            "images/app/image.yaml": """
                inputs:
                  base: {image: base}
                  tool: {git_tag: "https://git.example.test/tool.git", prefix: v}
                stages:
                  - base: base
                    steps:
                      - run: echo tool {{ inputs.tool }}
                      - user: nobody
            """,
        },
    )


def lock_offline(root: Path, packages: dict[str, str] | None = None) -> None:
    """Write a lock for every image with made-up resolved values, then compile them all."""
    catalog = load_catalog(root)
    versions = packages or {"busybox": "1.36.1-r15", "ca-certificates": "20240226-r0"}
    for entry in catalog.images.values():
        inputs = {
            input_name: _locked(catalog.config.registry, input_name, declared, versions)
            for input_name, declared in entry.spec.inputs.items()
        }
        write_lock(entry.lock_path, build_lock(entry, catalog, inputs))
    outcome = compile_images(catalog, [])
    assert not outcome.failures, outcome.failures


def _locked(
    registry: str, name: str, declared: object, versions: dict[str, str]
) -> LockedImage | LockedPackages | LockedGitTag:
    if isinstance(declared, ImageInput):
        reference = declared.image
        if "/" not in reference:
            reference = f"{registry}/{reference}:latest"
        return LockedImage(
            declared=declared.image,
            reference=reference,
            digest=fake_digest(reference),
            media_type="application/vnd.oci.image.index.v1+json",
            platforms=("linux/amd64",),
            source=f"http://{REGISTRY}/v2/{name}/manifests/latest",
        )
    if isinstance(declared, AlpinePackagesInput):
        index = f"{MIRROR}/v3.19/main/x86_64/APKINDEX.tar.gz"
        packages = tuple(
            LockedPackage(
                name=package, version=version, checksum="Q1" + "A" * 27 + "=", repository=index
            )
            for package, version in sorted(versions.items())
        )
        return LockedPackages(
            world=tuple(declared.alpine_packages),
            architectures={"x86_64": packages},
            required_by={package: ("world",) for package in versions},
            indexes=(IndexRecord(url=index, sha256="0" * 64, description="v3.19", signed_by=None),),
        )
    assert isinstance(declared, GitTagInput)
    return LockedGitTag(url=declared.git_tag, tag="v1.2.3", version="1.2.3", commit="c" * 40)
