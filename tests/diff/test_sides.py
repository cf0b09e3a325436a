"""Reading the sides of a diff: BOM Dockerfiles, lockfiles and folders, with their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.diff import DiffArgumentsError, diff_sides, load_sides
from compiler.diff.bom import BomInvalidError, BomMissingError, parse_bom_dockerfile
from compiler.diff.sides import (
    DiffInputMismatchError,
    DiffInputNotFoundError,
    ImageDuplicateError,
    read_folder_side,
    read_lock_materials,
    read_path_sides,
)
from compiler.lockfile import LockInvalidError
from tests.diff.helpers import image_input, packages_input, sha, write_lock
from tests.trees import write_tree

DIGEST = "7442771fc9e4d70fbf8f9d592e28b9ec7b9b81af30ddb87cbaaba90f2cc0064f"
TEMPLATE_URL = "https://github.com/csmith/dockerfiles/blob/master/irc-notifier/Dockerfile.gotpl"


def bom_dockerfile(bom: str, generated: str = TEMPLATE_URL) -> str:
    return f"# Generated from {generated}\n# BOM: {bom}\n\nFROM scratch\n"


def test_bom_names_image_after_template_folder(tmp_path: Path) -> None:
    text = bom_dockerfile(
        f'{{"image:base":"{DIGEST}","github:a/b":"v1.0.5","apk:musl":"1.2.4-r2"}}'
    )

    bom = parse_bom_dockerfile(text, tmp_path / "Dockerfile")

    assert bom.image == "irc-notifier"
    assert bom.materials == {
        "apk:musl": "1.2.4-r2",
        "github:a/b": "v1.0.5",
        "image:base": f"sha256:{DIGEST}",
    }


def test_bom_template_given_as_path(tmp_path: Path) -> None:
    text = bom_dockerfile('{"apk:musl":"1.2.4-r2"}', generated="redis/Dockerfile.gotpl")

    assert parse_bom_dockerfile(text, tmp_path / "Dockerfile").image == "redis"


def test_bom_without_generated_line_uses_folder(tmp_path: Path) -> None:
    path = tmp_path / "haproxy" / "Dockerfile"

    bom = parse_bom_dockerfile('# BOM: {"apk:musl":"1.2.4-r2"}\nFROM scratch\n', path)

    assert bom.image == "haproxy"


def test_bom_missing_line_rejected(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"

    with pytest.raises(BomMissingError) as raised:
        parse_bom_dockerfile("FROM alpine\n", path)

    assert raised.value.location is not None
    assert raised.value.location.path == path
    assert "no `# BOM:` line in the first 5 lines" in raised.value.message


@pytest.mark.parametrize(
    ("bom", "message"),
    [
        (
            "{not json",
            "invalid JSON after `# BOM:`: Expecting property name enclosed in double quotes",
        ),
        ('["apk:musl"]', "expected a JSON object of material names to strings"),
        ('{"apk:musl": 1}', "expected a JSON object of material names to strings"),
        (
            '{"apk:musl\\nforged": "1"}',
            "material 'apk:musl\\nforged' with value '1' contains a control character",
        ),
        ('{"apk:musl": "1\\u2028forged"}', "contains a control character or line separator"),
        ('{"a":' * 100_000, "invalid JSON after `# BOM:`: nested too deeply to read"),
    ],
    ids=["broken", "array", "number", "newline-name", "separator-value", "deep"],
)
def test_bom_invalid_line_rejected(tmp_path: Path, bom: str, message: str) -> None:
    with pytest.raises(BomInvalidError) as raised:
        parse_bom_dockerfile(bom_dockerfile(bom), tmp_path / "Dockerfile")

    assert message in raised.value.message
    assert raised.value.location is not None
    assert raised.value.location.line == 2


def test_lock_materials_read(tmp_path: Path) -> None:
    path = write_lock(tmp_path, "base", {"alpine": image_input("alpine", sha("ab"))})

    assert read_lock_materials(path.read_text(), path) == ("base", {"image:alpine": sha("ab")})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"format": 9}', "unsupported lockfile format 9 (expected 1)"),
        ('{"format": 1, "image": "a"}', "`image` must be a string and `materials` an object"),
        (
            '{"format": 1, "image": "a", "materials": {"apk:musl": 3}}',
            "every value of `materials` must be a string",
        ),
        ("[1, 2]", "invalid lockfile: expected a JSON object at the top level"),
        ('"text"', "invalid lockfile: expected a JSON object at the top level"),
        (
            '{"format": 1, "image": "a", "materials": {"apk:musl\\n[b] forged": "1"}}',
            "invalid material name 'apk:musl\\n[b] forged': it contains a control character",
        ),
        (
            '{"format": 1, "image": "a", "materials": {"apk:musl": "1\\r\\nforged"}}',
            "invalid lockfile value materials.apk:musl: control character in '1\\r\\nforged'",
        ),
        (
            '{"format": 1, "image": "a\\u001b[2J", "materials": {}}',
            "invalid lockfile value image: control character in 'a\\x1b[2J'",
        ),
        (
            '{"format": 1, "image": "a", "materials": {}, "inputs": {"x": {"digest": "sha256:1"}}}',
            "invalid lockfile value inputs.x.digest: expected a digest",
        ),
        ('{"a":' * 100_000, "invalid JSON: nested too deeply to read"),
    ],
    ids=[
        "broken",
        "format",
        "shape",
        "value-type",
        "array",
        "string",
        "newline-name",
        "newline-value",
        "escape-image",
        "bad-digest",
        "deep",
    ],
)
def test_lock_invalid_rejected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LockInvalidError) as raised:
        read_lock_materials(text, tmp_path / "image.lock.json")

    assert message in raised.value.message
    assert raised.value.exit_code == 2
    assert raised.value.location is not None
    assert raised.value.location.path == tmp_path / "image.lock.json"


def test_lock_values_nested_too_deeply_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mocked fault: on Python 3.11 json.loads and the value check share one recursion
    # limit, so a real document deep enough for the check is already too deep to parse.
    def recurse(value: object, where: str = "") -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("compiler.diff.sides.find_invalid_value", recurse)
    text = '{"format": 1, "image": "a", "materials": {}}'

    with pytest.raises(LockInvalidError) as raised:
        read_lock_materials(text, tmp_path / "image.lock.json")

    assert raised.value.message == "invalid lockfile: values nested too deeply to check"


def test_json_array_file_read_as_lockfile(tmp_path: Path) -> None:
    path = tmp_path / "image.lock.json"
    path.write_text("  [\n]\n")

    with pytest.raises(LockInvalidError) as raised:
        read_path_sides(path, path)

    assert raised.value.message == "invalid lockfile: expected a JSON object at the top level"


def test_two_lockfiles_compare_as_one_image(tmp_path: Path) -> None:
    old = write_lock(tmp_path / "old", "base", {"packages": packages_input({"musl": "1.2.4-r1"})})
    new = write_lock(tmp_path / "new", "base2", {"packages": packages_input({"musl": "1.2.4-r2"})})

    changes = diff_sides(*read_path_sides(old, new))

    assert list(changes) == ["base2"]
    assert [(change.material, change.old, change.new) for change in changes["base2"]] == [
        ("apk:musl", "1.2.4-r1", "1.2.4-r2")
    ]


def test_contempt_folder_against_pinwright_catalog(tmp_path: Path) -> None:
    write_tree(
        tmp_path / "contempt",
        {
            "base/Dockerfile": bom_dockerfile(
                f'{{"image:alpine":"{DIGEST}","apk:musl":"1.2.4-r1"}}',
                generated="https://example.invalid/blob/master/base/Dockerfile.gotpl",
            ),
            "notes/Dockerfile": "FROM scratch\n",
        },
    )
    catalog = write_tree(tmp_path / "catalog", {"pinwright.yaml": "registry: r.invalid/c\n"})
    write_lock(
        catalog,
        "base",
        {
            "alpine": image_input("alpine", f"sha256:{DIGEST}"),
            "packages": packages_input({"musl": "1.2.4-r2"}),
        },
    )

    changes = diff_sides(*read_path_sides(tmp_path / "contempt", catalog))

    assert [(change.material, change.old, change.new) for change in changes["base"]] == [
        ("apk:musl", "1.2.4-r1", "1.2.4-r2")
    ]


def test_folder_without_catalog_or_boms_rejected(tmp_path: Path) -> None:
    write_tree(tmp_path, {"notes/Dockerfile": "FROM scratch\n"})

    with pytest.raises(DiffInputNotFoundError, match="is neither a catalog"):
        read_folder_side(tmp_path)


def test_folder_with_duplicate_image_rejected(tmp_path: Path) -> None:
    text = bom_dockerfile('{"apk:musl":"1.2.4-r1"}')
    write_tree(tmp_path, {"a/Dockerfile": text, "b/Dockerfile": text})

    with pytest.raises(ImageDuplicateError, match="image 'irc-notifier' is generated by two"):
        read_folder_side(tmp_path)


def test_file_against_folder_rejected(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, "base", {})

    with pytest.raises(DiffInputMismatchError, match="pass two files or two folders"):
        read_path_sides(lock, tmp_path)


def test_missing_path_rejected(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, "base", {})

    with pytest.raises(DiffInputNotFoundError, match="missing.json not found"):
        read_path_sides(lock, tmp_path / "missing.json")


def test_one_path_rejected(tmp_path: Path) -> None:
    with pytest.raises(DiffArgumentsError, match="expected two files or folders .*got 1"):
        load_sides(tmp_path, [tmp_path / "a"])


def test_paths_with_revisions_rejected(tmp_path: Path) -> None:
    with pytest.raises(DiffArgumentsError, match="--from and --to compare git revisions"):
        load_sides(tmp_path, [tmp_path / "a", tmp_path / "b"], from_revision="HEAD")
