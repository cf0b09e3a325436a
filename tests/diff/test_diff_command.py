"""`pinwright diff` end to end: real git repositories in tmp_path, exact output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.cli import main
from tests.diff.helpers import (
    commit_all,
    git,
    image_input,
    init_repository,
    isolate_git,
    packages_input,
    sha,
    tag_input,
    write_lock,
)
from tests.trees import write_tree

TOOL = "git:https://example.invalid/tool.git"


@pytest.fixture(autouse=True)
def git_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)
    for variable in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "TTY_COMPATIBLE"):
        monkeypatch.delenv(variable, raising=False)


def write_base(catalog: Path, digest: str, musl: str) -> None:
    write_lock(
        catalog,
        "base",
        {
            "alpine": image_input("alpine", digest),
            "packages": packages_input({"busybox": "1.36.1-r15", "musl": musl}),
        },
    )


def write_app(catalog: Path, tag: str) -> None:
    write_lock(
        catalog,
        "app",
        {"base": image_input("base", sha("ba5e")), "tool": tag_input(TOOL[4:], tag)},
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A catalog one folder below the top of its repository, with two images committed."""
    repository = init_repository(tmp_path / "repo")
    root = write_tree(repository / "catalog", {"pinwright.yaml": "registry: r.invalid/c\n"})
    write_base(root, sha("aaaa"), "1.2.4-r1")
    write_app(root, "v1.2.3")
    commit_all(repository, "Add the catalog")
    return root


def run_diff(catalog: Path, *arguments: str) -> int:
    return main(["-C", str(catalog), "diff", *arguments])


