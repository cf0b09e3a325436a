"""`pinwright apk`: resolve Alpine package worlds and compare versions like apk-tools."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from compiler.apk.index import parse_index_text, read_index_archive
from compiler.apk.keys import load_keyring
from compiler.apk.solver import Repository, find_arch_differences, solve_architectures
from compiler.apk.version import compare_versions, match_version
from spec.errors import InvalidInputError, Location

DEFAULT_ARCH = "x86_64"


class RepositoryNotSupportedError(InvalidInputError):
    """A --repo value this command cannot read yet."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("apk", help="resolve Alpine packages and compare versions")
    apk_commands = parser.add_subparsers(dest="apk_command", metavar="ACTION", required=True)

    resolve = apk_commands.add_parser("resolve", help="print the packages `apk add` would install")
    resolve.add_argument("world", nargs="+", metavar="WORLD", help="name, name=1.2-r0, name@tag...")
    resolve.add_argument("--arch", action="append", help="architecture (repeatable; x86_64)")
    resolve.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="PATH | @TAG=PATH",
        help="APKINDEX.tar.gz or APKINDEX text file; tag it with @TAG= (repeatable)",
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

    match = apk_commands.add_parser("match", help="exit 0 when A satisfies `OP B`, else 1")
    match.add_argument("a")
    match.add_argument("op", metavar="OP", help="< <= = >= > ~ <~ >~, negated with a leading !")
    match.add_argument("b")
    match.set_defaults(run=run_match)


def run_compare(args: argparse.Namespace, console: Console) -> int:
    result = compare_versions(args.a, args.b)
    console.print({-1: "<", 0: "=", 1: ">"}[result], markup=False)
    return 0


def run_match(args: argparse.Namespace, console: Console) -> int:
    return 0 if match_version(args.a, args.op, args.b) else 1


def run_resolve(args: argparse.Namespace, console: Console) -> int:
    keys = load_keyring(extra_files=[Path(path) for path in args.key])
    repositories = [_load_repository(value, keys) for value in args.repo]
    arches = args.arch or [DEFAULT_ARCH]
    solutions = solve_architectures(args.world, {arch: repositories for arch in arches})

    if args.format == "json":
        document = {
            arch: {name: solution.packages[name].version for name in sorted(solution.packages)}
            for arch, solution in solutions.items()
        }
        console.print(json.dumps(document, indent=2, sort_keys=True), markup=False)
        return 0
    for arch, solution in solutions.items():
        if len(solutions) > 1:
            console.print(f"{arch}:", markup=False)
        for name in sorted(solution.packages):
            console.print(f"{name} {solution.packages[name].version}", markup=False)
    for name, versions in find_arch_differences(solutions).items():
        listed = ", ".join(f"{arch} {version}" for arch, version in versions.items())
        console.print(f"differs between architectures: {name}: {listed}", markup=False)
    return 0


def _load_repository(value: str, keys: object) -> Repository:
    """Read `PATH` or `@TAG=PATH`: a signed archive, or a plain-text index (unsigned)."""
    tag = None
    if value.startswith("@"):
        tag, separator, value = value[1:].partition("=")
        if not separator or not tag:
            raise InvalidInputError(f"--repo {value!r}: expected @TAG=PATH")
    if "://" in value:
        raise RepositoryNotSupportedError(
            f"--repo {value}: URLs are not supported yet, pass a local APKINDEX file"
        )
    path = Path(value)
    try:
        data = path.read_bytes()
    except OSError as error:
        message = f"cannot read index: {error.strerror}"
        raise InvalidInputError(message, location=Location(path)) from None
    if data[:2] == b"\x1f\x8b":
        # A local file is trusted by the user who names it, so it may be unsigned.
        index = read_index_archive(data, source=value, keys=keys, allow_unsigned=True)  # type: ignore[arg-type]
        packages = index.packages
    else:
        packages = parse_index_text(data.decode("utf-8", errors="replace"), source=value)
    return Repository(packages, value, tag)
