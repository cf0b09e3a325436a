"""APKINDEX reading: the signed `APKINDEX.tar.gz` that mirrors serve, and its text form.

The archive is two concatenated gzip streams. The first holds one tar member,
`.SIGN.RSA.<key file name>`, whose content is an RSA PKCS#1 v1.5 signature over the SHA-1
of the raw bytes that follow the first stream. The second holds `DESCRIPTION` and `APKINDEX`.
"""

from __future__ import annotations

import io
import logging
import re
import tarfile
import zlib
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA1, SHA256, HashAlgorithm

from compiler.apk.keys import KeyRing
from compiler.apk.version import OPERATORS, InvalidVersionError, is_valid_version, parse_version
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


@dataclass(frozen=True, slots=True)
class Dependency:
    """One dependency, provide, install_if condition or world entry.

    `op` is "" for any version, one of `< <= = >= > ~ <~ >~`, or `><` for a checksum
    match (`version` then holds the checksum). `conflict` marks a `!name` entry.
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


@dataclass(frozen=True, slots=True, eq=False)
class ApkPackage:
    """One package entry of an APKINDEX; field letters follow the index format.

    `broken` holds the reason a package can never be installed (a dependency apk-tools
    cannot parse), or None. Equality is identity, since a solve keys its state by package.
    """

    name: str  # P
    version: str  # V
    arch: str | None = None  # A; None means every architecture
    depends: tuple[Dependency, ...] = ()  # D
    provides: tuple[Dependency, ...] = ()  # p
    install_if: tuple[Dependency, ...] = ()  # i
    provider_priority: int = 0  # k
    origin: str | None = None  # o
    checksum: str | None = None  # C
    build_time: int | None = None  # t
    size: int | None = None  # S
    installed_size: int | None = None  # I
    license: str | None = None  # L
    url: str | None = None  # U
    description: str | None = None  # T
    maintainer: str | None = None  # m
    commit: str | None = None  # c
    broken: str | None = None

    def __str__(self) -> str:
        return f"{self.name}-{self.version}"


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


@lru_cache(maxsize=65536)
def parse_dependency(text: str) -> Dependency:
    """Parse `[!]name[@tag][op version]`; raise InvalidDependencyError when it is malformed.

    The version must be valid for every operator except the checksum match `><`.
    """
    match = _DEPENDENCY_PATTERN.fullmatch(text)
    if match is None:
        raise InvalidDependencyError(text)
    name, tag, op, version = match.group("name", "tag", "op", "version")
    conflict = bool(match.group("conflict"))
    if op is None:
        return Dependency(name, "", None, conflict, tag)

    if op != CHECKSUM_OPERATOR:
        if op not in OPERATORS:
            raise InvalidDependencyError(text)
        try:
            parse_version(version)
        except InvalidVersionError:
            raise InvalidDependencyError(text) from None
    return Dependency(name, op, version, conflict, tag)


@lru_cache(maxsize=65536)
def _parse_dependency_list(value: str) -> tuple[tuple[Dependency, ...], str | None]:
    """Parse a space-separated index field; return the entries and why it is broken, if so."""
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


def parse_index_text(text: str, *, source: str) -> tuple[ApkPackage, ...]:
    """Parse the text form of an APKINDEX: stanzas of `X:value` lines split by blank lines.

    Unknown field letters are skipped, as apk-tools does. A package whose version or
    dependencies apk-tools cannot parse is kept with `broken` set. Raises IndexFormatError
    naming `source` and the line for a line without `X:` or a stanza without P: or V:.
    """
    packages: list[ApkPackage] = []
    offset = 0
    for stanza in text.split("\n\n"):
        if stanza.strip("\n"):
            packages.append(_parse_stanza(stanza.strip("\n"), text, offset, source))
        offset += len(stanza) + 2
    return tuple(packages)


def _parse_stanza(stanza: str, text: str, offset: int, source: str) -> ApkPackage:
    lines = stanza.split("\n")
    fields = {line[0]: line[2:] for line in lines if line[1:2] == ":"}
    if len(fields) != len(lines):
        fields = _parse_fields_slowly(lines, text, offset, source)
    name = fields.get("P")
    version = fields.get("V")
    if not name or not version:
        line = text.count("\n", 0, offset) + 1
        raise IndexFormatError(f"{source}:{line}: package entry without P: or V:")

    broken = None if is_valid_version(version) else f"invalid version {version!r}"
    depends: tuple[Dependency, ...] = ()
    provides: tuple[Dependency, ...] = ()
    install_if: tuple[Dependency, ...] = ()
    if "D" in fields:
        depends, reason = _parse_dependency_list(fields["D"])
        broken = broken or reason
    if "p" in fields:
        provides, reason = _parse_provides(fields["p"])
        broken = broken or reason
    if "i" in fields:
        install_if, reason = _parse_dependency_list(fields["i"])
        broken = broken or reason

    try:
        return ApkPackage(
            name,
            version,
            fields.get("A"),
            depends,
            provides,
            install_if,
            int(fields.get("k", 0)),
            fields.get("o"),
            fields.get("C"),
            _optional_int(fields.get("t")),
            _optional_int(fields.get("S")),
            _optional_int(fields.get("I")),
            fields.get("L"),
            fields.get("U"),
            fields.get("T"),
            fields.get("m"),
            fields.get("c"),
            broken,
        )
    except ValueError as error:
        line = text.count("\n", 0, offset) + 1
        raise IndexFormatError(f"{source}:{line}: package {name}: {error}") from None


def _parse_fields_slowly(lines: list[str], text: str, offset: int, source: str) -> dict[str, str]:
    """Read fields one line at a time: for repeated D:, p: or i: lines, or to report a bad one."""
    fields: dict[str, str] = {}
    for number, line in enumerate(lines):
        if line[1:2] != ":":
            at = text.count("\n", 0, offset) + 1 + number
            raise IndexFormatError(f"{source}:{at}: expected an 'X:value' line, got {line!r}")
        key = line[0]
        if key in fields and key in "Dpi":
            fields[key] += " " + line[2:]
        else:
            fields[key] = line[2:]
    return fields


def _optional_int(value: str | None) -> int | None:
    return None if value is None else int(value)


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
