"""Reports of what changed, per image: tables, plain text, JSON, Markdown, commit messages.

Reporters build rich renderables and strings; only the CLI prints them. Every format
except JSON cuts digests to 12 hex characters and keeps versions whole; JSON keeps every
value whole. Images appear in the order of the mapping they are given.

Every format except JSON, which escapes them itself, shows control characters in image
names, material names and values as `\\xNN` (or `\\uNNNN`), so a hostile lock cannot
break a table row or add a line to a commit message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from compiler.changes import (
    ADDED,
    DIGEST,
    DOWNGRADE,
    MAJOR,
    MINOR,
    PATCH,
    PRERELEASE,
    REMOVED,
    REVISION,
    Change,
    shorten_value,
)

NONE = "(none)"
FORMATS = ("table", "text", "json", "markdown", "commit")
REPORT_FORMAT = 1  # version of the JSON report's layout
# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators, which
# `str.splitlines` and some editors also treat as line breaks.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# Colours of the change column in tables; NO_COLOR removes them, the words stay.
KIND_STYLES: dict[str, str] = {
    ADDED: "green",
    REMOVED: "red",
    MAJOR: "bold red",
    MINOR: "yellow",
    PATCH: "green",
    PRERELEASE: "magenta",
    REVISION: "cyan",
    DIGEST: "blue",
    DOWNGRADE: "bold red",
}

ChangesByImage = Mapping[str, Sequence[Change]]


def render_changes(changes: ChangesByImage, output_format: str) -> RenderableType | str:
    """Render `changes` in one of FORMATS: a rich renderable for "table", else a string.

    Raises ValueError for an unknown format.
    """
    if output_format == "table":
        return changes_table(changes) or "no changes"
    if output_format == "text":
        return format_text(changes)
    if output_format == "json":
        return format_json(changes)
    if output_format == "markdown":
        return format_markdown(changes)
    if output_format == "commit":
        return format_commit_messages(changes)
    raise ValueError(f"unknown report format {output_format!r}, expected one of {FORMATS}")


def changes_table(changes: ChangesByImage) -> Group | None:
    """Build one table per changed image, or return None when nothing changed."""
    tables = [
        _image_table(image, image_changes)
        for image, image_changes in changes.items()
        if image_changes
    ]
    if not tables:
        return None
    return Group(*tables)


def _image_table(image: str, changes: Sequence[Change]) -> Table:
    table = Table(
        title=Text(f"{escape_controls(image)}: {count_changes(len(changes))}"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("material", overflow="fold")
    table.add_column("old", overflow="fold")
    table.add_column("new", overflow="fold")
    table.add_column("change", no_wrap=True)
    for change in changes:
        # Text, not str, so that rich does not read `[...]` in a value as console markup.
        table.add_row(
            Text(escape_controls(change.material)),
            Text(display_value(change.old)),
            Text(display_value(change.new)),
            Text(change.label, style=KIND_STYLES.get(change.kind, "")),
        )
    return table


def format_text(changes: ChangesByImage) -> str:
    """Return aligned plain text: a heading line per image, then one line per change."""
    blocks = []
    for image, image_changes in changes.items():
        if not image_changes:
            continue
        materials = [escape_controls(change.material) for change in image_changes]
        material_width = max(len(material) for material in materials)
        old_width = max(len(display_value(change.old)) for change in image_changes)
        new_width = max(len(display_value(change.new)) for change in image_changes)
        lines = [f"{escape_controls(image)}: {count_changes(len(image_changes))}"]
        for material, change in zip(materials, image_changes, strict=True):
            old = display_value(change.old).ljust(old_width)
            new = display_value(change.new).ljust(new_width)
            lines.append(f"  {material.ljust(material_width)}  {old} -> {new}  ({change.label})")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) if blocks else "no changes"


def format_json(changes: ChangesByImage) -> str:
    """Return the changes as a JSON document with full values, `null` for an absent side."""
    images = [
        {
            "image": image,
            "changes": [
                {
                    "material": change.material,
                    "old": change.old,
                    "new": change.new,
                    "action": change.action,
                    "kind": change.kind,
                }
                for change in image_changes
            ],
        }
        for image, image_changes in changes.items()
        if image_changes
    ]
    document = {"format": REPORT_FORMAT, "images": images}
    return json.dumps(document, indent=2, ensure_ascii=False)


def format_markdown(changes: ChangesByImage) -> str:
    """Return a pull request body: a summary line, then a heading and a table per image."""
    changed = {image: found for image, found in changes.items() if found}
    if not changed:
        return "No changes."
    total = sum(len(found) for found in changed.values())
    image_count = f"{len(changed)} image" + ("" if len(changed) == 1 else "s")
    sections = [f"{count_changes(total).capitalize()} in {image_count}."]
    for image, image_changes in changed.items():
        rows = [
            f"### {_markdown_escape(escape_controls(image))}",
            "",
            "| material | old | new | change |",
            "| --- | --- | --- | --- |",
        ]
        for change in image_changes:
            cells = (
                _markdown_code(escape_controls(change.material)),
                _markdown_code(display_value(change.old)),
                _markdown_code(display_value(change.new)),
                change.label,
            )
            rows.append("| " + " | ".join(cells) + " |")
        sections.append("\n".join(rows))
    return "\n\n".join(sections)


def format_commit_message(image: str, changes: Sequence[Change]) -> str:
    """Return the commit message for the changes of one image.

    One change gives `[IMAGE] MATERIAL OLD->NEW`. Several give `[IMAGE] N changes`, a
    blank line, and one `MATERIAL OLD->NEW` line per change, sorted by material.
    Raises ValueError when `changes` is empty.
    """
    if not changes:
        raise ValueError(f"no changes for image {image!r} to write a commit message about")
    lines = [commit_line(change) for change in sorted(changes, key=lambda item: item.material)]
    subject = f"[{escape_controls(image)}]"
    if len(lines) == 1:
        return f"{subject} {lines[0]}"
    return f"{subject} {len(lines)} changes\n\n" + "\n".join(lines)


def format_commit_messages(changes: ChangesByImage) -> str:
    """Return the commit message of every changed image, separated by blank lines."""
    return "\n\n".join(
        format_commit_message(image, image_changes)
        for image, image_changes in changes.items()
        if image_changes
    )


def commit_line(change: Change) -> str:
    """Return `MATERIAL OLD->NEW` with digests cut and `(none)` for an absent side."""
    material = escape_controls(change.material)
    return f"{material} {display_value(change.old)}->{display_value(change.new)}"


def display_value(value: str | None) -> str:
    """Return a value as reports show it: `(none)` when absent, digests cut to 12 hex.

    Control characters are escaped with `escape_controls`.
    """
    return NONE if value is None else escape_controls(shorten_value(value))


def escape_controls(text: str) -> str:
    """Replace each control character or line separator of `text` with a `\\x` or `\\u` escape."""
    return CONTROL_CHARACTER.sub(_escape_control, text)


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def count_changes(count: int) -> str:
    return f"{count} change" if count == 1 else f"{count} changes"


def _markdown_code(text: str) -> str:
    """Return `text` as a Markdown code span that also survives inside a table cell."""
    text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _markdown_escape(text: str) -> str:
    """Escape the characters that would start Markdown formatting in a heading."""
    return "".join("\\" + char if char in "\\`*_[]<>#|" else char for char in text)
