"""Index parsing and signature verification."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from compiler.apk.index import (
    ApkPackage,
    Dependency,
    IndexFormatError,
    IndexSignatureError,
    _IndexText,
    _parse_any_order,
    _parse_canonical,
    parse_index_text,
    read_index_archive,
)
from compiler.apk.keys import load_keyring
from tests.conftest import SHARED_FIXTURES

REAL = SHARED_FIXTURES / "apk" / "alpine-v3.20.2-main-x86_64.APKINDEX.tar.gz"

FULL = """\
C:Q1abc=
P:busybox
V:1.36.1-r29
A:x86_64
S:500
I:900
T:Size optimized toolbox
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Someone <a@b.c>
t:1700000000
c:abcdef
D:so:libc.musl-x86_64.so.1 !busybox-extras
p:/bin/sh cmd:sh=1.36.1-r29
i:busybox docs
k:100
"""


def test_every_field_parsed() -> None:
    (package,) = parse_index_text(FULL, source="sample")
    assert (package.name, package.version, package.arch) == ("busybox", "1.36.1-r29", "x86_64")
    assert (package.size, package.installed_size, package.build_time) == (500, 900, 1700000000)
    assert package.checksum == "Q1abc="
    assert package.origin == "busybox"
    assert package.commit == "abcdef"
    assert package.maintainer == "Someone <a@b.c>"
    assert package.license == "GPL-2.0-only"
    assert package.url == "https://busybox.net/"
    assert package.description == "Size optimized toolbox"
    assert package.provider_priority == 100
    assert package.depends == (
        Dependency("so:libc.musl-x86_64.so.1"),
        Dependency("busybox-extras", conflict=True),
    )
    assert package.provides == (Dependency("/bin/sh"), Dependency("cmd:sh", "=", "1.36.1-r29"))
    assert package.install_if == (Dependency("busybox"), Dependency("docs"))
    assert package.broken is None


def test_broken_dependency_marked() -> None:
    (package,) = parse_index_text("P:x\nV:1\nD:y@tag\n", source="sample")
    assert package.broken == "dependency 'y@tag' names a repository tag"


@pytest.mark.parametrize(
    ("depends", "broken"),
    [
        ("a b>=1.0 c=>1", "invalid dependency 'c=>1'"),
        ("a b>=1.0xy", "invalid dependency 'b>=1.0xy'"),
        ("a b>= c", "invalid dependency 'b>='"),
        ("a b!c", "invalid dependency 'b!c'"),
        ("a b@tag>=1 c=>1", "dependency 'b@tag>=1' names a repository tag"),
        ("a<=>1 b", "invalid dependency 'a<=>1'"),
    ],
)
def test_first_bad_word_breaks_package(depends: str, broken: str) -> None:
    (package,) = parse_index_text(f"P:x\nV:1\nD:{depends}\n", source="sample")
    assert package.broken == broken
    assert package.depends == ()


def test_checksum_and_version_words() -> None:
    text = "P:x\nV:1\nD:!a b><Q1zz= c><1.0 d~2.2 e<1_rc1-r0\n"
    (package,) = parse_index_text(text, source="sample")
    assert package.broken is None
    assert package.depends == (
        Dependency("a", conflict=True),
        Dependency("b", "><", "Q1zz="),
        Dependency("c", "><", "1.0"),
        Dependency("d", "~", "2.2"),
        Dependency("e", "<", "1_rc1-r0"),
    )


def test_bad_line_names_source() -> None:
    with pytest.raises(IndexFormatError) as caught:
        parse_index_text("P:x\nV:1\n\nnonsense\n", source="idx")
    assert str(caught.value) == "idx:4: expected an 'X:value' line, got 'nonsense'"


def make_unsigned_archive(text: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in (("DESCRIPTION", b"test"), ("APKINDEX", text.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue())


def test_unsigned_archive_needs_permission() -> None:
    data = make_unsigned_archive(FULL)
    with pytest.raises(IndexSignatureError):
        read_index_archive(data, source="local", keys=load_keyring())
    index = read_index_archive(data, source="local", keys=load_keyring(), allow_unsigned=True)
    assert index.signed_by is None
    assert index.description == "test"
    assert [p.name for p in index.packages] == ["busybox"]


def test_real_index_verifies(fixtures_dir: object) -> None:
    index = read_index_archive(REAL.read_bytes(), source=REAL.name, keys=load_keyring())
    assert index.signed_by == "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"
    assert index.description == "v3.20.2-19-ga9bc4d9eff9"
    assert len(index.packages) == 5521


def test_flipped_byte_fails(fixtures_dir: object) -> None:
    data = bytearray(REAL.read_bytes())
    data[-100] ^= 0x01
    with pytest.raises((IndexSignatureError, IndexFormatError)) as caught:
        read_index_archive(bytes(data), source="flipped", keys=load_keyring())
    assert "flipped" in str(caught.value)


def test_flipped_signature_fails(fixtures_dir: object) -> None:
    data = bytearray(REAL.read_bytes())
    plain = gzip.decompress(bytes(data))
    assert plain.startswith(b".SIGN.RSA.")
    signature_stream = io.BytesIO()
    signature = bytearray(plain[512:1024])
    signature[10] ^= 0x01
    with tarfile.open(fileobj=signature_stream, mode="w") as archive:
        info = tarfile.TarInfo(".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub")
        info.size = 512
        archive.addfile(info, io.BytesIO(bytes(signature)))
    first_end = len(data) - len(_rest_after_first_stream(bytes(data)))
    forged = gzip.compress(signature_stream.getvalue()) + bytes(data[first_end:])
    with pytest.raises(IndexSignatureError) as caught:
        read_index_archive(forged, source="forged", keys=load_keyring())
    assert "does not verify" in str(caught.value)


def _rest_after_first_stream(data: bytes) -> bytes:
    import zlib

    decompressor = zlib.decompressobj(wbits=31)
    decompressor.decompress(data)
    return decompressor.unused_data


def test_unknown_key_rejected(fixtures_dir: object) -> None:
    path = SHARED_FIXTURES / "apk" / "wolfi-os-local-build-aarch64.APKINDEX.tar.gz"
    with pytest.raises(IndexSignatureError) as caught:
        read_index_archive(path.read_bytes(), source="wolfi", keys=load_keyring())
    assert "melange.rsa.pub" in str(caught.value)


REAL_INDEXES = sorted((SHARED_FIXTURES / "apk").glob("alpine-*.APKINDEX.tar.gz"))


def index_text(path: object) -> str:
    index = read_index_archive(
        path.read_bytes(),  # type: ignore[attr-defined]
        source="real",
        keys=load_keyring(),
        allow_unsigned=True,
    )
    return index.packages[0]._index.text  # type: ignore[no-any-return]


def eager_fields(package: ApkPackage) -> tuple[object, ...]:
    return (
        package.name,
        package.version,
        package.arch,
        package.checksum,
        package.origin,
        package.provider_priority,
        package.depends,
        package.provides,
        package.install_if,
        package.broken,
        package.installed_size,
        package.description,
    )


@pytest.mark.parametrize("path", REAL_INDEXES, ids=[path.name for path in REAL_INDEXES])
def test_fast_path_matches_general(path: object) -> None:
    text = index_text(path)
    fast_index, general_index = _IndexText(text, "fast"), _IndexText(text, "general")
    fast = _parse_canonical(text, fast_index)
    assert fast is not None
    general = _parse_any_order(text, general_index)
    fast_index.count, general_index.count = len(fast), len(general)
    assert [eager_fields(p) for p in fast] == [eager_fields(p) for p in general]


def test_any_order_fields() -> None:
    text = "P:x\nD:a\nV:1\nC:Q1x=\nD:b\nk:5\nI:7\n\n\n\nV:2\nP:y\n"
    first, second = parse_index_text(text, source="mixed")
    assert first.depends == (Dependency("a"), Dependency("b"))
    assert (first.provider_priority, first.installed_size, first.checksum) == (5, 7, "Q1x=")
    assert (second.name, second.version, second.installed_size) == ("y", "2", None)


def test_stanza_without_version_names_line() -> None:
    with pytest.raises(IndexFormatError) as caught:
        parse_index_text("P:x\nV:1\n\nP:y\nT:no version\n", source="idx")
    assert str(caught.value) == "idx:4: package entry without P: or V:"


def test_invalid_priority_names_line() -> None:
    with pytest.raises(IndexFormatError) as caught:
        parse_index_text("P:x\nV:1\nk:high\n", source="idx")
    assert str(caught.value) == "idx:1: package x: invalid k: value 'high'"


def test_invalid_size_raised_on_read() -> None:
    (package,) = parse_index_text("P:x\nV:1\nS:big\n", source="idx")
    with pytest.raises(IndexFormatError) as caught:
        _ = package.size
    assert str(caught.value) == "idx: package x-1: invalid S: value 'big'"
