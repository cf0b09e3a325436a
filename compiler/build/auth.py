"""Registry settings handed to a builder as files: an auth file and a registries.conf.

Credentials are looked up the way resolution looks them up (Docker config, credential
helpers) and written to a private file that the builder reads, so no secret reaches a
command line or a log.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from pathlib import Path

from compiler.build.builders import Credentials
from compiler.locked import LockedImage
from compiler.lockfile import Lock
from compiler.sources.credentials import CredentialStore
from spec.catalog import Catalog
from spec.reference import parse_reference

AUTH_FILE = "config.json"
REGISTRIES_CONF = "registries.conf"


def registry_host(repository: str) -> str:
    """Return the registry host of a repository path such as `host:5000/team/name`."""
    return repository.split("/", 1)[0]


def lock_hosts(lock: Lock | None) -> set[str]:
    """Return the registry hosts of the image inputs of a lock."""
    if lock is None:
        return set()
    return {
        parse_reference(locked.reference).registry
        for locked in lock.inputs.values()
        if isinstance(locked, LockedImage)
    }


def write_credentials(
    folder: Path, catalog: Catalog, hosts: Iterable[str], store: CredentialStore
) -> Credentials:
    """Write the auth file and registries.conf for a build that reaches `hosts`.

    The folder must be private to this run; the auth file is created with mode 0600.
    Raises DockerConfigInvalidError and CredentialHelperError from the credential store.
    """
    auths: dict[str, dict[str, str]] = {}
    for host in sorted(set(hosts)):
        found = store.lookup(host)
        if found is None:
            continue
        pair = f"{found.username}:{found.password}".encode()
        entry = {"auth": base64.b64encode(pair).decode("ascii")}
        if found.identity_token:
            entry["identitytoken"] = found.identity_token
        auths[host] = entry

    authfile = folder / AUTH_FILE
    descriptor = os.open(authfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump({"auths": auths}, stream, sort_keys=True)

    registries_conf = folder / REGISTRIES_CONF
    registries_conf.write_text(format_registries_conf(catalog), encoding="utf-8")
    return Credentials(authfile=authfile, registries_conf=registries_conf)


def format_registries_conf(catalog: Catalog) -> str:
    """Return a containers registries.conf (version 2) that marks insecure registries.

    Short names resolve on Docker Hub alone, as Pinwright's own reference parser reads them.
    """
    lines = ['unqualified-search-registries = ["docker.io"]']
    for host, settings in sorted(catalog.config.registries.items()):
        if settings.insecure:
            lines += ["", "[[registry]]", f"location = {json.dumps(host)}", "insecure = true"]
    return "\n".join(lines) + "\n"
