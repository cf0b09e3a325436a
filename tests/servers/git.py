"""Git remotes on loopback for tests: git daemon, smart HTTP and a dumb-HTTP fixture mirror.

Import the pytest fixtures `git_repositories`, `git_daemon`, `git_smart_http` and
`git_fixture_mirror` into a conftest or a test module. Every server listens on 127.0.0.1
on a free port and is stopped when the test session ends.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Fixed identities and dates make commit and tag object ids the same on every run.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Pinwright Tests",
    "GIT_AUTHOR_EMAIL": "tests@pinwright.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "Pinwright Tests",
    "GIT_COMMITTER_EMAIL": "tests@pinwright.invalid",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+00:00",
}
STARTUP_TIMEOUT = 10.0  # seconds to wait for a server to accept connections

# Tags of the repository made by `make_tagged_repository`: name, commit number, annotated.
# "1.2.3" and "v1.2.3" carry the same version but point at different commits, so a test
# can tell which of the two a tie-break chose.
TAGGED_REPOSITORY_TAGS = (
    ("v1.0.0", 1, False),
    ("v1.1.0", 2, True),
    ("v1.2.3", 3, True),
    ("1.2.3", 4, False),
    ("v2.0.0-rc.1", 4, True),
    ("docs-snapshot", 4, False),
)


@dataclass(frozen=True)
class GitRepositories:
    """Bare repositories under `base`: ``tagged.git`` and ``untagged.git``.

    `commits` maps each tag of ``tagged.git`` to the commit it points at, after peeling.
    """

    base: Path
    commits: dict[str, str]


@dataclass(frozen=True)
class GitServer:
    """A running git remote; `base_url` has no trailing slash."""

    base_url: str

    def url(self, repository: str) -> str:
        """Return the URL of `repository`, a path relative to the served folder."""
        return f"{self.base_url}/{repository}"


@dataclass(frozen=True)
class GitFixtureMirror:
    """A dumb-HTTP server over the fixture folder laid out as ``HOST/OWNER/REPO.git``."""

    base_url: str

    @property
    def rewrites(self) -> dict[str, str]:
        """URL rewrites that send GitHub repository URLs to this mirror."""
        return {"https://github.com/": f"{self.base_url}/github.com/"}


def run_git(arguments: list[str], cwd: Path, environment: dict[str, str] | None = None) -> str:
    """Run git with the test identity and no user configuration; return its stdout."""
    completed = subprocess.run(
        ["git", *arguments],
        cwd=cwd,
        env=git_environment(environment or {}),
        check=True,
        capture_output=True,
        text=True,
    )
    return completed.stdout


def git_environment(extra: dict[str, str]) -> dict[str, str]:
    """Build an environment for test git commands: no system or global configuration."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }
    environment.update(GIT_IDENTITY)
    environment.update(extra)
    return environment


def make_tagged_repository(path: Path) -> dict[str, str]:
    """Create a bare repository at `path` with the tags in TAGGED_REPOSITORY_TAGS.

    Returns each tag name mapped to the commit it points at.
    """
    work = path.with_name(path.name + ".work")
    run_git(["init", "-q", "-b", "main", str(work)], cwd=path.parent)
    commits = [""]
    for number in range(1, 5):
        (work / "file.txt").write_text(f"commit {number}\n")
        run_git(["add", "file.txt"], cwd=work)
        run_git(["commit", "-q", "-m", f"Commit {number}"], cwd=work)
        commits.append(run_git(["rev-parse", "HEAD"], cwd=work).strip())

    for name, number, annotated in TAGGED_REPOSITORY_TAGS:
        options = ["-a", "-m", f"Release {name}"] if annotated else []
        run_git(["tag", *options, name, commits[number]], cwd=work)
    run_git(["clone", "-q", "--bare", str(work), str(path)], cwd=path.parent)
    return {name: commits[number] for name, number, _ in TAGGED_REPOSITORY_TAGS}


def make_untagged_repository(path: Path) -> None:
    """Create a bare repository at `path` with one commit and no tags."""
    work = path.with_name(path.name + ".work")
    run_git(["init", "-q", "-b", "main", str(work)], cwd=path.parent)
    (work / "file.txt").write_text("no tags here\n")
    run_git(["add", "file.txt"], cwd=work)
    run_git(["commit", "-q", "-m", "Only commit"], cwd=work)
    run_git(["clone", "-q", "--bare", str(work), str(path)], cwd=path.parent)


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until 127.0.0.1:`port` accepts connections; raise if `process` exits first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} within {STARTUP_TIMEOUT} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a server process started by these helpers, by its pid."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class RunningGitDaemon:
    """A ``git daemon`` process and the server it provides."""

    server: GitServer
    process: subprocess.Popen[bytes]


