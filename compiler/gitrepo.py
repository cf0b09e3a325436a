"""The git operations Pinwright needs: read files at a revision, check the index, commit.

Every call runs `git -C ROOT ...` with an argument list. Errors are InvalidInputError
subclasses because the user must fix the repository or the arguments to clear each one.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path

from spec.errors import InvalidInputError

logger = logging.getLogger(__name__)


class GitCommandError(InvalidInputError):
    """A git command failed, or git is not installed."""


class GitRepositoryNotFoundError(InvalidInputError):
    """A folder is not inside a git working tree."""


class GitRevisionNotFoundError(InvalidInputError):
    """A revision does not name a commit of the repository."""


class GitIdentityMissingError(InvalidInputError):
    """git has no user name or email to write into a commit."""


def run_git(
    root: Path, arguments: Sequence[str], *, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `git -C root ARGUMENTS` and return the finished process, whatever its exit code.

    Raises GitCommandError when git cannot be started.
    """
    command = ["git", "-C", str(root), *arguments]
    logger.debug("running %s", command)
    try:
        return subprocess.run(  # noqa: S603 - an argument list, no shell
            command, input=stdin, capture_output=True, check=False
        )
    except OSError as error:
        raise GitCommandError(f"cannot run git: {error}") from error


def check_git(root: Path, arguments: Sequence[str], *, stdin: bytes | None = None) -> bytes:
    """Run git like `run_git` and return its output; raises GitCommandError on failure."""
    process = run_git(root, arguments, stdin=stdin)
    if process.returncode != 0:
        message = process.stderr.decode("utf-8", "replace").strip() or f"exit {process.returncode}"
        raise GitCommandError(f"`git {' '.join(arguments)}` failed in {root}: {message}")
    return process.stdout


def find_toplevel(folder: Path) -> Path:
    """Return the top folder of the git working tree that contains `folder`.

    Raises GitRepositoryNotFoundError.
    """
    process = run_git(folder, ["rev-parse", "--show-toplevel"])
    if process.returncode != 0 or not process.stdout.strip():
        raise GitRepositoryNotFoundError(
            f"{folder} is not inside a git repository; run `git init` there or pass -C "
            "with a catalog folder inside one"
        )
    return Path(process.stdout.decode("utf-8").strip()).resolve()


def has_commits(root: Path) -> bool:
    """Return whether the repository at `root` has a HEAD commit."""
    return run_git(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).returncode == 0


def resolve_revision(root: Path, revision: str) -> str:
    """Return the commit id that `revision` names; raises GitRevisionNotFoundError."""
    if revision.startswith("-"):
        raise GitRevisionNotFoundError(f"invalid revision {revision!r}: it starts with '-'")
    process = run_git(
        root, ["rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"]
    )
    if process.returncode != 0:
        raise GitRevisionNotFoundError(f"unknown revision {revision!r} in the repository at {root}")
    return process.stdout.decode("ascii").strip()


def list_files(root: Path, commit: str, folder: str) -> list[str]:
    """Return the paths of the files under `folder` at `commit`, relative to `root`."""
    pathspec = folder or "."
    output = check_git(
        root, ["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", pathspec]
    )
    return sorted(_split_names(output))


def read_file(root: Path, commit: str, path: str) -> bytes:
    """Return the content of `path` (relative to `root`) at `commit`; raises GitCommandError."""
    return check_git(root, ["cat-file", "blob", f"{commit}:{path}"])


def staged_paths(root: Path) -> list[str]:
    """Return the paths whose staged content differs from HEAD (every path without HEAD)."""
    if has_commits(root):
        output = check_git(root, ["diff", "--cached", "--name-only", "-z", "--no-renames"])
    else:
        output = check_git(root, ["ls-files", "--cached", "-z"])
    return sorted(_split_names(output))


def changed_paths(root: Path, paths: Sequence[str]) -> list[str]:
    """Return those of `paths` whose working-tree content differs from HEAD.

    New files count as changed, ignored files do not. The content of the index is ignored,
    because `commit_paths` commits the working-tree content.
    """
    if has_commits(root):
        differing = check_git(
            root, ["diff", "--name-only", "-z", "--no-renames", "HEAD", "--", *paths]
        )
        untracked = check_git(
            root, ["ls-files", "--others", "--exclude-standard", "-z", "--", *paths]
        )
        found = set(_split_names(differing)) | set(_split_names(untracked))
    else:
        existing = check_git(
            root, ["ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *paths]
        )
        found = set(_split_names(existing))
    return [path for path in paths if path in found]


def check_identity(root: Path) -> None:
    """Check that git can name the author and committer of a new commit.

    Raises GitIdentityMissingError with git's own reason.
    """
    for variable in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        process = run_git(root, ["var", variable])
        if process.returncode != 0:
            reason = _last_line(process.stderr)
            raise GitIdentityMissingError(
                f"git has no user identity ({reason}); set it with "
                "`git config user.name NAME` and `git config user.email EMAIL`"
            )


def commit_paths(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit the working-tree content of `paths` alone, and return the new commit id.

    Other staged changes stay staged and out of the commit. When the commit fails (a
    hook rejects it, for example), the index entries of `paths` are reset to HEAD and
    GitCommandError is raised.
    """
    check_git(root, ["add", "--all", "--", *paths])
    try:
        check_git(
            root, ["commit", "--quiet", "--file=-", "--only", "--", *paths], stdin=message.encode()
        )
    except GitCommandError:
        if has_commits(root):
            run_git(root, ["reset", "--quiet", "HEAD", "--", *paths])
        else:
            run_git(root, ["rm", "--cached", "--quiet", "--ignore-unmatch", "--", *paths])
        raise
    return check_git(root, ["rev-parse", "HEAD"]).decode("ascii").strip()


def _split_names(output: bytes) -> list[str]:
    return [name.decode("utf-8") for name in output.split(b"\0") if name]


def _last_line(stderr: bytes) -> str:
    lines = [
        line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()
    ]
    return lines[-1] if lines else "no reason given"
