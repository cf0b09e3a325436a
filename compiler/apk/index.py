"""APKINDEX reading: the signed `APKINDEX.tar.gz` that mirrors serve, and its text form.

The archive is two concatenated gzip streams. The first contains one tar member,
`.SIGN.RSA.<key file name>`, whose content is an RSA PKCS#1 v1.5 signature over the SHA-1
of the raw bytes that follow the first stream. The second contains `DESCRIPTION` and `APKINDEX`.
"""

from __future__ import annotations

import io
import logging
import re
import tarfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA1, SHA256, HashAlgorithm

from compiler.apk.keys import KeyRing
from compiler.apk.version import OPERATORS, VALID_VERSION, is_valid_version
from spec.errors import InvalidInputError, PinwrightError

logger = logging.getLogger(__name__)

# Characters that end a package name inside a dependency and start its constraint.
_OPERATOR_CHARS = "<>=~"
CHECKSUM_OPERATOR = "><"


class IndexFormatError(PinwrightError):
    """An index that is not a readable APKINDEX archive or text."""


class IndexSignatureError(PinwrightError):
    """An index whose signature is missing, made with an unknown key, or does not verify."""


class InvalidDependencyError(InvalidInputError):
    """A dependency string that is not `[!]name[@tag][op version]`."""

    def __init__(self, text: str) -> None:
        super().__init__(
            f"{text!r} is not a valid dependency, the format is name(@tag)([<>~=]version)"
        )
        self.text = text


class Dependency(NamedTuple):
    """One dependency, provide, install_if condition or world entry.

    `op` is "" for any version, one of `< <= = >= > ~ <~ >~`, or `><` for a checksum
    match (`version` is then the checksum). `conflict` marks a `!name` entry. A named
    tuple, because a solve creates thousands and a tuple is built at a quarter of the
    cost of a frozen dataclass.
    """

    name: str
    op: str = ""
    version: str | None = None
    conflict: bool = False
    tag: str | None = None

    def __str__(self) -> str:
        text = ("!" if self.conflict else "") + self.name
        if self.tag is not None:
            text += "@" + self.tag
        if self.version is not None:
            text += self.op + self.version
        return text


class ApkPackage:
    """One package entry of an APKINDEX; field letters follow the index format.

    Loading keeps the raw text of P, V, A, D, p, i, k, o, C and I. Dependency fields are
    parsed on first use, and the other fields (t, S, L, U, T, m, c) are read from the
    entry's stanza on first use. `broken` is the reason a package can never be
    installed (an invalid version or a dependency apk-tools cannot parse), or None.
    Equality is identity, since a solve keys its state by package.
    """

    __slots__ = (
        "_fields", "_index", "_installed_size", "_lazy", "_ordinal", "arch", "checksum",
        "depends_text", "install_if_text", "name", "origin", "provider_priority",
        "provides_text", "version",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        version: str,
        arch: str | None,
        checksum: str | None,
        origin: str | None,
        provider_priority: int,
        depends_text: str,
        provides_text: str,
        install_if_text: str,
        index: _IndexText,
        ordinal: int,
        installed_size: str | None = None,
    ) -> None:
        self.name = name  # P
        self.version = version  # V
        self.arch = arch  # A; None means every architecture
        self.checksum = checksum  # C
        self.origin = origin  # o
        self.provider_priority = provider_priority  # k
        self.depends_text = depends_text  # D, unparsed
        self.provides_text = provides_text  # p, unparsed
        self.install_if_text = install_if_text  # i, unparsed
        self._index = index
        self._ordinal = ordinal  # position of the package's stanza in the index text
        self._installed_size = installed_size  # I, unparsed; None when absent
        self._fields: dict[str, str] | None = None
        self._lazy: tuple[object, object, object, object] | None = None

    def __str__(self) -> str:
        return f"{self.name}-{self.version}"

    def __repr__(self) -> str:
        return f"ApkPackage({self.name!r}, {self.version!r})"

    @property
    def depends(self) -> tuple[Dependency, ...]:  # D
        return self._parsed()[0]  # type: ignore[return-value]

    @property
    def provides(self) -> tuple[Dependency, ...]:  # p
        return self._parsed()[1]  # type: ignore[return-value]

    @property
    def install_if(self) -> tuple[Dependency, ...]:  # i
        return self._parsed()[2]  # type: ignore[return-value]

    @property
    def broken(self) -> str | None:
        return self._parsed()[3]  # type: ignore[return-value]

    @property
    def build_time(self) -> int | None:  # t
        return self._integer("t")

    @property
    def size(self) -> int | None:  # S
        return self._integer("S")

    @property
    def installed_size(self) -> int | None:  # I
        return self._to_integer("I", self._installed_size)

    @property
    def license(self) -> str | None:  # L
        return self._stanza_fields().get("L")

    @property
    def url(self) -> str | None:  # U
        return self._stanza_fields().get("U")

    @property
    def description(self) -> str | None:  # T
        return self._stanza_fields().get("T")

    @property
    def maintainer(self) -> str | None:  # m
        return self._stanza_fields().get("m")

    @property
    def commit(self) -> str | None:  # c
        return self._stanza_fields().get("c")

    def _parsed(self) -> tuple[object, object, object, object]:
        parsed = self._lazy
        if parsed is None:
            parsed = self._lazy = self._parse_dependencies()
        return parsed

    def _stanza_fields(self) -> dict[str, str]:
        fields = self._fields
        if fields is None:
            lines = self._index.stanza(self._ordinal).split("\n")
            fields = self._fields = {line[0]: line[2:] for line in lines if line[1:2] == ":"}
        return fields

    def _parse_dependencies(self) -> tuple[object, object, object, object]:
        broken = None if is_valid_version(self.version) else f"invalid version {self.version!r}"
        depends, reason = _parse_dependency_list(self.depends_text)
        broken = broken or reason
        provides, reason = _parse_provides(self.provides_text)
        broken = broken or reason
        install_if, reason = _parse_dependency_list(self.install_if_text)
        return depends, provides, install_if, broken or reason

    def _integer(self, key: str) -> int | None:
        return self._to_integer(key, self._stanza_fields().get(key))

    def _to_integer(self, key: str, value: str | None) -> int | None:
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise IndexFormatError(
                f"{self._index.source}: package {self}: invalid {key}: value {value!r}"
            ) from None


