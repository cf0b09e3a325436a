"""Catalogs with lockfiles and git repositories for the diff tests, built in tmp_path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from compiler.locked import LockedGitTag, LockedImage, LockedInput, LockedPackage, LockedPackages
from compiler.lockfile import Lock, format_lock

IDENTITY = {
    "GIT_AUTHOR_NAME": "Pinwright Test",
    "GIT_AUTHOR_EMAIL": "test@pinwright.invalid",
    "GIT_COMMITTER_NAME": "Pinwright Test",
    "GIT_COMMITTER_EMAIL": "test@pinwright.invalid",
}
IDENTITY_VARIABLES = (*IDENTITY, "EMAIL")


def isolate_git(monkeypatch: pytest.MonkeyPatch, *, identity: bool = True) -> None:
    """Keep git away from the user's and the system's configuration; set a test identity."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("LC_ALL", "C")
    for variable in IDENTITY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    if identity:
        for variable, value in IDENTITY.items():
            monkeypatch.setenv(variable, value)


def git(root: Path, *arguments: str) -> str:
    """Run git in `root` with the current environment and return its stdout."""
    completed = subprocess.run(
        ["git", "-C", str(root), *arguments], check=True, capture_output=True, text=True
    )
    return completed.stdout


def init_repository(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    return root


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--message", message)
    return git(root, "rev-parse", "HEAD").strip()


def image_input(declared: str, digest: str) -> LockedImage:
    return LockedImage(
        declared=declared,
        reference=f"registry.invalid/{declared}:latest",
        digest=digest,
        media_type="application/vnd.oci.image.index.v1+json",
        platforms=("linux/amd64",),
        source=f"https://registry.invalid/v2/{declared}/manifests/latest",
    )


def packages_input(versions: dict[str, str]) -> LockedPackages:
    packages = tuple(
        LockedPackage(
            name=name,
            version=version,
            checksum="Q1" + "A" * 26 + "=",
            repository="https://mirror.invalid/alpine/v3.19/main",
        )
        for name, version in sorted(versions.items())
    )
    return LockedPackages(
        world=tuple(sorted(versions)),
        architectures={"x86_64": packages},
        required_by={name: ("world",) for name in versions},
        indexes=(),
    )


def tag_input(url: str, tag: str) -> LockedGitTag:
    return LockedGitTag(url=url, tag=tag, version=tag.removeprefix("v"), commit="c" * 40)


def write_lock(catalog: Path, image: str, inputs: dict[str, LockedInput]) -> Path:
    """Write `images/IMAGE/image.lock.json` with Pinwright's own lockfile writer."""
    lock = Lock(
        image=image,
        spec_sha256="0" * 64,
        inputs_sha256="1" * 64,
        templates={},
        inputs=inputs,
    )
    path = catalog / "images" / image / "image.lock.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_lock(lock), encoding="utf-8")
    return path


def sha(prefix: str) -> str:
    """Return a sha256 digest whose hex starts with `prefix` (hex digits only)."""
    return "sha256:" + (prefix + "0" * 64)[:64]
