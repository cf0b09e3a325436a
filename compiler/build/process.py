"""Run builder commands: argument lists only, logged before they run, output streamed."""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from spec.errors import PinwrightError

logger = logging.getLogger(__name__)

# Options whose value is a secret; the log shows `***` in its place.
SECRET_OPTIONS = frozenset({"--creds", "--src-creds", "--dest-creds", "--password", "-p"})
# Lines of output kept for error messages.
TAIL_LINES = 40

OutputHandler = Callable[[str], None]


class BuilderNotFoundError(PinwrightError):
    """The builder program is not installed or not on PATH."""


@dataclass(frozen=True)
class CommandResult:
    """The exit status of a command and the last lines it wrote."""

    returncode: int
    tail: tuple[str, ...]

    @property
    def error_line(self) -> str:
        """Return the last line that reports an error, else the last line, else ''."""
        for line in reversed(self.tail):
            if "error" in line.lower():
                return line.strip()
        return self.tail[-1].strip() if self.tail else ""


def mask_arguments(arguments: Sequence[str]) -> list[str]:
    """Return `arguments` with the value of every secret option replaced by `***`."""
    masked: list[str] = []
    hide_next = False
    for argument in arguments:
        option, equals, _ = argument.partition("=")
        if hide_next:
            masked.append("***")
            hide_next = False
        elif equals and option in SECRET_OPTIONS:
            masked.append(f"{option}=***")
        else:
            masked.append(argument)
            hide_next = argument in SECRET_OPTIONS
    return masked


def run_command(
    arguments: Sequence[str],
    *,
    environment: Mapping[str, str] | None = None,
    on_output: OutputHandler | None = None,
) -> CommandResult:
    """Run one command, passing each output line (stdout and stderr merged) to `on_output`.

    Raises BuilderNotFoundError when the program does not exist; a non-zero exit is
    returned, not raised.
    """
    logger.info("running %s", shlex.join(mask_arguments(arguments)))
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        process = subprocess.Popen(  # noqa: S603 - argument list, no shell
            list(arguments),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(environment) if environment is not None else None,
            text=True,
            errors="replace",
            bufsize=1,
        )
    except FileNotFoundError as error:
        raise BuilderNotFoundError(
            f"{arguments[0]} not found: install it or choose another builder with --builder"
        ) from error

    with process:
        assert process.stdout is not None
        for line in process.stdout:
            text = line.rstrip("\n")
            tail.append(text)
            if on_output is not None:
                on_output(text)
    logger.debug("%s exited with %d", arguments[0], process.returncode)
    return CommandResult(returncode=process.returncode, tail=tuple(tail))
