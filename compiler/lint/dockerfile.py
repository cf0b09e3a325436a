"""Split a Dockerfile into instructions, keeping the physical position of every piece.

Follows the Dockerfile reference: parser directives (`# escape=`) come first, a line
ending in the escape character continues on the next, comment and empty lines inside a
continued instruction are dropped, and RUN, COPY and ADD may carry here-documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=\s*(\S*)\s*$")
IGNORE_COMMENT = re.compile(r"^\s*#\s*pinwright:\s*ignore=([A-Za-z0-9_,-]+)\s*$")
HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True)
class Segment:
    """A piece of an instruction on one physical line; `column` is 1-based."""

    line: int
    column: int
    text: str


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword in upper case, its arguments and where each piece is."""

    keyword: str
    arguments: str  # continuation lines joined with a space, escape characters removed
    line: int
    segments: tuple[Segment, ...]  # the arguments piece by piece, then here-document lines
    heredocs: tuple[str, ...]  # bodies of here-documents, in order
    ignored: frozenset[str]  # rule ids silenced by `# pinwright: ignore=RULE` just above

    def locate(self, token: str, start: Cursor | None = None) -> Found | None:
        """Find where `token` is written, at or after `start`.

        Returns None when the token is not written literally (quoted, for example).
        """
        index, offset = (start.segment, start.offset) if start else (0, 0)
        while index < len(self.segments):
            segment = self.segments[index]
            found = segment.text.find(token, offset)
            if found >= 0:
                after = Cursor(index, found + len(token))
                return Found(segment.line, segment.column + found, after)
            index += 1
            offset = 0
        return None


@dataclass(frozen=True)
class Cursor:
    """A place in the segments of an instruction: a segment index and an offset in it."""

    segment: int
    offset: int


@dataclass(frozen=True)
class Found:
    """The position of a token: its line, its 1-based column, and the cursor after it."""

    line: int
    column: int
    after: Cursor


def parse_dockerfile(text: str) -> list[Instruction]:
    """Parse Dockerfile text into instructions.

    Any text is accepted: a line that is not an instruction is read as one anyway.
    """
    lines = text.splitlines()
    escape = "\\"
    position = 0
    while position < len(lines):
        match = DIRECTIVE.match(lines[position])
        if match is None:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
        position += 1

    instructions: list[Instruction] = []
    while position < len(lines):
        raw = lines[position]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            position += 1
            continue
        instruction, position = _read_instruction(lines, position, escape)
        instructions.append(instruction)
    return instructions


def _read_instruction(lines: list[str], start: int, escape: str) -> tuple[Instruction, int]:
    """Read the instruction that starts at index `start`; return it and the next index."""
    first = lines[start]
    indent = len(first) - len(first.lstrip())
    keyword_match = re.match(r"(\S+)\s*", first[indent:])
    assert keyword_match is not None
    keyword = keyword_match.group(1).upper()
    column = indent + keyword_match.end() + 1

    segments: list[Segment] = []
    pieces: list[str] = []
    text = first[column - 1 :]
    position = start
    while True:
        continued = text.rstrip().endswith(escape)
        if continued:
            text = text.rstrip()[: -len(escape)]
        segments.append(Segment(position + 1, column, text))
        pieces.append(text.strip())
        position += 1
        if not continued:
            break
        while position < len(lines) and (
            not lines[position].strip() or lines[position].lstrip().startswith("#")
        ):
            position += 1
        if position >= len(lines):
            break
        text = lines[position]
        column = 1

    arguments = " ".join(piece for piece in pieces if piece)
    heredocs: list[str] = []
    if keyword in HEREDOC_KEYWORDS:
        for strip_tabs, _, delimiter in HEREDOC.findall(arguments):
            body: list[str] = []
            while position < len(lines):
                line = lines[position]
                check = line.lstrip("\t") if strip_tabs else line
                position += 1
                if check == delimiter:
                    break
                segments.append(Segment(position, 1, line))
                body.append(check)
            heredocs.append("\n".join(body))

    instruction = Instruction(
        keyword=keyword,
        arguments=arguments,
        line=start + 1,
        segments=tuple(segments),
        heredocs=tuple(heredocs),
        ignored=_ignored_rules(lines, start),
    )
    return instruction, position


def _ignored_rules(lines: list[str], start: int) -> frozenset[str]:
    if start == 0:
        return frozenset()
    match = IGNORE_COMMENT.match(lines[start - 1])
    if match is None:
        return frozenset()
    return frozenset(rule for rule in match.group(1).split(",") if rule)