def start_git_daemon(base: Path) -> RunningGitDaemon:
    """Start ``git daemon`` exporting every repository under `base` on a free port."""
    port = find_free_port()
    command = [
        "git",
        "daemon",
        "--export-all",
        "--reuseaddr",
        "--informative-errors",
        f"--base-path={base}",
        "--listen=127.0.0.1",
        f"--port={port}",
    ]
    process = subprocess.Popen(
        command,
        env=git_environment({}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
    except BaseException:
        stop_process(process)
        raise
    return RunningGitDaemon(GitServer(f"git://127.0.0.1:{port}"), process)


class SmartHTTPHandler(http.server.BaseHTTPRequestHandler):
    """Serve git's smart HTTP protocol by running ``git http-backend`` as a CGI program.

    git runs as the user of the test process, who owns the repositories, so git's
    ownership check (safe.directory) passes.
    """

    protocol_version = "HTTP/1.1"
    project_root: Path  # set on the subclass made for each server

    def do_GET(self) -> None:
        self.run_backend(b"")

    def do_POST(self) -> None:
        self.run_backend(self.read_body())

    def read_body(self) -> bytes:
        """Read the request body, sent either with a length or in chunks."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def run_backend(self, body: bytes) -> None:
        path, _, query = self.path.partition("?")
        environment = git_environment(
            {
                "GIT_PROJECT_ROOT": str(self.project_root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REMOTE_ADDR": self.client_address[0],
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
            }
        )
        # http-backend reads the protocol version and the body encoding from these.
        if "Git-Protocol" in self.headers:
            environment["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if "Content-Encoding" in self.headers:
            environment["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]

        completed = subprocess.run(
            ["git", "http-backend"], input=body, env=environment, capture_output=True, check=False
        )
        self.send_cgi_output(completed.stdout)

    def send_cgi_output(self, output: bytes) -> None:
        """Turn CGI output (headers, a blank line, the body) into an HTTP response."""
        separator = b"\r\n\r\n" if b"\r\n\r\n" in output else b"\n\n"
        head, _, body = output.partition(separator)
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))

        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


class MirrorHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files as they are, mapping ``HOST/OWNER/REPO`` to ``HOST/OWNER/REPO.git``.

    The fallback lets ``https://github.com/OWNER/REPO`` URLs, which GitHub serves with
    or without ``.git``, reach a fixture folder named ``REPO.git``.
    """

    def translate_path(self, path: str) -> str:
        translated = super().translate_path(path)
        if os.path.exists(translated):
            return translated
        relative = Path(translated).relative_to(self.directory).parts
        if len(relative) < 3:
            return translated
        with_suffix = Path(self.directory, *relative[:2], relative[2] + ".git", *relative[3:])
        return str(with_suffix) if with_suffix.exists() else translated

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@dataclass(frozen=True)
class RunningHTTPServer:
    """A threaded HTTP server on loopback and the thread serving it."""

    server: http.server.ThreadingHTTPServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        """The server's URL without a trailing slash."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        """Stop serving, close the listening socket and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def start_http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> RunningHTTPServer:
    """Serve `handler` on a free port of 127.0.0.1 in a background thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="git-test-http", daemon=True)
    thread.start()
    return RunningHTTPServer(server, thread)


def start_smart_http(project_root: Path) -> RunningHTTPServer:
    """Serve the repositories under `project_root` over git's smart HTTP protocol."""
    handler = type("BoundSmartHTTPHandler", (SmartHTTPHandler,), {"project_root": project_root})
    return start_http_server(handler)


def start_static_mirror(directory: Path) -> RunningHTTPServer:
    """Serve `directory` as static files, which git reads with its dumb HTTP protocol."""

    class BoundMirrorHandler(MirrorHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)  # type: ignore[arg-type]

    return start_http_server(BoundMirrorHandler)


@pytest.fixture(scope="session")
def git_repositories(tmp_path_factory: pytest.TempPathFactory) -> GitRepositories:
    """Bare repositories ``tagged.git`` and ``untagged.git`` in a session folder."""
    base = tmp_path_factory.mktemp("git-repositories")
    commits = make_tagged_repository(base / "tagged.git")
    make_untagged_repository(base / "untagged.git")
    return GitRepositories(base=base, commits=commits)


@pytest.fixture(scope="session")
def git_daemon(git_repositories: GitRepositories) -> Iterator[GitServer]:
    """A ``git daemon`` serving `git_repositories` over git://."""
    running = start_git_daemon(git_repositories.base)
    try:
        yield running.server
    finally:
        stop_process(running.process)


@pytest.fixture(scope="session")
def git_smart_http(git_repositories: GitRepositories) -> Iterator[GitServer]:
    """``git http-backend`` serving `git_repositories` over smart HTTP."""
    running = start_smart_http(git_repositories.base)
    try:
        yield GitServer(running.base_url)
    finally:
        running.stop()


@pytest.fixture(scope="session")
def git_fixture_mirror(fixtures_dir: Path) -> Iterator[GitFixtureMirror]:
    """A dumb-HTTP mirror of the real GitHub references in the shared fixture folder."""
    running = start_static_mirror(fixtures_dir / "git")
    try:
        yield GitFixtureMirror(running.base_url)
    finally:
        running.stop()
