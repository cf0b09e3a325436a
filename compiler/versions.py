"""The version policy shared by every versioned source: parse, filter and order versions.

Three orderings are supported:

- ``semver``: ``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`` with an optional leading ``v``,
  ordered by the precedence rules of Semantic Versioning 2.0.0 (build metadata is ignored).
- ``loose``: dotted numbers of any length with an optional leading ``v`` and an optional
  suffix (``1.2``, ``v3.0``, ``2.0.0-rc1``, ``0.12.0rc1``). Trailing zero components do not
  count, so ``1.2`` equals ``1.2.0``. A suffix that starts with a prerelease word (``dev``,
  ``alpha``, ``beta``, ``rc`` and the others in ``PRERELEASE_WORDS``) marks a prerelease,
  which sorts before the release. Any other suffix (``-1``, ``.post2``, ``-hotfix``) marks a
  post-release, which sorts after it. Text after ``+`` is build metadata and is ignored.
- ``pep440``: Python's version scheme, parsed and ordered by ``packaging.version``.

Two different tags can carry equal versions, such as ``v1.2.3`` and ``1.2.3``. Among those,
`select_latest` picks the tag that sorts first as a string, so ``1.2.3`` wins over ``v1.2.3``
and ``1.2`` wins over ``1.2.0``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from packaging.version import InvalidVersion, Version

from spec.errors import PinwrightError

Ordering = Literal["semver", "loose", "pep440"]
ORDERINGS: tuple[Ordering, ...] = ("semver", "loose", "pep440")

# Rank of each prerelease word in the loose ordering: dev < alpha < beta < pre < rc.
PRERELEASE_WORDS: dict[str, int] = {
    "dev": 0,
    "snapshot": 0,
    "nightly": 0,
    "canary": 0,
    "alpha": 1,
    "a": 1,
    "beta": 2,
    "b": 2,
    "pre": 3,
    "preview": 3,
    "rc": 4,
    "c": 4,
    "cr": 4,
}
UNKNOWN_WORD_RANK = len(PRERELEASE_WORDS)

SEMVER_PATTERN = re.compile(
    r"[vV]?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
LOOSE_PATTERN = re.compile(
    r"[vV]?(?P<release>\d+(?:\.\d+)*+)"
    r"(?P<suffix>[-._+~]?[0-9A-Za-z](?:[0-9A-Za-z._+~-]*[0-9A-Za-z])?)?"
)
MINOR_LINE_PATTERN = re.compile(r"(\d+)\.(\d+)")
IDENTIFIER_PATTERN = re.compile(r"\d+|[A-Za-z]+")


@dataclass(frozen=True, order=True)
class ParsedVersion:
    """A version parsed by one ordering; instances compare by precedence only.

    Two parsed versions are equal when their precedence is equal, even if their text
    differs (``v1.2.3`` and ``1.2.3``). Versions of different orderings compare by the
    ordering's name first, so sorting a mixed list never raises.
    """

    key: tuple[object, ...]
    text: str = field(compare=False)
    release: tuple[int, ...] = field(compare=False)
    prerelease: bool = field(compare=False)

    @property
    def major(self) -> int:
        """The first release component."""
        return self.release[0]

    @property
    def minor(self) -> int:
        """The second release component, 0 when the version has only one."""
        return self.release[1] if len(self.release) > 1 else 0


@dataclass(frozen=True)
class VersionPolicy:
    """The rules that pick the candidate tags of a source and order them.

    Raises ValueError for an invalid `filter` expression, an unknown `ordering`, a
    `minor` line that is not ``MAJOR.MINOR``, or a `minor` line off the `major` line.
    """

    prefix: str = ""  # kept in the rendered value, stripped before comparing
    filter: str | None = None  # regular expression the tag, prefix included, must match
    ordering: Ordering = "loose"
    prerelease: bool = False  # prereleases are excluded unless this is true
    major: int | None = None  # stay on one major line
    minor: str | None = None  # stay on one minor line, such as "1.23"

    def __post_init__(self) -> None:
        if self.ordering not in ORDERINGS:
            raise ValueError(
                f"unknown version ordering {self.ordering!r}, expected one of {ORDERINGS}"
            )
        if self.filter is not None:
            try:
                re.compile(self.filter)
            except re.error as error:
                raise ValueError(f"invalid filter expression {self.filter!r}: {error}") from None
        if self.minor is not None:
            line = parse_minor_line(self.minor)
            if self.major is not None and line[0] != self.major:
                raise ValueError(f"minor line {self.minor} is not on major line {self.major}")

    def describe(self) -> str:
        """Describe the policy in words for error messages."""
        parts = [f"ordering {self.ordering}"]
        if self.prefix:
            parts.append(f"prefix {self.prefix!r}")
        if self.filter is not None:
            parts.append(f"filter {self.filter!r}")
        parts.append("prereleases allowed" if self.prerelease else "stable versions only")
        if self.major is not None:
            parts.append(f"major {self.major}")
        if self.minor is not None:
            parts.append(f"minor {self.minor}")
        return ", ".join(parts)


class NoMatchingVersionError(PinwrightError):
    """No candidate of a source is a version that the policy accepts."""

    def __init__(self, source: str, policy: VersionPolicy, candidate_count: int) -> None:
        super().__init__(
            f"no version of {source} matches the version policy ({policy.describe()}); "
            f"{candidate_count} candidates checked"
        )
        self.source = source
        self.policy = policy


def parse_minor_line(text: str) -> tuple[int, int]:
    """Parse a minor line such as ``1.23``; raise ValueError for any other text."""
    match = MINOR_LINE_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid minor line {text!r}, expected MAJOR.MINOR such as '1.23'")
    return int(match[1]), int(match[2])


def parse_version(text: str, ordering: Ordering) -> ParsedVersion | None:
    """Parse `text` by `ordering`; return None when it is not a version of that ordering."""
    if ordering == "semver":
        return parse_semver(text)
    if ordering == "loose":
        return parse_loose(text)
    return parse_pep440(text)


def parse_semver(text: str) -> ParsedVersion | None:
    """Parse a Semantic Versioning 2.0.0 version with an optional leading ``v``."""
    match = SEMVER_PATTERN.fullmatch(text)
    if match is None:
        return None

    release = (int(match["major"]), int(match["minor"]), int(match["patch"]))
    prerelease = match["prerelease"]
    if prerelease is None:
        return ParsedVersion(("semver", release, 1, ()), text, release, prerelease=False)

    # Numeric identifiers compare as numbers and sort before alphanumeric ones, which
    # compare in ASCII order; a longer list wins when all shared identifiers are equal.
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in prerelease.split(".")
    )
    return ParsedVersion(("semver", release, 0, identifiers), text, release, prerelease=True)


def parse_loose(text: str) -> ParsedVersion | None:
    """Parse dotted numbers with an optional leading ``v`` and an optional suffix."""
    match = LOOSE_PATTERN.fullmatch(text)
    if match is None:
        return None

    release = tuple(int(part) for part in match["release"].split("."))
    significant = release
    while len(significant) > 1 and significant[-1] == 0:
        significant = significant[:-1]

    suffix = (match["suffix"] or "").partition("+")[0]
    words = [part.lower() for part in IDENTIFIER_PATTERN.findall(suffix)]
    identifiers = tuple(identify_word(word) for word in words)
    if not words:
        rank = 1
    elif words[0] in PRERELEASE_WORDS:
        rank = 0
    else:
        rank = 2
    return ParsedVersion(
        ("loose", significant, rank, identifiers), text, release, prerelease=rank == 0
    )


def parse_pep440(text: str) -> ParsedVersion | None:
    """Parse a PEP 440 version with `packaging.version`."""
    try:
        version = Version(text)
    except InvalidVersion:
        return None
    return ParsedVersion(("pep440", version), text, version.release, version.is_prerelease)


def identify_word(word: str) -> tuple[int, int, str]:
    """Return the sort key of one lowercase suffix identifier in the loose ordering.

    Numbers sort before words and compare as numbers. Known prerelease words compare by
    rank, so ``a`` equals ``alpha``, and unknown words sort after them in ASCII order.
    """
    if word.isdigit():
        return (0, int(word), "")
    if word in PRERELEASE_WORDS:
        return (1, PRERELEASE_WORDS[word], "")
    return (1, UNKNOWN_WORD_RANK, word)


def select_latest(candidates: Iterable[str], policy: VersionPolicy, *, source: str) -> str:
    """Return the candidate with the highest version that `policy` accepts.

    A candidate is accepted when it starts with the policy's prefix and matches its
    filter. It must also parse as a version once the prefix is removed, and sit on the
    requested major and minor lines. Prereleases count only when the policy allows them.
    Among candidates of equal version, the one that sorts first as a string wins.
    Raises NoMatchingVersionError, naming `source`, when no candidate is accepted.
    """
    names = sorted(set(candidates))
    accepted = [
        (version, name) for name in names if (version := accept_candidate(name, policy)) is not None
    ]
    if not accepted:
        raise NoMatchingVersionError(source, policy, len(names))

    # max() returns the first of several maximal items, and `names` is sorted.
    return max(accepted, key=lambda item: item[0])[1]


def accept_candidate(name: str, policy: VersionPolicy) -> ParsedVersion | None:
    """Return the parsed version of `name` when `policy` accepts it, else None."""
    if not name.startswith(policy.prefix):
        return None
    if policy.filter is not None and re.search(policy.filter, name) is None:
        return None

    version = parse_version(name[len(policy.prefix) :], policy.ordering)
    if version is None:
        return None
    if version.prerelease and not policy.prerelease:
        return None
    if policy.major is not None and version.major != policy.major:
        return None
    if policy.minor is not None:
        if (version.major, version.minor) != parse_minor_line(policy.minor):
            return None
    return version


def classify_change(old: str, new: str, ordering: Ordering = "loose") -> str:
    """Classify the step from version `old` to version `new` for change reports.

    Returns "downgrade" when `new` sorts before `old`. Otherwise it returns "major",
    "minor" or "patch" for the highest release component that changed, and "prerelease"
    when the release numbers are equal and either side is a prerelease. Anything else is
    "other": equal versions, a change in a build or post-release suffix only, or text
    that does not parse.
    """
    before = parse_version(old, ordering)
    after = parse_version(new, ordering)
    if before is None or after is None or before == after:
        return "other"
    if after < before:
        return "downgrade"

    width = max(len(before.release), len(after.release), 3)
    old_release = before.release + (0,) * (width - len(before.release))
    new_release = after.release + (0,) * (width - len(after.release))
    if old_release[0] != new_release[0]:
        return "major"
    if old_release[1] != new_release[1]:
        return "minor"
    if old_release[2:] != new_release[2:]:
        return "patch"
    if before.prerelease or after.prerelease:
        return "prerelease"
    return "other"
