"""`pinwright check`: locks against specs and templates, Dockerfiles against `compile`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.validate import check_catalog
from tests.checks.catalogs import REGISTRY, fake_digest, lock_offline, write_small_catalog


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_small_catalog(tmp_path)
    lock_offline(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings_of(root: Path, *names: str) -> list[tuple[str, str, int | None]]:
    _, report = check_catalog(root, names)
    return sorted(
        (finding.rule, finding.path.relative_to(root).as_posix(), finding.line)
        for finding in report.findings
    )


def test_compiled_catalog_passes(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert capsys.readouterr().out == "no problems found\n"


def test_edited_dockerfile_shows_diff_and_fix(
    catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = catalog / "images/app/Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("USER nobody", "USER root"))

    assert main(["check"]) == 1

    digest = fake_digest(f"{REGISTRY}/catalog/base:latest")
    assert capsys.readouterr().out == (
        "images/app/Dockerfile:6:1: error: images/app/Dockerfile differs from what `compile` "
        "writes [dockerfile-stale]\n"
        "  fix: pinwright compile app\n"
        "  --- images/app/Dockerfile (committed)\n"
        "  +++ images/app/Dockerfile (compiled)\n"
        "  @@ -3,6 +3,6 @@\n"
        "   \n"
        f"   FROM {REGISTRY}/catalog/base:latest@{digest}\n"
        "   RUN echo tool v1.2.3\n"
        "  -USER root\n"
        "  +USER nobody\n"
        f'   LABEL org.opencontainers.image.base.digest="{digest}" \\\n'
        f'         org.opencontainers.image.base.name="{REGISTRY}/catalog/base:latest"\n'
        "1 error, 0 warnings\n"
    )


def test_missing_dockerfile(catalog: Path) -> None:
    (catalog / "images/base/Dockerfile").unlink()
    assert findings_of(catalog) == [("dockerfile-missing", "images/base/Dockerfile", None)]


def test_missing_lock(catalog: Path) -> None:
    (catalog / "images/base/image.lock.json").unlink()
    assert findings_of(catalog) == [("lock-missing", "images/base/image.lock.json", None)]


def test_invalid_lock(catalog: Path) -> None:
    (catalog / "images/base/image.lock.json").write_text("{\n  broken\n")
    assert findings_of(catalog) == [("lock-invalid", "images/base/image.lock.json", 2)]


def test_changed_input_makes_lock_stale(catalog: Path) -> None:
    spec = catalog / "images/base/image.yaml"
    spec.write_text(spec.read_text().replace("ca-certificates", "ca-certificates, curl"))
    assert findings_of(catalog) == [("lock-stale", "images/base/image.lock.json", None)]


def test_changed_description_makes_lock_outdated(catalog: Path) -> None:
    spec = catalog / "images/base/image.yaml"
    spec.write_text(spec.read_text().replace("Alpine with certificates", "Alpine"))
    _, report = check_catalog(catalog, ())
    assert [(finding.rule, finding.message, finding.fix) for finding in report.findings] == [
        (
            "lock-outdated",
            "lock of base records another checksum of images/base/image.yaml",
            "pinwright compile base",
        )
    ]


def test_changed_template_makes_lock_and_dockerfile_stale(catalog: Path) -> None:
    template = catalog / "images/base/Dockerfile.j2"
    template.write_text(template.read_text() + "USER nobody\n")
    assert findings_of(catalog) == [
        ("dockerfile-stale", "images/base/Dockerfile", 5),
        ("lock-outdated", "images/base/image.lock.json", None),
    ]


def test_selected_images_only(catalog: Path) -> None:
    (catalog / "images/base/Dockerfile").unlink()
    assert findings_of(catalog, "app") == []


def test_compile_fixes_what_check_reports(catalog: Path) -> None:
    template = catalog / "images/base/Dockerfile.j2"
    template.write_text(template.read_text() + "USER nobody\n")
    assert main(["compile"]) == 0
    assert findings_of(catalog) == []


def test_invalid_spec_is_a_finding_not_a_failure(
    catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (catalog / "images/app/image.yaml").write_text("inputs: [\n")
    assert main(["check", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [(item["rule"], item["path"], item["line"]) for item in document["findings"]] == [
        ("yaml-invalid", "images/app/image.yaml", 2)
    ]


def test_unknown_image_exits_two(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "nope"]) == 2
    assert capsys.readouterr().err == "unknown image 'nope' (catalog images: app, base)\n"
