"""Bad input: one clear line per problem, the right exit code, and no file changed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.cli import main
from tests.servers.git import GitServer
from tests.servers.http_server import LoopbackHttpServer, build_apk_mirror, serve_folder
from tests.servers.registry import RunningRegistry, free_port
from tests.trees import snapshot_tree, write_tree

pytestmark = pytest.mark.e2e


@dataclass
class Servers:
    registry: RunningRegistry
    mirror: LoopbackHttpServer
    git: GitServer


@pytest.fixture(scope="module")
def servers(
    registry_anonymous: RunningRegistry,
    git_daemon: GitServer,
    fixtures_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("bad-input-mirror")
    build_apk_mirror(root / "alpine", ["3.20.2-main-x86_64"])
    registry_anonymous.push("library/tiny", "1.0")
    with serve_folder(root) as mirror:
        yield Servers(registry=registry_anonymous, mirror=mirror, git=git_daemon)


def good_catalog(servers: Servers) -> dict[str, str]:
    host = servers.registry.host
    return {
        "pinwright.yaml": f"""
            registry: {host}/catalog
            alpine: {{mirror: "{servers.mirror.url}/alpine", branch: v3.20, repositories: [main]}}
            registries: {{"{host}": {{insecure: true}}}}
        """,
        "images/app/image.yaml": f"""
            inputs:
              base: {{image: "{host}/library/tiny:1.0"}}
              tools: {{alpine_packages: [busybox]}}
              tool: {{git_tag: "{servers.git.url("tagged.git")}", prefix: v}}
        """,
        "images/app/Dockerfile.j2": "FROM {{ inputs.base }}\nRUN apk add {{ inputs.tools }}\n",
    }


def run_update(
    root: Path, capsys: pytest.CaptureFixture[str], *arguments: str
) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["-C", str(root), *(arguments or ("update",))])
    return code, capsys.readouterr().err.splitlines()


@pytest.fixture
def locked_catalog(
    servers: Servers,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A catalog that was updated once, so a failing run has old files to keep."""
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, good_catalog(servers))
    code, errors = run_update(tmp_path, capsys)
    assert (code, errors) == (0, [])
    return tmp_path


# (name, files to overwrite, arguments, exit code, expected stderr lines with {host} etc.)
CASES = [
    (
        "yaml-syntax",
        {"images/app/image.yaml": "inputs:\n  base: {image: [oops\n"},
        (),
        2,
        ["images/app/image.yaml:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'"],
    ),
    (
        "wrong-type",
        {"images/app/image.yaml": "inputs:\n  tools: {alpine_packages: 7}\n"},
        (),
        2,
        ["images/app/image.yaml:2:28: inputs.tools.alpine_packages: input should be a valid list"],
    ),
    (
        "unknown-key",
        {"images/app/image.yaml": "inputs: {}\ntemplat: Dockerfile.j2\n"},
        (),
        2,
        ["images/app/image.yaml:2:1: unknown key 'templat' (did you mean 'template'?)"],
    ),
    (
        "unknown-image",
        {},
        ("update", "nope"),
        2,
        ["unknown image 'nope' (catalog images: app)"],
    ),
    (
        "cycle",
        {
            "images/a/image.yaml": "inputs: {b: {image: b}}\n",
            "images/a/Dockerfile.j2": "FROM {{ inputs.b }}\n",
            "images/b/image.yaml": "inputs: {a: {image: a}}\n",
            "images/b/Dockerfile.j2": "FROM {{ inputs.a }}\n",
        },
        (),
        2,
        ["images/a/image.yaml:1:21: dependency cycle between images: a -> b -> a"],
    ),
    (
        "template-syntax",
        {"images/app/Dockerfile.j2": "FROM {{ inputs.base }\n"},
        (),
        1,
        ["images/app/Dockerfile.j2:1: template syntax error: unexpected '}'"],
    ),
    (
        "undefined-variable",
        {"images/app/Dockerfile.j2": "FROM {{ inputs.bsae }}\n"},
        (),
        1,
        [
            "images/app/Dockerfile.j2:1: undefined variable in images/app/Dockerfile.j2: "
            "undefined input 'bsae' (did you mean 'base'?); the spec declares: base, tool, tools"
        ],
    ),
    (
        "missing-tag",
        {"images/app/image.yaml": 'inputs:\n  base: {image: "{host}/library/tiny:9.9"}\n'},
        (),
        1,
        [
            "images/app/image.yaml:2:9: input 'base' of image app: "
            "cannot resolve {host}/library/tiny:9.9: tag 9.9 not found in library/tiny at {host}"
        ],
    ),
    (
        "unreachable-registry",
        {"images/app/image.yaml": 'inputs:\n  base: {image: "127.0.0.1:{closed}/x/y:1"}\n'},
        (),
        1,
        None,
    ),
    (
        "package-not-found",
        {"images/app/image.yaml": "inputs:\n  tools: {alpine_packages: [no-such-package]}\n"},
        (),
        1,
        [
            "images/app/image.yaml:2:10: input 'tools' of image app: unable to select packages (x86_64): "
            "no-such-package (no such package): required by: world[no-such-package]"
        ],
    ),
]


@pytest.mark.parametrize(
    ("files", "arguments", "exit_code", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input_changes_no_file(
    locked_catalog: Path,
    servers: Servers,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    arguments: tuple[str, ...],
    exit_code: int,
    expected: list[str] | None,
) -> None:
    closed = free_port()
    values = {"host": servers.registry.host, "closed": str(closed)}
    write_tree(locked_catalog, {path: fill(text, values) for path, text in files.items()})
    before = snapshot_tree(locked_catalog)

    code, errors = run_update(locked_catalog, capsys, *arguments)

    assert code == exit_code
    assert snapshot_tree(locked_catalog) == before
    if expected is None:
        assert len(errors) == 1
        assert errors[0].startswith("images/app/image.yaml:2:9: input 'base' of image app: ")
        assert f"127.0.0.1:{closed}" in errors[0]
    else:
        assert errors == [fill(line, values) for line in expected]


def fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
