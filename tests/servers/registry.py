"""Start the CNCF distribution registry (Debian package docker-registry 2.8) on loopback.

Three modes: anonymous, basic auth (an htpasswd file) and token auth (a loopback token
server from tests.servers.token_server). Each server gets its own storage folder, listens
on 127.0.0.1 on a free port and is stopped by its pid.

The session-scoped fixtures `registry_anonymous`, `registry_basic` and `registry_token`
can be imported into a conftest.py.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
import requests

from tests.servers.images import push_layout, write_oci_layout
from tests.servers.token_server import TokenServer

USERNAME = "pinwright"
PASSWORD = "correct horse battery staple"
TOKEN_SERVICE = "pinwright-test-registry"
TOKEN_ISSUER = "pinwright-test-token-issuer"
STARTUP_SECONDS = 15.0


@dataclass
class RunningRegistry:
    """A registry process on loopback, with what a client needs to reach it."""

    mode: str
    host: str
    workdir: Path
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    username: str | None = None
    password: str | None = None
    token_server: TokenServer | None = None
    _pushes: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def credentials(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return self.username, self.password

    def push(
        self,
        name: str,
        tag: str,
        *,
        platforms: Sequence[str] = ("linux/amd64",),
        files: Mapping[str, bytes] | None = None,
        index: bool = False,
    ) -> str:
        """Build a tiny image (an index when several platforms) and push it; return its digest."""
        self._pushes += 1
        scratch = self.workdir / f"push-{self._pushes}"
        layout = scratch / "layout"
        layout.mkdir(parents=True)
        written = write_oci_layout(layout, tag, platforms=platforms, files=files, index=index)
        pushed = push_layout(
            layout, tag, f"{self.host}/{name}:{tag}", credentials=self.credentials, workdir=scratch
        )
        assert pushed == written, f"skopeo pushed {pushed}, the layout holds {written}"
        return pushed

    def write_docker_config(self, folder: Path) -> Path:
        """Write a Docker config.json with this registry's credentials in `auths`."""
        folder.mkdir(parents=True, exist_ok=True)
        auths: dict[str, dict[str, str]] = {}
        if self.credentials is not None:
            pair = f"{self.username}:{self.password}".encode()
            auths[self.host] = {"auth": base64.b64encode(pair).decode("ascii")}
        path = folder / "config.json"
        path.write_text(json.dumps({"auths": auths}))
        return path

    def stop(self) -> None:
        """Stop the registry process by pid, then the token server."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if self.token_server is not None:
            self.token_server.stop()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_registry(
    workdir: Path, mode: str = "anonymous", *, public_repositories: Sequence[str] = ()
) -> RunningRegistry:
    """Start a registry in `mode` (anonymous, basic or token) with storage under `workdir`.

    In token mode, anonymous clients may pull `public_repositories`; the test user may
    push and pull everything.
    """
    executable = shutil.which("docker-registry")
    if executable is None:
        pytest.skip("docker-registry is not installed (apt package docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "storage")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "pinwright-test-secret"},
    }

    username = password = None
    token_server = None
    if mode == "basic":
        username, password = USERNAME, PASSWORD
        config["auth"] = {"htpasswd": {"realm": "pinwright-test", "path": _htpasswd(workdir)}}
    elif mode == "token":
        username, password = USERNAME, PASSWORD
        token_server = TokenServer(
            issuer=TOKEN_ISSUER,
            service=TOKEN_SERVICE,
            users={USERNAME: PASSWORD},
            public_repositories=set(public_repositories),
            certificate_path=workdir / "token-root.pem",
        )
        token_server.start()
        config["auth"] = {
            "token": {
                "realm": token_server.realm,
                "service": TOKEN_SERVICE,
                "issuer": TOKEN_ISSUER,
                "rootcertbundle": str(token_server.certificate_path),
            }
        }
    elif mode != "anonymous":
        raise ValueError(f"unknown registry mode {mode!r}")

    # JSON is valid YAML, so the registry reads this config as written.
    config_path = workdir / "config.yml"
    config_path.write_text(json.dumps(config, indent=2))
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen(
        [executable, "serve", str(config_path)], stdout=log, stderr=subprocess.STDOUT
    )
    registry = RunningRegistry(
        mode=mode,
        host=f"127.0.0.1:{port}",
        workdir=workdir,
        process=process,
        log=log,
        username=username,
        password=password,
        token_server=token_server,
    )
    try:
        _wait_until_ready(registry)
    except BaseException:
        registry.stop()
        raise
    return registry


def _htpasswd(workdir: Path) -> str:
    path = workdir / "htpasswd"
    executable = shutil.which("htpasswd")
    if executable is None:
        pytest.skip("htpasswd is not installed (apt package apache2-utils)")
    subprocess.run(
        [executable, "-Bbc", str(path), USERNAME, PASSWORD], check=True, capture_output=True
    )
    return str(path)


def _wait_until_ready(registry: RunningRegistry) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with requests.Session() as session:
        while True:
            if registry.process.poll() is not None:
                log = (registry.workdir / "registry.log").read_text(errors="replace")
                raise RuntimeError(f"docker-registry exited at startup:\n{log}")
            try:
                with session.get(f"{registry.url}/v2/", timeout=1) as response:
                    if response.status_code in (200, 401):
                        return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry on {registry.host} did not answer /v2/")
            time.sleep(0.02)


@pytest.fixture(scope="session")
def registry_anonymous(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A registry without authentication."""
    registry = start_registry(tmp_path_factory.mktemp("registry-anonymous"), "anonymous")
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A registry behind HTTP basic auth (user `pinwright`)."""
    registry = start_registry(tmp_path_factory.mktemp("registry-basic"), "basic")
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A registry with bearer token auth; repositories under `public/` are anonymously pullable."""
    registry = start_registry(
        tmp_path_factory.mktemp("registry-token"),
        "token",
        public_repositories=("public/busybox", "public/multi"),
    )
    yield registry
    registry.stop()
