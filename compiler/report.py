"""Tables and summaries of what a run changed. Only the CLI prints them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table

from compiler.changes import Change

NONE = "(none)"


def changes_table(changes: Mapping[str, Sequence[Change]]) -> Table | None:
    """Build a table of changed materials per image, or None when nothing changed."""
    rows = [change for image in changes for change in changes[image]]
    if not rows:
        return None
    table = Table(title="Changes", title_justify="left")
    table.add_column("image", no_wrap=True)
    table.add_column("material", overflow="fold")
    table.add_column("old", overflow="fold")
    table.add_column("new", overflow="fold")
    for change in rows:
        table.add_row(change.image, change.material, change.old or NONE, change.new or NONE)
    return table
