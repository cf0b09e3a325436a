"""`pinwright apk`: resolve Alpine package worlds and compare versions like apk-tools.

`compiler.apk` and the HTTP client are imported inside the run functions, so importing
this module, as the CLI does at startup, loads neither `cryptography` nor `requests`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from spec.errors import InvalidInputError, Location
from spec.models import ARCHITECTURES

if TYPE_CHECKING:
    from compiler.apk.keys import KeyRing
    from compiler.apk.solver import Repository
    from compiler.sources.http import HttpClient

DEFAULT_ARCH = "x86_64"
URL_SCHEMES = ("http://", "https://")


class RepositoryArgumentError(InvalidInputError):
    """A --repo value that is not `PATH`, `URL`, `@TAG=PATH` or `@TAG=URL`."""


class RepositoryInvalidError(InvalidInputError):
    """A --repo file or URL whose content is not an APKINDEX."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("apk", help="resolve Alpine packages and compare versions")
    apk_commands = parser.add_subparsers(dest="apk_command", metavar="ACTION", required=True)

    resolve = apk_commands.add_parser("resolve", help="print the packages `apk add` would install")
    resolve.add_argument("world", nargs="+", metavar="WORLD", help="name, name=1.2-r0, name@tag...")
    resolve.add_argument(
        "--arch",
        action="append",
        choices=list(ARCHITECTURES),
        metavar="ARCH",
        help=f"apk architecture, repeatable (default: {DEFAULT_ARCH}; one of "
        f"{', '.join(ARCHITECTURES)})",
    )
    resolve.add_argument(
        "--repo",
        action="append",
        required=True,
        metavar="[@TAG=]INDEX",
        help="APKINDEX.tar.gz or APKINDEX text file, or the http(s) URL of an APKINDEX.tar.gz, "
        "whose signature is then verified; tag it with @TAG= (repeatable, at least one)",
    )
    resolve.add_argument(
        "--key", action="append", default=[], metavar="PATH", help="extra RSA public key file"
    )
    resolve.add_argument("--format", choices=("text", "json"), default="text")
    resolve.set_defaults(run=run_resolve)

    compare = apk_commands.add_parser("compare", help="print <, = or > for two versions")
    compare.add_argument("a")
    compare.add_argument("b")
    compare.set_defaults(run=run_compare)

    match = apk_commands.add_parser(
        "match",
        help="exit 0 when version A satisfies the constraint OP B, else 1 "
        "(`apk match 1.2 >= 1.0` exits 0)",
    )
    match.add_argument("a")
    match.add_argument("op", metavar="OP", help="< <= = >= > ~ <~ >~, negated with a leading !")
    match.add_argument("b")
    match.set_defaults(run=run_match)


def run_compare(args: argparse.Namespace, console: Console) -> int:
    from compiler.apk.version import compare_versions

    result = compare_versions(args.a, args.b)
    console.print({-1: "<", 0: "=", 1: ">"}[result], markup=False, emoji=False)
    return 0


def run_match(args: argparse.Namespace, console: Console) -> int:
    from compiler.apk.version import match_version

    return 0 if match_version(args.a, args.op, args.b) else 1


def run_resolve(args: argparse.Namespace, console: Console) -> int:
    from compiler.apk.keys import load_keyring
    from compiler.apk.solver import find_arch_differences, solve_architectures
    from compiler.sources.http import HttpClient

    keys = load_keyring(extra_files=[Path(path) for path in args.key])
    with HttpClient() as http:
        repositories = [load_repository(value, keys, http) for value in args.repo]
    arches = args.arch or [DEFAULT_ARCH]
    solutions = solve_architectures(args.world, {arch: repositories for arch in arches})

    def emit(text: str) -> None:
        console.print(text, markup=False, emoji=False)

    if args.format == "json":
        document = {
            arch: {name: solution.packages[name].version for name in sorted(solution.packages)}
            for arch, solution in solutions.items()
        }
        emit(json.dumps(document, indent=2, sort_keys=True))
        return 0
    for arch, solution in solutions.items():
        if len(solutions) > 1:
            emit(f"{arch}:")
        for name in sorted(solution.packages):
            emit(f"{name} {solution.packages[name].version}")
    for name, versions in find_arch_differences(solutions).items():
        listed = ", ".join(f"{arch} {version}" for arch, version in versions.items())
        emit(f"differs between architectures: {name}: {listed}")
    return 0


def load_repository(argument: str, keys: KeyRing, http: HttpClient) -> Repository:
    """Read one --repo value: `PATH`, `URL`, `@TAG=PATH` or `@TAG=URL`.

    A URL is downloaded through `http` and must be signed by one of `keys`, as a catalog
    index must be. A local file is trusted by the user who names it, so it may be unsigned,
    and it may also be the plain-text form of an index. Raises RepositoryArgumentError for
    a malformed value, InvalidInputError for an unreadable file, RepositoryInvalidError
    when the content is not an APKINDEX, FetchError for a failed download, and
    IndexSignatureError for a signature that does not verify.
    """
    from compiler.apk.index import IndexFormatError, parse_index_text, read_index_archive
    from compiler.apk.solver import Repository

    tag, location = split_repository_argument(argument)
    is_url = location.startswith(URL_SCHEMES)
    if is_url:
        data = http.fetch(location, kind="index").content
    else:
        data = read_index_file(Path(location))

    try:
        if is_url:
            packages = read_index_archive(data, source=location, keys=keys).packages
        elif data[:2] == b"\x1f\x8b":
            index = read_index_archive(data, source=location, keys=keys, allow_unsigned=True)
            packages = index.packages
        else:
            text = data.decode("utf-8", errors="replace")
            packages = parse_index_text(text, source=location)
    except IndexFormatError as error:
        raise RepositoryInvalidError(f"--repo {argument} is not an APKINDEX: {error}") from None
    if not packages:
        raise RepositoryInvalidError(
            f"--repo {argument} is not an APKINDEX: it contains no package (no P: line)"
        )
    return Repository(packages, location, tag)


def split_repository_argument(argument: str) -> tuple[str | None, str]:
    """Split a --repo value into its tag (None when untagged) and its path or URL.

    Raises RepositoryArgumentError, naming the value, for `@TAG` without `=PATH`, an
    empty tag, or an empty path.
    """
    if not argument.startswith("@"):
        tag, location = None, argument
    else:
        tag, separator, location = argument[1:].partition("=")
        if not separator or not tag:
            raise RepositoryArgumentError(f"--repo {argument}: expected @TAG=PATH or @TAG=URL")
    if not location:
        argument_text = argument or "''"
        raise RepositoryArgumentError(f"--repo {argument_text}: the path or URL is empty")
    if "://" in location and not location.startswith(URL_SCHEMES):
        raise RepositoryArgumentError(
            f"--repo {argument}: only http:// and https:// URLs are supported"
        )
    return tag, location


def read_index_file(path: Path) -> bytes:
    """Return the bytes of `path`; raises InvalidInputError naming it when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        message = f"cannot read index: {error.strerror}"
        raise InvalidInputError(message, location=Location(path)) from None