def test_diff_without_changes(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_diff(catalog) == 0

    assert capsys.readouterr().out == "no changes\n"


def test_diff_working_tree_against_head(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_base(catalog, sha("bbbb"), "1.2.4-r2")
    write_app(catalog, "v1.3.0")

    assert run_diff(catalog) == 1

    assert capsys.readouterr().out == (
        "app: 1 change\n"
        f"  {TOOL}  v1.2.3 -> v1.3.0  (minor)\n"
        "\n"
        "base: 2 changes\n"
        "  apk:musl      1.2.4-r1     -> 1.2.4-r2      (package revision)\n"
        "  image:alpine  aaaa00000000 -> bbbb00000000  (digest only)\n"
    )


def test_diff_exit_zero_with_changes(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_app(catalog, "v2.0.0")

    assert run_diff(catalog, "--exit-zero") == 0

    assert "(major)" in capsys.readouterr().out


def test_diff_added_and_removed_images(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (catalog / "images/app/image.lock.json").unlink()
    write_lock(catalog, "extra", {"tool": tag_input(TOOL[4:], "v0.1.0")})

    assert run_diff(catalog, "--format", "commit") == 1

    assert capsys.readouterr().out == (
        "[app] 2 changes\n"
        "\n"
        "git:https://example.invalid/tool.git v1.2.3->(none)\n"
        "image:base ba5e00000000->(none)\n"
        "\n"
        "[extra] git:https://example.invalid/tool.git (none)->v0.1.0\n"
    )


def test_diff_between_two_revisions(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = git(catalog, "rev-parse", "HEAD").strip()
    write_base(catalog, sha("cccc"), "1.2.4-r1")
    second = commit_all(catalog, "Update base")
    write_app(catalog, "v1.2.4")

    assert run_diff(catalog, "--from", first, "--to", second, "--format", "commit") == 1
    assert capsys.readouterr().out == "[base] image:alpine aaaa00000000->cccc00000000\n"

    assert run_diff(catalog, "--from", "HEAD~1", "--format", "commit") == 1
    assert capsys.readouterr().out == (
        f"[app] {TOOL} v1.2.3->v1.2.4\n\n[base] image:alpine aaaa00000000->cccc00000000\n"
    )

    assert run_diff(catalog, "--to", "HEAD", "--format", "commit") == 0
    assert capsys.readouterr().out == ""


def test_diff_json_format(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_base(catalog, sha("bbbb"), "1.2.4-r1")

    assert run_diff(catalog, "--format", "json") == 1

    document = json.loads(capsys.readouterr().out)
    assert document["images"] == [
        {
            "image": "base",
            "changes": [
                {
                    "material": "image:alpine",
                    "old": sha("aaaa"),
                    "new": sha("bbbb"),
                    "action": "changed",
                    "kind": "digest",
                }
            ],
        }
    ]


def test_diff_markdown_format(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_base(catalog, sha("aaaa"), "1.2.5-r0")

    assert run_diff(catalog, "--format", "markdown") == 1

    assert capsys.readouterr().out == (
        "1 change in 1 image.\n"
        "\n"
        "### base\n"
        "\n"
        "| material | old | new | change |\n"
        "| --- | --- | --- | --- |\n"
        "| `apk:musl` | `1.2.4-r1` | `1.2.5-r0` | patch |\n"
    )


def test_diff_table_on_terminal_at_80_columns(
    catalog: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    write_app(catalog, "v1.3.0")

    assert run_diff(catalog) == 1

    output = capsys.readouterr().out
    assert "\x1b[33mminor" in output
    assert max(len(line) for line in output.splitlines()) <= 80 + output.count("\x1b") * 5


def test_diff_table_with_no_color(
    catalog: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    write_app(catalog, "v1.3.0")

    assert run_diff(catalog) == 1

    output = capsys.readouterr().out
    assert "\x1b[33m" not in output
    lines = [
        line.rstrip()
        for line in output.replace("\x1b[1m", "")
        .replace("\x1b[3m", "")
        .replace("\x1b[0m", "")
        .splitlines()
    ]
    assert lines == [
        "app: 1 change",
        "",
        " material                               old      new      change",
        " " + "─" * 63,
        f" {TOOL}   v1.2.3   v1.3.0   minor",
        "",
    ]


def test_diff_outside_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = write_tree(tmp_path / "plain", {"pinwright.yaml": "registry: r.invalid/c\n"})

    assert run_diff(catalog) == 2

    error = capsys.readouterr().err
    assert f"{catalog} is not inside a git repository" in error
    assert "Traceback" not in error


def test_diff_unknown_revision(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_diff(catalog, "--from", "no-such-branch") == 2

    assert "unknown revision 'no-such-branch'" in capsys.readouterr().err


def test_diff_option_like_revision(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_diff(catalog, "--from=--output=/tmp/x") == 2

    assert "invalid revision '--output=/tmp/x': it starts with '-'" in capsys.readouterr().err


def test_diff_revision_without_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repository = init_repository(tmp_path / "repo")
    (repository / "README").write_text("readme\n")
    commit_all(repository, "Add a readme")
    catalog = write_tree(repository / "catalog", {"pinwright.yaml": "registry: r.invalid/c\n"})

    assert run_diff(catalog) == 2

    assert f"no pinwright.yaml in {catalog} at revision HEAD" in capsys.readouterr().err


def test_diff_invalid_lock_in_working_tree(
    catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (catalog / "images/base/image.lock.json").write_text("{\n  broken\n")

    assert run_diff(catalog) == 2

    error = capsys.readouterr().err
    assert "images/base/image.lock.json:2:3: invalid JSON" in error


def test_diff_two_lockfiles_by_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write_lock(tmp_path / "old", "app", {"tool": tag_input(TOOL[4:], "v1.2.3")})
    new = write_lock(tmp_path / "new", "app", {"tool": tag_input(TOOL[4:], "v1.2.3-rc.1")})

    assert main(["diff", str(old), str(new)]) == 1

    assert (
        capsys.readouterr().out == f"app: 1 change\n  {TOOL}  v1.2.3 -> v1.2.3-rc.1  (downgrade)\n"
    )


def test_diff_two_identical_catalogs(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(catalog), str(catalog)]) == 0

    assert capsys.readouterr().out == "no changes\n"


def test_diff_single_path_rejected(catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(catalog)]) == 2

    assert "expected two files or folders to compare (OLD NEW), got 1" in capsys.readouterr().err


def test_diff_catalog_at_repository_top(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = init_repository(tmp_path / "top")
    write_tree(root, {"pinwright.yaml": "registry: r.invalid/c\n"})
    write_app(root, "v1.2.3")
    commit_all(root, "Add the catalog")
    write_app(root, "v1.2.4")

    assert run_diff(root, "--format", "commit") == 1

    assert capsys.readouterr().out == f"[app] {TOOL} v1.2.3->v1.2.4\n"


def forge_materials(path: Path, name: str, value: str) -> None:
    """Add material `name` with `value` to the lockfile at `path`, as a hostile commit could."""
    data = json.loads(path.read_text())
    data["materials"][name] = value
    path.write_text(json.dumps(data, indent=2))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "apk:musl\n[evil] forged",
            "1",
            "invalid material name 'apk:musl\\n[evil] forged': it contains a control "
            "character or line separator",
        ),
        (
            "apk:musl",
            "1.2.4-r1\n\nSigned-off-by: someone",
            "invalid lockfile value materials.apk:musl: control character in "
            "'1.2.4-r1\\n\\nSigned-off-by: someone'",
        ),
    ],
    ids=["name", "value"],
)
def test_diff_rejects_hostile_lock_at_revision(
    catalog: Path, capsys: pytest.CaptureFixture[str], name: str, value: str, message: str
) -> None:
    forge_materials(catalog / "images/base/image.lock.json", name, value)
    commit_all(catalog.parent, "Forge a material")
    write_base(catalog, sha("bbbb"), "1.2.4-r2")
    commit_all(catalog.parent, "Update base")

    assert run_diff(catalog, "--from", "HEAD~1", "--to", "HEAD", "--format", "commit") == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"HEAD~1:catalog/images/base/image.lock.json: {message}\n"


def test_diff_rejects_json_array(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = write_lock(tmp_path / "new", "app", {"tool": tag_input(TOOL[4:], "v1.2.3")})
    old = tmp_path / "old.json"
    old.write_text("[]\n")

    assert main(["diff", str(old), str(new)]) == 2

    assert capsys.readouterr().err == (
        f"{old}: invalid lockfile: expected a JSON object at the top level\n"
    )


def test_diff_rejects_deeply_nested_lock(
    catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (catalog / "images/base/image.lock.json").write_text('{"a":' * 100_000)

    assert run_diff(catalog) == 2

    assert capsys.readouterr().err == (
        f"{catalog}/images/base/image.lock.json: invalid JSON: nested too deeply to read\n"
    )
