"""The one error base of Pinwright and the location it points at.

Errors are raised anywhere and printed only by the CLI, one line per problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """A place in an input file; line and column are 1-based."""

    path: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = _display_path(self.path)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


def _display_path(path: Path) -> str:
    """Show `path` relative to the working folder when it is inside it."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return str(path)


class PinwrightError(Exception):
    """An error meant for the user: a message, an optional location and an exit code.

    Exit code 1 is a resolution, render or build failure; subclasses for bad input use 2.
    """

    exit_code = 1

    def __init__(self, message: str, *, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"

    def lines(self) -> list[str]:
        """Return the lines the CLI prints for this error."""
        return [str(self)]


class InvalidInputError(PinwrightError):
    """Input that the user must fix: bad YAML, a schema violation, an unknown image."""

    exit_code = 2


class ProblemsError(InvalidInputError):
    """Several problems found at once, such as every validation error of one file."""

    def __init__(self, problems: list[PinwrightError]) -> None:
        if not problems:
            raise ValueError("ProblemsError needs at least one problem")
        super().__init__(str(problems[0]), location=problems[0].location)
        self.problems = problems
        self.exit_code = max(problem.exit_code for problem in problems)

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        return [line for problem in self.problems for line in problem.lines()]