@dataclass(frozen=True)
class ApkIndex:
    """A parsed index: its packages, its DESCRIPTION, and the key file that signed it."""

    packages: tuple[ApkPackage, ...]
    description: str
    signed_by: str | None


_DEPENDENCY_PATTERN = re.compile(
    r"(?P<conflict>!?)(?P<name>[^<>=~@!\s]+)(?:@(?P<tag>[^<>=~@\s]+))?"
    r"(?:(?P<op>[<>=~]+)(?P<version>\S+))?"
)

# A dependency on any version of a name, without "!" or a tag: most index entries.
_PLAIN_NAME = re.compile(r"[^<>=~@!\s]+")


@lru_cache(maxsize=65536)
def parse_dependency(text: str) -> Dependency:
    """Parse `[!]name[@tag][op version]`; raise InvalidDependencyError when it is malformed.

    The version must be valid for every operator except the checksum match `><`.
    """
    if _PLAIN_NAME.fullmatch(text):
        return Dependency(text)
    match = _DEPENDENCY_PATTERN.fullmatch(text)
    if match is None:
        raise InvalidDependencyError(text)
    name, tag, op, version = match.group("name", "tag", "op", "version")
    conflict = bool(match.group("conflict"))
    if op is None:
        return Dependency(name, "", None, conflict, tag)

    if op != CHECKSUM_OPERATOR:
        if op not in OPERATORS or not is_valid_version(version):
            raise InvalidDependencyError(text)
    return Dependency(name, op, version, conflict, tag)


# `_DEPENDENCY_PATTERN` for every word of a space-separated field at once, with versions
# checked by the pattern of valid versions. A word that the pattern does not match as a
# whole yields no row, because a row must start and end at the edges of a word. Since a
# version starts with a digit, the greedy operator takes every operator character, as in
# `_DEPENDENCY_PATTERN`.
_DEPENDENCY_WORD = re.compile(
    r"(?<!\S)(!?)([^<>=~@!\s]+)(?:@([^<>=~@\s]+))?(?:([<>=~]+)("
    + VALID_VERSION.pattern
    + r"))?(?!\S)"
)
# A field whose every word is a name, or a name with `=` and a valid version: most D:
# and p: values. Splitting such a field costs less than matching its words one by one.
_SIMPLE_FIELD = re.compile(
    r"\s*+(?:[^<>=~@!\s]++(?:=" + VALID_VERSION.pattern + r")?+(?!\S)\s*+)*+"
)
_new_tuple = tuple.__new__


