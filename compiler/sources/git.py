"""Git tags: list the tags of a remote repository and lock the latest one by a policy.

The tags come from ``git ls-remote --tags``, run without a shell, without any system or
global git configuration, and with prompts for credentials disabled. `list_tags_cached`
stores each listing in a `ResultCache` and reads only from it when offline.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from compiler.sources.results import OFFLINE_HINT, CachedResultMissingError, ResultCache
from compiler.versions import VersionPolicy, select_latest
from spec.errors import InvalidInputError, PinwrightError

logger = logging.getLogger(__name__)

TAG_PREFIX = "refs/tags/"
PEELED_SUFFIX = "^{}"
OBJECT_ID_PATTERN = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
GITHUB_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")

ALLOWED_PROTOCOLS = ("http", "https", "git", "ssh", "file")
# Variables passed on from our own environment: the search path, the SSH agent for
# ssh:// remotes, HOME for ~/.netrc and ~/.ssh, and the proxy settings curl reads.
INHERITED_VARIABLES = (
    "PATH",
    "HOME",
    "SSH_AUTH_SOCK",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "all_proxy",
)
USERINFO_PATTERN = re.compile(r"(?<=://)[^/@\s]*@")
# The kind of the git entries in a ResultCache.
RESULT_KIND = "git-tags"


@dataclass(frozen=True)
class GitRef:
    """A reference of a remote repository.

    `name` is the full reference name (``refs/tags/v1.2.3``), `object` the object it
    points at, and `commit` the object after peeling: the tagged commit of an annotated
    tag, and the same as `object` for any other reference.
    """

    name: str
    object: str
    commit: str

    @property
    def tag(self) -> str | None:
        """The tag name without ``refs/tags/``, or None when the reference is not a tag."""
        if not self.name.startswith(TAG_PREFIX):
            return None
        return self.name[len(TAG_PREFIX) :]


@dataclass(frozen=True)
class LockedTag:
    """A git tag chosen by a version policy.

    `url` is the repository URL as declared, before any rewrite. `tag` is the tag name as
    it is (templates render this value) and `version` the tag without the policy's prefix.
    """

    url: str
    tag: str
    commit: str
    version: str


class GitRemoteError(PinwrightError):
    """A remote repository could not be read: unreachable, not found or not a git repository."""


class GitTagsNotFoundError(GitRemoteError):
    """A remote repository that returned no tags at all."""


class GitHubRepositoryNameError(InvalidInputError):
    """A GitHub repository name that is not of the form ``OWNER/REPO``."""


def parse_ls_remote(output: str) -> tuple[GitRef, ...]:
    """Parse the output of ``git ls-remote`` into references, in the order first seen.

    Each line is ``OBJECT<TAB>NAME``. A line named ``NAME^{}`` gives the peeled object
    of the reference NAME. It may appear anywhere after NAME's own line or before it,
    because dumb-HTTP remotes list references sorted by name.
    Raises ValueError for a malformed line, a repeated reference, or a peeled line
    without the reference it belongs to.
    """
    objects: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for number, line in enumerate(output.splitlines(), start=1):
        if not line.strip():
            continue
        object_id, separator, name = line.partition("\t")
        if not separator or not name or OBJECT_ID_PATTERN.fullmatch(object_id) is None:
            raise ValueError(f"line {number} is not 'OBJECT<TAB>NAME': {line!r}")

        target = peeled if name.endswith(PEELED_SUFFIX) else objects
        key = name.removesuffix(PEELED_SUFFIX)
        if key in target:
            raise ValueError(f"line {number} repeats the reference {name!r}")
        target[key] = object_id

    orphans = sorted(set(peeled) - set(objects))
    if orphans:
        raise ValueError(f"peeled line without its reference: {orphans[0]}{PEELED_SUFFIX}")
    return tuple(
        GitRef(name=name, object=object_id, commit=peeled.get(name, object_id))
        for name, object_id in objects.items()
    )


def rewrite_url(url: str, rewrites: Mapping[str, str]) -> str:
    """Rewrite `url` like git's ``url.<base>.insteadOf``: the longest matching prefix wins.

    `rewrites` maps a prefix to its replacement. A URL that no prefix matches is returned
    as it is.
    """
    matching = [prefix for prefix in rewrites if prefix and url.startswith(prefix)]
    if not matching:
        return url
    prefix = max(matching, key=len)
    return rewrites[prefix] + url[len(prefix) :]


def redact_url(url: str) -> str:
    """Return `url` without its user name and password, for logs and messages."""
    parts = urlsplit(url)
    if parts.hostname is None or "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def describe_remote(url: str, effective_url: str) -> str:
    """Name a remote for messages: its URL and, when rewritten, the URL actually used."""
    if effective_url == url:
        return redact_url(url)
    return f"{redact_url(url)} (rewritten to {redact_url(effective_url)})"


def build_git_command(url: str) -> list[str]:
    """Build the ls-remote command line, limited to the protocols in ALLOWED_PROTOCOLS."""
    command = ["git", "-c", "protocol.allow=never"]
    for protocol in ALLOWED_PROTOCOLS:
        command += ["-c", f"protocol.{protocol}.allow=always"]
    return [*command, "ls-remote", "--tags", "--", url]


def build_git_environment(work_dir: str) -> dict[str, str]:
    """Build an environment for git that reads no configuration file and never prompts.

    `work_dir` is an empty folder git runs in. Repository discovery stops at its parent,
    so no repository configuration around the caller's folder takes effect.
    """
    environment = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    environment.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
            "GIT_CEILING_DIRECTORIES": os.path.dirname(work_dir),
            "LC_ALL": "C",
        }
    )
    return environment


def run_ls_remote(url: str, timeout: float) -> tuple[int, str, str]:
    """Run ``git ls-remote --tags`` on `url`; return its exit status, stdout and stderr.

    The whole process group is killed on timeout, because git runs its remote helpers
    (``git-remote-http``) as child processes. Raises subprocess.TimeoutExpired and
    FileNotFoundError when git is not installed.
    """
    with tempfile.TemporaryDirectory(prefix="pinwright-git-") as work_dir:
        # The command is an argument list built here; the URL follows "--".
        process = subprocess.Popen(  # noqa: S603
            build_git_command(url),
            cwd=work_dir,
            env=build_git_environment(work_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")


def list_tags(
    url: str, *, rewrites: Mapping[str, str] | None = None, timeout: float = 60
) -> tuple[GitRef, ...]:
    """List the tags of the remote repository at `url`, each with its peeled commit.

    `rewrites` maps URL prefixes to replacements, as in `rewrite_url`. `timeout` is in
    seconds. Raises GitRemoteError, naming the URL, when git fails, times out or prints
    output that does not parse, and GitTagsNotFoundError when the remote has no tags.
    """
    effective_url = rewrite_url(url, rewrites or {})
    remote = describe_remote(url, effective_url)
    logger.debug("git ls-remote --tags %s", redact_url(effective_url))

    try:
        status, stdout, stderr = run_ls_remote(effective_url, timeout)
    except FileNotFoundError:
        raise GitRemoteError(
            f"failed to list the tags of {remote}: git was not found on PATH, so install git first"
        ) from None
    except subprocess.TimeoutExpired:
        raise GitRemoteError(
            f"listing the tags of {remote} timed out after {timeout:g} seconds"
        ) from None

    if status != 0:
        raise GitRemoteError(
            f"failed to list the tags of {remote}: {summarize_git_error(stderr, status)}"
        )
    try:
        refs = parse_ls_remote(stdout)
    except ValueError as error:
        raise GitRemoteError(
            f"git ls-remote printed invalid output for {remote}: {error}"
        ) from None

    tags = tuple(ref for ref in refs if ref.tag is not None)
    if not tags:
        # A smart-HTTP server whose git rejects the repository after the server has sent
        # status 200 (git's safe.directory ownership check) also returns nothing and success.
        raise GitTagsNotFoundError(
            f"no tags found at {remote}: the repository has no tags, "
            "or the server returned no references at all"
        )
    return tags


def list_tags_cached(
    url: str,
    *,
    results: ResultCache,
    offline: bool = False,
    rewrites: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> tuple[GitRef, ...]:
    """List the tags of `url` like `list_tags`, and store the listing in `results`.

    The entry is keyed by the URL after `rewrites`, without its user name and password.
    With `offline`, git is not run and the stored listing is returned. Raises what
    `list_tags` raises, and CachedResultMissingError offline when no listing is stored.
    """
    effective_url = rewrite_url(url, rewrites or {})
    key = redact_url(effective_url)
    if not offline:
        tags = list_tags(url, rewrites=rewrites, timeout=timeout)
        results.store(RESULT_KIND, key, refs_to_json(tags))
        return tags

    cached = refs_from_json(results.load(RESULT_KIND, key))
    if cached is None:
        remote = describe_remote(url, effective_url)
        raise CachedResultMissingError(f"the tags of {remote} are not in the cache, {OFFLINE_HINT}")
    logger.debug("listed the tags of %s from the cache (offline)", key)
    return cached


def refs_to_json(refs: Sequence[GitRef]) -> list[dict[str, str]]:
    """Return `refs` as JSON objects for a ResultCache."""
    return [{"name": ref.name, "object": ref.object, "commit": ref.commit} for ref in refs]


def refs_from_json(value: Any) -> tuple[GitRef, ...] | None:
    """Read a list written by `refs_to_json`; return None when its shape is wrong or it is empty."""
    if not isinstance(value, list) or not value:
        return None
    refs: list[GitRef] = []
    for item in value:
        if not isinstance(item, dict):
            return None
        fields = (item.get("name"), item.get("object"), item.get("commit"))
        if not all(isinstance(field, str) for field in fields):
            return None
        refs.append(GitRef(name=item["name"], object=item["object"], commit=item["commit"]))
    return tuple(refs)


def summarize_git_error(stderr: str, status: int) -> str:
    """Return the line of git's stderr that names the failure, without any credentials.

    That is the first ``fatal:`` line, because later lines only add generic advice such
    as "Could not read from remote repository." A ``fatal:`` line ending in a colon is
    joined with the line after it, which contains the reason ("errno=Connection refused").
    Without a ``fatal:`` line, the last non-empty line is used.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return f"git exited with status {status}"

    fatal = [index for index, line in enumerate(lines) if line.startswith("fatal:")]
    if not fatal:
        summary = lines[-1]
    else:
        index = fatal[0]
        summary = lines[index]
        if summary.endswith(":") and index + 1 < len(lines):
            summary = f"{summary} {lines[index + 1]}"
    return USERINFO_PATTERN.sub("", summary)


