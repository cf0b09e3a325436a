"""Alpine packages across architectures: a lock needs the same versions on every one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compiler.cli import main
from tests.servers.http_server import serve_folder
from tests.trees import snapshot_tree, write_tree

pytestmark = pytest.mark.e2e


def test_versions_differing_between_architectures_fail(
    tmp_path: Path,
    fixtures_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The real v3.17 aarch64 index, and as a stand-in for v3.17 x86_64 the real v3.16
    # x86_64 index, whose musl is 1.2.3-r2 where v3.17 has 1.2.3-r5.
    mirror = tmp_path / "mirror/alpine/v3.17/main"
    (mirror / "aarch64").mkdir(parents=True)
    (mirror / "x86_64").mkdir(parents=True)
    apk = fixtures_dir / "apk"
    shutil.copy(
        apk / "alpine-v3.17.3-main-aarch64.APKINDEX.tar.gz", mirror / "aarch64/APKINDEX.tar.gz"
    )
    shutil.copy(
        apk / "alpine-v3.16.3-main-x86_64.APKINDEX.tar.gz", mirror / "x86_64/APKINDEX.tar.gz"
    )
    catalog = tmp_path / "catalog"
    monkeypatch.chdir(catalog.parent)

    with serve_folder(tmp_path / "mirror") as server:
        write_tree(
            catalog,
            {
                "pinwright.yaml": f"""
                    registry: registry.example.test/catalog
                    architectures: [x86_64, aarch64]
                    alpine: {{mirror: "{server.url}/alpine", branch: v3.17, repositories: [main]}}
                """,
                "images/app/image.yaml": "inputs:\n  tools: {alpine_packages: [musl]}\n",
                "images/app/Dockerfile.j2": "FROM scratch\n# {{ inputs.tools }}\n",
            },
        )
        before = snapshot_tree(catalog)

        code = main(["-C", str(catalog), "lock", "--cache-dir", str(tmp_path / "cache")])

    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        "catalog/images/app/image.yaml:2:10: input 'tools' of image app: package versions "
        "differ between architectures: musl (aarch64 1.2.3-r5, x86_64 1.2.3-r2)"
    ]
    assert snapshot_tree(catalog) == before
