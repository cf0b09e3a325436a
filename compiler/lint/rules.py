"""Lint rules: what in a Dockerfile is not pinned or not verified.

Each check looks at one instruction and yields issues with the token at fault, so the
finding points at the line and column where it is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from compiler.findings import Rule
from compiler.lint.dockerfile import Cursor, Instruction
from compiler.lint.shell import program_name, run_script, split_commands

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("from-unpinned", "error", "FROM names an image without a digest."),
        Rule("from-latest", "error", "FROM uses the :latest tag without a digest."),
        Rule("apk-unpinned", "error", "apk add installs a package without an exact version."),
        Rule("apt-unpinned", "error", "apt-get install installs a package without a version."),
        Rule("pip-unpinned", "error", "pip install installs a package without an == version."),
        Rule("npm-unpinned", "error", "npm install installs a package without a version."),
        Rule("download-unverified", "error", "A URL is downloaded with no checksum verification."),
        Rule(
            "git-unverified",
            "error",
            "git clone fetches a branch or tag with no check of the commit it gets.",
        ),
    )
}

DIGEST = re.compile(r"@[a-z0-9]+([+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
URL = re.compile(r"^(https?|ftp)://", re.IGNORECASE)
GIT_URL = re.compile(r"^(git@|git://|ssh://)|\.git(#.*)?$")

APK_EXACT = re.compile(r"^[^=<>~]+=[^=<>~]+$")
APT_EXACT = re.compile(r"^[^=/]+=[^=]+$")
PIP_EXACT = re.compile(r"^[A-Za-z0-9_.\[\],-]+===?[^=<>~!*,;]+$")
NPM_EXACT = re.compile(r"^(@[^/@]+/)?[^@]+@v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
CHECKSUM_PROGRAMS = frozenset(
    {"sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "md5sum", "b2sum", "shasum"}
)

# Options that take the next word as their value, per command.
APK_VALUE_OPTIONS = frozenset(
    {"-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir",
     "--repositories-file", "-t", "--virtual", "--timeout"}
)  # fmt: skip
APT_VALUE_OPTIONS = frozenset({"-o", "--option", "-t", "--target-release", "-c", "--config-file"})
PIP_VALUE_OPTIONS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
     "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
     "--platform", "--python-version", "--implementation", "--abi", "--trusted-host", "--src",
     "--upgrade-strategy", "--progress-bar", "--cache-dir", "--log", "--timeout", "--retries",
     "--only-binary", "--no-binary", "--proxy", "--cert", "--client-cert", "--report"}
)  # fmt: skip
NPM_VALUE_OPTIONS = frozenset(
    {"--prefix", "--registry", "--cache", "--tag", "-w", "--workspace", "--omit", "--include",
     "--install-strategy", "--userconfig"}
)  # fmt: skip
NPM_INSTALL = frozenset(
    {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal",
     "isntall", "add"}
)  # fmt: skip


@dataclass(frozen=True)
class Issue:
    """One problem in one instruction, before it becomes a finding."""

    rule: str
    line: int
    column: int | None
    message: str
    fix: str


@dataclass
class Context:
    """The stage names and global ARG defaults that earlier instructions declared."""

    stages: set[str] = field(default_factory=set)
    arguments: dict[str, str | None] = field(default_factory=dict)
    seen_from: bool = False


def check_instruction(instruction: Instruction, context: Context) -> Iterator[Issue]:
    """Yield the issues of one instruction, updating `context` with what it declares."""
    if instruction.keyword == "ARG" and not context.seen_from:
        _record_arguments(instruction.arguments, context.arguments)
    elif instruction.keyword == "FROM":
        context.seen_from = True
        yield from check_from(instruction, context)
    elif instruction.keyword == "RUN":
        yield from check_run(instruction)
    elif instruction.keyword == "ADD":
        yield from check_add(instruction)


# ----- FROM -----


def check_from(instruction: Instruction, context: Context) -> Iterator[Issue]:
    """Check that FROM pins its image by digest, unless it is scratch or an earlier stage."""
    words = instruction.arguments.split()
    while words and words[0].startswith("--"):
        option = words.pop(0)
        if "=" not in option and words:
            words.pop(0)
    if not words:
        return
    written = words[0]
    earlier = set(context.stages)
    if len(words) >= 3 and words[1].lower() == "as":
        context.stages.add(words[2].lower())

    reference, unset = expand_arguments(written, context.arguments)
    if reference.lower() == "scratch" or reference.lower() in earlier:
        return
    if DIGEST.search(reference):
        return

    found = instruction.locate(written)
    line, column = (found.line, found.column) if found else (instruction.line, None)
    fix = "pin the image by digest: NAME:TAG@sha256:DIGEST"
    if unset:
        message = (
            f"FROM {written} uses build argument {unset[0]}, which has no default, so the "
            "image cannot be known to be pinned by digest"
        )
        yield Issue("from-unpinned", line, column, message, fix)
    elif _tag(reference) == "latest":
        yield Issue("from-latest", line, column, f"FROM {written} uses :latest with no digest", fix)
    else:
        shown = written if reference == written else f"{written} ({reference})"
        yield Issue("from-unpinned", line, column, f"FROM {shown} has no digest", fix)


def expand_arguments(text: str, values: Mapping[str, str | None]) -> tuple[str, list[str]]:
    """Expand `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+word}` from ARG defaults.

    Returns the text and the names that had no value and no default.
    """
    unset: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        operator, word = match.group(2), match.group(3) or ""
        value = values.get(name)
        if operator in (":-", "-"):
            return value if value else word
        if operator in (":+", "+"):
            return word if value else ""
        if value is None:
            unset.append(name)
            return match.group(0)
        return value

    return VARIABLE.sub(replace, text), unset


def _record_arguments(arguments: str, values: dict[str, str | None]) -> None:
    for word in arguments.split():
        name, separator, default = word.partition("=")
        values[name] = default.strip("\"'") if separator else None


def _tag(reference: str) -> str | None:
    name = reference.rsplit("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


# ----- RUN -----


COMMIT_HASH = re.compile(r"(?<![0-9a-f])([0-9a-f]{40}|[0-9a-f]{64})(?![0-9a-f])")
# Options of `git` itself and of `git clone` that take a value as the next word.
GIT_VALUE_OPTIONS = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
GIT_CLONE_VALUE_OPTIONS = frozenset(
    {
        "-b",
        "--branch",
        "--depth",
        "-o",
        "--origin",
        "-u",
        "--upload-pack",
        "--reference",
        "--separate-git-dir",
        "-c",
        "--config",
        "--shallow-since",
        "--shallow-exclude",
        "-j",
        "--jobs",
        "--filter",
        "--template",
    }
)


def check_run(instruction: Instruction) -> Iterator[Issue]:
    """Check the package installs and downloads of a RUN instruction."""
    commands = split_commands(run_script(instruction.arguments, instruction.heredocs))
    verified = any(_verifies_checksum(words) for words in commands)
    # A full commit hash anywhere in the RUN (`git checkout HASH`, a `git rev-parse HEAD`
    # comparison) pins what a clone fetched, since tags and branches can move.
    pins_commit = any(COMMIT_HASH.search(word) for words in commands for word in words)
    cursor: Cursor | None = None
    for words in commands:
        for rule, token, message, fix in _command_issues(words, verified, pins_commit):
            found = instruction.locate(token, cursor)
            if found is None:
                yield Issue(rule, instruction.line, None, message, fix)
                continue
            cursor = found.after
            yield Issue(rule, found.line, found.column, message, fix)


def _command_issues(
    words: list[str], verified: bool, pins_commit: bool
) -> Iterator[tuple[str, str, str, str]]:
    """Yield (rule, token at fault, message, fix) for one simple command."""
    program = program_name(words[0])
    arguments = words[1:]
    if program == "apk":
        yield from _apk_issues(arguments)
    elif program in ("apt-get", "apt"):
        yield from _apt_issues(program, arguments)
    elif re.fullmatch(r"pip[0-9.]*", program):
        yield from _pip_issues(arguments)
    elif re.fullmatch(r"python[0-9.]*", program) and arguments[:2] == ["-m", "pip"]:
        yield from _pip_issues(arguments[2:])
    elif program == "npm":
        yield from _npm_issues(arguments)
    elif program == "git" and not pins_commit:
        yield from _git_issues(arguments)
    elif program in ("curl", "wget") and not verified:
        for word in arguments:
            if URL.match(word):
                yield (
                    "download-unverified",
                    word,
                    f"{program} downloads {word} with no checksum verification in this RUN",
                    "check the file in the same RUN, such as "
                    "`echo 'SHA256  FILE' | sha256sum -c -`",
                )


def _git_issues(arguments: list[str]) -> Iterator[tuple[str, str, str, str]]:
    subcommand, rest = _subcommand(arguments, GIT_VALUE_OPTIONS)
    if subcommand != "clone":
        return
    for word in _operands(rest, GIT_CLONE_VALUE_OPTIONS):
        yield (
            "git-unverified",
            word,
            f"git clone of {word} does not check the commit it fetched",
            "check it in the same RUN, such as "
            '`test "$(git rev-parse HEAD)" = "COMMIT"`, or `git checkout COMMIT`',
        )
        return


def _subcommand(arguments: list[str], value_options: frozenset[str]) -> tuple[str, list[str]]:
    """Return the first word that is not an option, and the words after it."""
    index = 0
    while index < len(arguments):
        word = arguments[index]
        if word in value_options:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            return word, arguments[index + 1 :]
    return "", []


def _operands(arguments: list[str], value_options: frozenset[str]) -> Iterator[str]:
    """Yield the words that are neither options nor option values."""
    skip = False
    for word in arguments:
        if skip:
            skip = False
        elif word in value_options:
            skip = True
        elif not word.startswith("-"):
            yield word


def _apk_issues(arguments: list[str]) -> Iterator[tuple[str, str, str, str]]:
    subcommand, rest = _subcommand(arguments, APK_VALUE_OPTIONS)
    if subcommand != "add":
        return
    for package in _operands(rest, APK_VALUE_OPTIONS):
        if "$" in package or package.endswith(".apk") or APK_EXACT.match(package):
            continue
        yield (
            "apk-unpinned",
            package,
            f"apk add {package} has no exact version",
            f"pin it as {package.split('>')[0].split('<')[0].split('~')[0]}=VERSION",
        )


def _apt_issues(program: str, arguments: list[str]) -> Iterator[tuple[str, str, str, str]]:
    subcommand, rest = _subcommand(arguments, APT_VALUE_OPTIONS)
    if subcommand != "install":
        return
    for package in _operands(rest, APT_VALUE_OPTIONS):
        if "$" in package or package.endswith(".deb") or package.startswith((".", "/")):
            continue
        if APT_EXACT.match(package):
            continue
        name = package.split("/")[0].split("=")[0]
        yield (
            "apt-unpinned",
            package,
            f"{program} install {package} has no exact version",
            f"pin it as {name}=VERSION",
        )


def _pip_issues(arguments: list[str]) -> Iterator[tuple[str, str, str, str]]:
    subcommand, rest = _subcommand(arguments, PIP_VALUE_OPTIONS)
    if subcommand != "install":
        return
    for requirement in _operands(rest, PIP_VALUE_OPTIONS):
        if (
            "$" in requirement
            or "/" in requirement
            or requirement.startswith(".")
            or requirement.endswith((".whl", ".tar.gz", ".zip"))
            or PIP_EXACT.match(requirement)
        ):
            continue
        name = re.split(r"[<>=~!;\[]", requirement, maxsplit=1)[0]
        yield (
            "pip-unpinned",
            requirement,
            f"pip install {requirement} has no == version",
            f"pin it as {name}==VERSION, or install from a requirements file with hashes",
        )


def _npm_issues(arguments: list[str]) -> Iterator[tuple[str, str, str, str]]:
    subcommand, rest = _subcommand(arguments, NPM_VALUE_OPTIONS)
    if subcommand not in NPM_INSTALL:
        return
    for package in _operands(rest, NPM_VALUE_OPTIONS):
        if (
            "$" in package
            or package.startswith((".", "/", "git+", "github:", "file:"))
            or "://" in package
            or package.endswith((".tgz", ".tar.gz"))
            or NPM_EXACT.match(package)
        ):
            continue
        name = package[0] + package[1:].split("@", 1)[0]
        yield (
            "npm-unpinned",
            package,
            f"npm install {package} has no exact version",
            f"pin it as {name}@VERSION, or run `npm ci` with a lockfile",
        )


def _verifies_checksum(words: list[str]) -> bool:
    """Tell whether a command checks a download: `sha256sum -c`, `gpg --verify` and such."""
    program = program_name(words[0])
    arguments = words[1:]
    if program in CHECKSUM_PROGRAMS:
        return any(
            word == "--check" or (re.fullmatch(r"-[A-Za-z]+", word) and "c" in word)
            for word in arguments
        )
    if program in ("gpg", "gpg2"):
        return "--verify" in arguments
    if program == "gpgv":
        return True
    if program == "cosign":
        return bool(arguments) and arguments[0].startswith("verify")
    if program == "minisign":
        return "-V" in arguments
    return False


# ----- ADD -----


def check_add(instruction: Instruction) -> Iterator[Issue]:
    """Check that ADD of a URL carries `--checksum`."""
    words = instruction.arguments.split()
    options = [word for word in words if word.startswith("--")]
    if any(option.startswith("--checksum=") for option in options):
        return
    operands = _add_operands(instruction.arguments)
    for source in operands[:-1]:
        if URL.match(source) or GIT_URL.search(source):
            found = instruction.locate(source)
            line, column = (found.line, found.column) if found else (instruction.line, None)
            yield Issue(
                "download-unverified",
                line,
                column,
                f"ADD {source} has no --checksum",
                "add --checksum=sha256:DIGEST, or download and check it in a RUN",
            )


def _add_operands(arguments: str) -> list[str]:
    """Return the sources and the destination of ADD, in the shell or the JSON form."""
    text = arguments
    while text.startswith("--"):
        text = text.partition(" ")[2].lstrip()
    if text.startswith("["):
        try:
            words = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return text.split()
        if isinstance(words, list):
            return [str(word) for word in words]
    return text.split()
