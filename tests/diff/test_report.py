"""Every report format, rendered from the same changes."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from compiler.changes import Change
from compiler.report import (
    changes_table,
    format_commit_message,
    format_commit_messages,
    format_json,
    format_markdown,
    format_text,
    render_changes,
)

SHA_OLD = "sha256:7442771fc9e4" + "a" * 52
SHA_NEW = "sha256:67c850424b32" + "b" * 52
CADDY = "git:https://github.com/caddyserver/caddy"
ANSI_COLOUR = re.compile(r"\x1b\[(?:3[0-7]|9[0-7]|38;)")

CHANGES = {
    "base": [
        Change("base", "apk:ca-certificates", "20220614-r4", "20230506-r0"),
        Change("base", "apk:gcc", "12.2.1_git20220924-r4", "12.2.1_git20220924-r10"),
        Change("base", "apk:openssl-libs-static", "3.1.3-r0", None),
        Change("base", "image:alpine", SHA_OLD, SHA_NEW),
    ],
    "app": [Change("app", CADDY, None, "v2.11.4")],
    "unchanged": [],
}


def render_table(
    changes: dict[str, list[Change]], *, terminal: bool = False, no_color: bool = False
) -> str:
    console = Console(
        file=io.StringIO(),
        width=80,
        force_terminal=terminal,
        color_system="standard" if terminal else None,
        no_color=no_color,
    )
    console.print(changes_table(changes))
    output = console.file.getvalue()
    assert isinstance(output, str)
    return output


def test_table_at_width_80() -> None:
    output = render_table(CHANGES)

    assert [line.rstrip() for line in output.splitlines()] == [
        "base: 4 changes",
        "",
        " material             old                 new                  change",
        " " + "─" * 78,
        " apk:ca-certificate   20220614-r4         20230506-r0          major",
        " s",
        " apk:gcc              12.2.1_git2022092   12.2.1_git20220924   package revision",
        "                      4-r4                -r10",
        " apk:openssl-libs-s   3.1.3-r0            (none)               removed",
        " tatic",
        " image:alpine         7442771fc9e4        67c850424b32         digest only",
        "",
        "app: 1 change",
        "",
        " material                                   old      new       change",
        " " + "─" * 68,
        " git:https://github.com/caddyserver/caddy   (none)   v2.11.4   added",
        "",
    ]
    assert max(len(line) for line in output.splitlines()) == 80


def test_table_colours_change_kinds_on_terminal() -> None:
    output = render_table({"app": CHANGES["app"]}, terminal=True)

    assert "\x1b[32madded" in output


def test_table_respects_no_color() -> None:
    output = render_table({"app": CHANGES["app"]}, terminal=True, no_color=True)

    assert ANSI_COLOUR.search(output) is None
    assert "added" in output


def test_table_none_without_changes() -> None:
    assert changes_table({"unchanged": []}) is None


def test_text_aligns_columns() -> None:
    assert format_text(CHANGES) == (
        "base: 4 changes\n"
        "  apk:ca-certificates      20220614-r4           -> 20230506-r0             (major)\n"
        "  apk:gcc                  12.2.1_git20220924-r4 -> 12.2.1_git20220924-r10  (package revision)\n"
        "  apk:openssl-libs-static  3.1.3-r0              -> (none)                  (removed)\n"
        "  image:alpine             7442771fc9e4          -> 67c850424b32            (digest only)\n"
        "\n"
        "app: 1 change\n"
        f"  {CADDY}  (none) -> v2.11.4  (added)"
    )


def test_text_without_changes() -> None:
    assert format_text({"unchanged": []}) == "no changes"


def test_json_keeps_full_values() -> None:
    document = json.loads(format_json(CHANGES))

    assert document["format"] == 1
    assert [image["image"] for image in document["images"]] == ["base", "app"]
    assert document["images"][0]["changes"][3] == {
        "material": "image:alpine",
        "old": SHA_OLD,
        "new": SHA_NEW,
        "action": "changed",
        "kind": "digest",
    }
    assert document["images"][0]["changes"][2]["new"] is None
    assert document["images"][0]["changes"][2]["kind"] == "removed"
    assert document["images"][1]["changes"] == [
        {"material": CADDY, "old": None, "new": "v2.11.4", "action": "added", "kind": "added"}
    ]


def test_json_without_changes() -> None:
    assert json.loads(format_json({})) == {"format": 1, "images": []}


def test_markdown_table_per_image() -> None:
    assert format_markdown(CHANGES) == (
        "5 changes in 2 images.\n"
        "\n"
        "### base\n"
        "\n"
        "| material | old | new | change |\n"
        "| --- | --- | --- | --- |\n"
        "| `apk:ca-certificates` | `20220614-r4` | `20230506-r0` | major |\n"
        "| `apk:gcc` | `12.2.1_git20220924-r4` | `12.2.1_git20220924-r10` | package revision |\n"
        "| `apk:openssl-libs-static` | `3.1.3-r0` | `(none)` | removed |\n"
        "| `image:alpine` | `7442771fc9e4` | `67c850424b32` | digest only |\n"
        "\n"
        "### app\n"
        "\n"
        "| material | old | new | change |\n"
        "| --- | --- | --- | --- |\n"
        f"| `{CADDY}` | `(none)` | `v2.11.4` | added |"
    )


def test_markdown_escapes_table_and_heading_characters() -> None:
    changes = {"my_image": [Change("my_image", "custom:a|b", "1`0", "2.0")]}

    assert format_markdown(changes).splitlines()[2] == "### my\\_image"
    assert (
        format_markdown(changes).splitlines()[-1]
        == "| `custom:a\\|b` | `` 1`0 `` | `2.0` | changed |"
    )


def test_markdown_without_changes() -> None:
    assert format_markdown({}) == "No changes."


def test_commit_message_one_change() -> None:
    change = Change("base", "image:alpine", SHA_OLD, SHA_NEW)

    assert (
        format_commit_message("base", [change]) == "[base] image:alpine 7442771fc9e4->67c850424b32"
    )


def test_commit_message_several_sorted_by_material() -> None:
    changes = list(reversed(CHANGES["base"]))

    assert format_commit_message("base", changes) == (
        "[base] 4 changes\n"
        "\n"
        "apk:ca-certificates 20220614-r4->20230506-r0\n"
        "apk:gcc 12.2.1_git20220924-r4->12.2.1_git20220924-r10\n"
        "apk:openssl-libs-static 3.1.3-r0->(none)\n"
        "image:alpine 7442771fc9e4->67c850424b32"
    )


def test_commit_message_added_material() -> None:
    assert format_commit_message("app", CHANGES["app"]) == f"[app] {CADDY} (none)->v2.11.4"


def test_commit_message_rejects_no_changes() -> None:
    with pytest.raises(ValueError, match="no changes for image 'base'"):
        format_commit_message("base", [])


def test_commit_messages_skip_unchanged_images() -> None:
    assert format_commit_messages(CHANGES).split("\n\n")[-1] == f"[app] {CADDY} (none)->v2.11.4"
    assert format_commit_messages({"unchanged": []}) == ""


def test_render_changes_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format 'yaml'"):
        render_changes(CHANGES, "yaml")


def test_render_changes_table_without_changes() -> None:
    assert render_changes({}, "table") == "no changes"


HOSTILE = {
    "img\n# forged": [
        Change("img\n# forged", "apk:a\r\n| x | y |", "1\x1b[31m", "2\u2028Signed-off-by: x")
    ]
}


def test_text_escapes_control_characters() -> None:
    assert format_text(HOSTILE) == (
        "img\\x0a# forged: 1 change\n"
        "  apk:a\\x0d\\x0a| x | y |  1\\x1b[31m -> 2\\u2028Signed-off-by: x  (changed)"
    )


def test_markdown_escapes_control_characters() -> None:
    assert format_markdown(HOSTILE).splitlines()[2:] == [
        "### img\\\\x0a\\# forged",
        "",
        "| material | old | new | change |",
        "| --- | --- | --- | --- |",
        "| `apk:a\\x0d\\x0a\\| x \\| y \\|` | `1\\x1b[31m` | `2\\u2028Signed-off-by: x` | changed |",
    ]


def test_commit_message_escapes_control_characters() -> None:
    assert format_commit_messages(HOSTILE) == (
        "[img\\x0a# forged] apk:a\\x0d\\x0a| x | y | 1\\x1b[31m->2\\u2028Signed-off-by: x"
    )


def test_table_escapes_control_characters_and_markup() -> None:
    changes = {"img": [Change("img", "apk:[bold]a\n", "[red]1", "2\x07")]}
    output = render_table(changes, terminal=True)

    assert "apk:[bold]a\\x0a" in output
    assert "[red]1" in output
    assert "2\\x07" in output
    assert "\x07" not in output


def test_json_escapes_control_characters() -> None:
    output = format_json(HOSTILE)

    assert "\n# forged" not in output
    assert json.loads(output)["images"][0]["image"] == "img\n# forged"