def resolve_git_tag(
    url: str,
    policy: VersionPolicy,
    *,
    rewrites: Mapping[str, str] | None = None,
    listed: Sequence[GitRef] | None = None,
) -> LockedTag:
    """Lock the latest tag of the repository at `url` that `policy` accepts.

    `listed` gives the references when the caller already has them, so one run lists
    each repository once. Raises GitRemoteError (see `list_tags`) and
    NoMatchingVersionError, naming `url`, when no tag is accepted.
    """
    if listed is None:
        listed = list_tags(url, rewrites=rewrites)
    refs = {ref.tag: ref for ref in listed if ref.tag is not None}
    tag = select_latest(refs, policy, source=redact_url(url))
    return LockedTag(
        url=redact_url(url), tag=tag, commit=refs[tag].commit, version=tag[len(policy.prefix) :]
    )


def github_url(owner_repo: str) -> str:
    """Return the HTTPS URL of the GitHub repository named ``OWNER/REPO``.

    Raises GitHubRepositoryNameError for any other form.
    """
    if GITHUB_NAME_PATTERN.fullmatch(owner_repo) is None or any(
        part in {".", ".."} for part in owner_repo.split("/")
    ):
        raise GitHubRepositoryNameError(
            f"invalid GitHub repository {owner_repo!r}: expected OWNER/REPO"
        )
    return f"https://github.com/{owner_repo}"