@lru_cache(maxsize=65536)
def _parse_dependency_list(value: str) -> tuple[tuple[Dependency, ...], str | None]:
    """Parse a space-separated index field; return the entries and why it is broken, if so.

    A field with a word that does not parse, names a tag or matches a checksum goes
    through `_parse_words`, which finds the reason.
    """
    # Building the tuples directly skips the keyword handling of Dependency(...).
    if _SIMPLE_FIELD.fullmatch(value):
        if "=" not in value:
            return tuple(
                [_new_tuple(Dependency, (word, "", None, False, None)) for word in value.split()]
            ), None
        entries = []
        for word in value.split():
            name, _, version = word.partition("=")
            entries.append(
                _new_tuple(Dependency, (name, "=" if version else "", version or None, False, None))
            )
        return tuple(entries), None

    rows = _DEPENDENCY_WORD.findall(value)
    if len(rows) != len(value.split()):
        return _parse_words(value)
    entries = []
    for conflict, name, tag, op, version in rows:
        if tag or (op and op not in OPERATORS):
            return _parse_words(value)
        entries.append(_new_tuple(Dependency, (name, op, version or None, bool(conflict), None)))
    return tuple(entries), None


def _parse_words(value: str) -> tuple[tuple[Dependency, ...], str | None]:
    """Parse a field word by word, to find the word that makes the package broken."""
    entries = []
    for word in value.split():
        try:
            dependency = parse_dependency(word)
        except InvalidDependencyError:
            return (), f"invalid dependency {word!r}"
        if dependency.tag is not None:
            return (), f"dependency {word!r} names a repository tag"
        entries.append(dependency)
    return tuple(entries), None


def _parse_provides(value: str) -> tuple[tuple[Dependency, ...], str | None]:
    provides, broken = _parse_dependency_list(value)
    for provide in provides:
        if provide.conflict or provide.op not in ("", "="):
            return (), f"invalid provide {provide}"
    return provides, broken


class _IndexText:
    """The text of one index, split into stanzas only when a lazy field is first read."""

    __slots__ = ("_stanzas", "count", "source", "text")

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.count = 0
        self._stanzas: list[str] | None = None

    def stanza(self, ordinal: int) -> str:
        if self._stanzas is None:
            stanzas = [part.strip("\n") for part in self.text.split("\n\n")]
            self._stanzas = [part for part in stanzas if part]
            if len(self._stanzas) != self.count:
                raise IndexFormatError(
                    f"{self.source}: found {len(self._stanzas)} stanzas but {self.count} packages"
                )
        return self._stanzas[ordinal]


def parse_index_text(text: str, *, source: str) -> tuple[ApkPackage, ...]:
    """Parse the text form of an APKINDEX: stanzas of `X:value` lines split by blank lines.

    Unknown field letters are skipped, as apk-tools does. A package whose version or
    dependencies apk-tools cannot parse is kept and reports why in `broken`. Raises
    IndexFormatError naming `source` and the line for a line without `X:`, a stanza
    without P: or V:, or a k: value that is not an integer.
    """
    index = _IndexText(text, source)
    packages = _parse_canonical(text, index)
    if packages is None:
        packages = _parse_any_order(text, index)
    index.count = len(packages)
    return packages


# One stanza in the field order that apk-tools writes (C P V A S I ... o ... k D p i), with
# fields that loading does not keep in between. Every kept letter may appear only in its
# slot and only once, and P: and V: may not be empty. A match starts at the blank line
# before its stanza, so the search jumps from one "\n\n" to the next. When the stanza
# after a blank line has another shape, the empty alternative matches instead and yields
# a row of empty strings. The quantifiers are possessive because no line they take could
# match what follows them, and that spares the regex engine its backtracking records.
_OTHER_LINES = r"(?:\n[^CPVAIokDpi\n]:[^\n]*+)*+"
_CANONICAL_STANZA = re.compile(
    r"\n\n(?:C:([^\n]*+)\nP:([^\n]++)\nV:([^\n]++)(?:\nA:([^\n]*+))?(?:\nS:[^\n]*+)?"
    r"(?:\nI:([^\n]++))?"
    + _OTHER_LINES
    + r"(?:\no:([^\n]*+))?"
    + _OTHER_LINES
    + r"(?:\nk:(-?\d+))?(?:\nD:([^\n]*+))?(?:\np:([^\n]*+))?(?:\ni:([^\n]*+))?"
    + r"(?=\n\n|\n*\Z)|(?!\n*\Z))"
)
_NOT_CANONICAL = ("",) * _CANONICAL_STANZA.groups


