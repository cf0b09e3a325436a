"""Alpine package versions, compared and matched the way apk-tools 3 does it.

A version is `digits{.digits}...{letter}{_suffix{digits}}...{~hexhash}{-rN}`. Suffixes
`_alpha _beta _pre _rc` sort before the bare version, `_cvs _svn _git _hg _p` after it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spec.errors import InvalidInputError

# Token kinds, in the order apk-tools gives them: a version that ends early compares
# below one that goes on, because END has the highest rank.
_INITIAL_DIGIT = 0
_DIGIT = 1
_LETTER = 2
_SUFFIX = 3
_SUFFIX_NUMBER = 4
_COMMIT_HASH = 5
_REVISION = 6
_END = 7
_INVALID = 8

_SUFFIX_NONE = 5
_SUFFIX_RANKS = {
    "alpha": 1,
    "beta": 2,
    "pre": 3,
    "rc": 4,
    "cvs": 6,
    "svn": 7,
    "git": 8,
    "hg": 9,
    "p": 10,
}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")

# Comparison results as a bit mask, so an operator is the set of results it accepts.
LESS = 1
EQUAL = 2
GREATER = 4
FUZZY = 8

OPERATORS: dict[str, int] = {
    "<": LESS,
    "<=": LESS | EQUAL,
    "=": EQUAL,
    ">=": GREATER | EQUAL,
    ">": GREATER,
    "~": EQUAL | FUZZY,
    "<~": LESS | EQUAL | FUZZY,
    ">~": GREATER | EQUAL | FUZZY,
}

# A token is (kind, sort key). Digits with a leading zero sort as strings, like apk.
Token = tuple[int, int | str]


class InvalidVersionError(InvalidInputError):
    """A version string that apk-tools would reject."""

    def __init__(self, version: str) -> None:
        super().__init__(
            f"invalid version {version!r}: expected digits{{.digits}}{{letter}}"
            "{_suffix{N}}{~hash}{-rN}"
        )
        self.version = version


@lru_cache(maxsize=65536)
def tokenize_version(version: str) -> tuple[tuple[Token, ...], bool]:
    """Split `version` into comparable tokens and return them with its validity.

    An invalid version ends with an INVALID token where parsing stopped, so it can still
    be ordered the way apk-tools orders it.
    """
    end = _scan_digits(version, 0)
    if end == 0:
        return ((_INVALID, 0),), False
    tokens: list[Token] = [(_INITIAL_DIGIT, int(version[:end]))]
    position = end
    kind = _INITIAL_DIGIT

    while position < len(version):
        try:
            kind, key, position = _next_token(version, position, kind)
        except InvalidVersionError:
            tokens.append((_INVALID, 0))
            return tuple(tokens), False
        tokens.append((kind, key))
    return tuple(tokens), True


def parse_version(version: str) -> tuple[Token, ...]:
    """Split `version` into comparable tokens; raise InvalidVersionError when it is invalid."""
    tokens, valid = tokenize_version(version)
    if not valid:
        raise InvalidVersionError(version)
    return tokens


def _scan_digits(text: str, start: int) -> int:
    end = start
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    return end


def _next_token(version: str, position: int, previous: int) -> tuple[int, int | str, int]:
    """Read the token at `position` after a token of kind `previous`."""
    char = version[position]

    if "a" <= char <= "z":
        if previous > _DIGIT:
            raise InvalidVersionError(version)
        return _LETTER, ord(char), position + 1

    if char == "." or "0" <= char <= "9":
        if char == ".":
            if previous > _DIGIT:
                raise InvalidVersionError(version)
            position += 1
        # apk-tools 2 and the Alpine indexes accept a digit after a letter (`0.99f7`).
        if previous in (_INITIAL_DIGIT, _DIGIT) or (previous == _LETTER and char != "."):
            kind = _DIGIT
        elif previous == _SUFFIX:
            kind = _SUFFIX_NUMBER
        else:
            raise InvalidVersionError(version)
        end = _scan_digits(version, position)
        if end == position:
            raise InvalidVersionError(version)
        digits = version[position:end]
        key: int | str = digits if kind == _DIGIT and digits[0] == "0" else int(digits)
        return kind, key, end

    if char == "_":
        if previous > _SUFFIX_NUMBER:
            raise InvalidVersionError(version)
        end = position + 1
        while end < len(version) and "a" <= version[end] <= "z":
            end += 1
        rank = _SUFFIX_RANKS.get(version[position + 1 : end])
        if rank is None:
            raise InvalidVersionError(version)
        return _SUFFIX, rank, end

    if char == "~":
        if previous >= _COMMIT_HASH:
            raise InvalidVersionError(version)
        end = position + 1
        while end < len(version) and version[end] in _HEX_DIGITS:
            end += 1
        if end == position + 1:
            raise InvalidVersionError(version)
        return _COMMIT_HASH, version[position + 1 : end], end

    if char == "-" and version.startswith("-r", position) and previous < _REVISION:
        end = _scan_digits(version, position + 2)
        if end == position + 2:
            raise InvalidVersionError(version)
        return _REVISION, int(version[position + 2 : end]), end

    raise InvalidVersionError(version)


# The versions that `tokenize_version` accepts, as one pattern: validating a version this
# way costs a fraction of tokenizing it. A letter may follow digits only, digits may follow
# a letter without a dot, and a dot may not follow a letter.
VALID_VERSION = re.compile(
    r"[0-9]+(?:\.[0-9]+|[a-z][0-9]+)*+[a-z]?"
    r"(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*+)*+"
    r"(?:~[0-9a-fA-F]++)?(?:-r[0-9]++)?"
)


def is_valid_version(version: str) -> bool:
    """Return whether apk-tools accepts `version`."""
    return VALID_VERSION.fullmatch(version) is not None


def compare_tokens(a: tuple[Token, ...], b: tuple[Token, ...], *, fuzzy: bool = False) -> int:
    """Compare two parsed versions and return LESS, EQUAL or GREATER.

    With `fuzzy`, `a` equals `b` when `b` is a prefix of `a` (the `~` operator).
    """
    for (kind_a, key_a), (kind_b, key_b) in zip(a, b, strict=False):
        if kind_a != kind_b:
            return _compare_kinds(kind_a, key_a, kind_b, key_b)
        if key_a != key_b:
            if isinstance(key_a, str) or isinstance(key_b, str):
                return LESS if str(key_a) < str(key_b) else GREATER
            return LESS if key_a < key_b else GREATER

    if len(a) == len(b):
        return EQUAL
    if len(a) > len(b):
        if fuzzy:
            return EQUAL
        kind, key = a[len(b)]
        return _compare_kinds(kind, key, _END, 0)
    kind, key = b[len(a)]
    return _compare_kinds(_END, 0, kind, key)


def _compare_kinds(kind_a: int, key_a: int | str, kind_b: int, key_b: int | str) -> int:
    """Order two versions that are equal up to tokens of different kinds."""
    if kind_a == _SUFFIX and isinstance(key_a, int) and key_a < _SUFFIX_NONE:
        return LESS
    if kind_b == _SUFFIX and isinstance(key_b, int) and key_b < _SUFFIX_NONE:
        return GREATER
    return LESS if kind_a > kind_b else GREATER


def compare_versions(a: str, b: str, *, strict: bool = True) -> int:
    """Return -1, 0 or 1 as version `a` sorts before, equal to or after `b`.

    Raises InvalidVersionError naming the first invalid version. With `strict=False`,
    invalid versions are ordered as apk-tools orders them instead: token by token up to
    the first invalid part, which sorts below everything.
    """
    if strict:
        result = compare_tokens(parse_version(a), parse_version(b))
    else:
        result = compare_tokens(tokenize_version(a)[0], tokenize_version(b)[0])
    return {LESS: -1, EQUAL: 0, GREATER: 1}[result]


def parse_operator(op: str) -> tuple[int, bool]:
    """Return the result mask of `op` and whether it is negated with a leading `!`.

    Raises InvalidInputError for an unknown operator.
    """
    negated = op.startswith("!")
    mask = OPERATORS.get(op[1:] if negated else op)
    if mask is None:
        known = ", ".join(OPERATORS)
        raise InvalidInputError(f"invalid version operator {op!r}: expected one of {known}")
    return mask, negated


def match_version(version: str, op: str, other: str) -> bool:
    """Return whether `version` satisfies `op other`, e.g. `match_version("1.2", ">=", "1.0")`.

    `op` is one of `< <= = >= > ~ <~ >~`, optionally negated with a leading `!`.
    Raises InvalidVersionError for an invalid version, InvalidInputError for an unknown operator.
    """
    mask, negated = parse_operator(op)
    result = compare_tokens(parse_version(version), parse_version(other), fuzzy=bool(mask & FUZZY))
    return bool(result & mask) != negated