def _parse_canonical(text: str, index: _IndexText) -> tuple[ApkPackage, ...] | None:
    """Parse an index whose every stanza is in apk-tools' field order, or return None.

    This is the fast path for real indexes: one search for the blank lines, with one
    regular expression match per stanza. The result is used only when every stanza
    matched.
    """
    first_end = text.find("\n\n")
    if first_end < 0:
        first_end = len(text)
    # Only the first stanza has no blank line before it, so it is matched on a copy.
    head = _CANONICAL_STANZA.match("\n\n" + text[:first_end])
    if head is None:
        return None
    rows = [head.groups("")]
    rows += _CANONICAL_STANZA.findall(text, first_end)
    if _NOT_CANONICAL in rows:
        return None

    new_package = ApkPackage
    return tuple(
        [
            new_package(
                name,
                version,
                arch or None,
                checksum,
                origin or None,
                int(priority) if priority else 0,
                depends,
                provides,
                iif,
                index,
                ordinal,
                installed_size or None,
            )
            for ordinal, (
                checksum,
                name,
                version,
                arch,
                installed_size,
                origin,
                priority,
                depends,
                provides,
                iif,
            ) in enumerate(rows)
        ]
    )


# One match per line that loading needs. Groups 1 and 2 are a kept field. Group 3 is set
# at the first newline of a blank-line run and contains the first character after it.
# Group 4 contains a line that is not `X:value`, and is empty for the final newline.
_LOADED_LINE = re.compile(r"\n([PVADpikoCI]):([^\n]*)|\n+(?=\n([^\n]))|\n(?![^\n]:)([^\n]*)")
_REPEATABLE = frozenset("Dpi")


def _parse_any_order(text: str, index: _IndexText) -> tuple[ApkPackage, ...]:
    """Parse stanzas with fields in any order, repeated D:, p: or i: lines, and blank runs."""
    packages: list[ApkPackage] = []
    fields: dict[str, str] = {}
    in_stanza = text[:1] not in ("", "\n")

    # Starting with a newline lets every line, the first included, match after "\n".
    for key, value, next_start, bad in _LOADED_LINE.findall("\n" + text):
        if key:
            if key in fields and key in _REPEATABLE:
                fields[key] += " " + value
            else:
                fields[key] = value
            continue
        if bad:
            line = _line_of(text, bad)
            raise IndexFormatError(
                f"{index.source}:{line}: expected an 'X:value' line, got {bad!r}"
            )
        if in_stanza:
            packages.append(_build_package(fields, index, len(packages), text))
            fields = {}
        in_stanza = bool(next_start)
    if in_stanza:
        packages.append(_build_package(fields, index, len(packages), text))
    return tuple(packages)


def _build_package(
    fields: dict[str, str], index: _IndexText, ordinal: int, text: str
) -> ApkPackage:
    name = fields.get("P")
    version = fields.get("V")
    if not name or not version:
        line = _line_of_stanza(text, ordinal)
        raise IndexFormatError(f"{index.source}:{line}: package entry without P: or V:")
    priority = fields.get("k")
    try:
        provider_priority = 0 if priority is None else int(priority)
    except ValueError:
        line = _line_of_stanza(text, ordinal)
        raise IndexFormatError(
            f"{index.source}:{line}: package {name}: invalid k: value {priority!r}"
        ) from None
    return ApkPackage(
        name,
        version,
        fields.get("A"),
        fields.get("C"),
        fields.get("o"),
        provider_priority,
        fields.get("D", ""),
        fields.get("p", ""),
        fields.get("i", ""),
        index,
        ordinal,
        fields.get("I"),
    )


def _line_of(text: str, line: str) -> int:
    """Return the 1-based number of the first line of `text` that equals `line`."""
    for number, candidate in enumerate(text.split("\n"), start=1):
        if candidate == line:
            return number
    return 0


def _line_of_stanza(text: str, ordinal: int) -> int:
    """Return the 1-based line where the stanza numbered `ordinal` (from 0) starts."""
    seen = -1
    previous_blank = True
    for number, line in enumerate(text.split("\n"), start=1):
        if line and previous_blank:
            seen += 1
            if seen == ordinal:
                return number
        previous_blank = not line
    return 0


def read_index_archive(
    data: bytes, *, source: str, keys: KeyRing, allow_unsigned: bool = False
) -> ApkIndex:
    """Verify and parse an `APKINDEX.tar.gz`.

    Raises IndexSignatureError when the signature does not verify or names a key that is
    not in `keys`, and when the index is unsigned unless `allow_unsigned` is set.
    Raises IndexFormatError when the data is not a gzip'd tar holding an APKINDEX.
    """
    streams = _split_gzip_streams(data, source)
    first_members = _read_tar(streams[0][1], source)
    signature = next(
        ((name, content) for name, content in first_members.items() if name.startswith(".SIGN.")),
        None,
    )

    if signature is None:
        if not allow_unsigned:
            raise IndexSignatureError(f"{source}: index is not signed")
        members = first_members
        signed_by = None
        for _raw, plain in streams[1:]:
            members.update(_read_tar(plain, source))
    else:
        signed_by = _verify_signature(signature, data[len(streams[0][0]) :], keys, source)
        members = {}
        for _raw, plain in streams[1:]:
            members.update(_read_tar(plain, source))

    if "APKINDEX" not in members:
        raise IndexFormatError(f"{source}: archive has no APKINDEX member")
    text = _decode(members["APKINDEX"], source)
    description = _decode(members.get("DESCRIPTION", b""), source).strip()
    return ApkIndex(parse_index_text(text, source=source), description, signed_by)


def _split_gzip_streams(data: bytes, source: str) -> list[tuple[bytes, bytes]]:
    """Return (compressed bytes, decompressed bytes) for each concatenated gzip stream."""
    streams = []
    rest = data
    while rest:
        decompressor = zlib.decompressobj(wbits=31)
        try:
            plain = decompressor.decompress(rest)
        except zlib.error as error:
            raise IndexFormatError(f"{source}: not a gzip archive: {error}") from None
        if not decompressor.eof:
            raise IndexFormatError(f"{source}: gzip stream is truncated")
        used = len(rest) - len(decompressor.unused_data)
        streams.append((rest[:used], plain))
        rest = decompressor.unused_data
    if not streams:
        raise IndexFormatError(f"{source}: archive is empty")
    return streams


def _read_tar(plain: bytes, source: str) -> dict[str, bytes]:
    """Return the regular files of a tar stream; the stream may lack its end blocks."""
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                stream = archive.extractfile(member)
                if stream is not None:
                    members[member.name] = stream.read()
    except tarfile.TarError as error:
        raise IndexFormatError(f"{source}: not a tar archive: {error}") from None
    return members


def _verify_signature(
    signature: tuple[str, bytes], signed: bytes, keys: KeyRing, source: str
) -> str:
    """Verify `signed` against the `.SIGN.RSA.<key>` member and return the key name."""
    member, value = signature
    algorithm: HashAlgorithm
    if member.startswith(".SIGN.RSA256."):
        key_name, algorithm = member.removeprefix(".SIGN.RSA256."), SHA256()
    elif member.startswith(".SIGN.RSA."):
        key_name, algorithm = member.removeprefix(".SIGN.RSA."), SHA1()
    else:
        raise IndexSignatureError(f"{source}: unsupported signature type {member!r}")

    key = keys.get(key_name)
    if key is None:
        raise IndexSignatureError(
            f"{source}: signed with key {key_name!r}, which is not among the trusted keys; "
            "add its folder to the catalog's keys"
        )
    try:
        key.verify(value, signed, PKCS1v15(), algorithm)
    except InvalidSignature:
        raise IndexSignatureError(
            f"{source}: signature does not verify with key {key_name!r}"
        ) from None
    logger.debug("%s: signature verified with %s", source, key_name)
    return key_name


def _decode(content: bytes, source: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise IndexFormatError(f"{source}: index text is not UTF-8: {error}") from None
