"""The image graph in formats other tools read: text, JSON, Graphviz dot, a Docker Bake
file and a GitHub Actions workflow.

Every function is pure: it formats build targets (from `compiler.build.targets`) as text.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from ruamel.yaml import YAML

from compiler.build.targets import BuildTarget
from spec.errors import InvalidInputError

# GitHub Actions job ids: a letter or `_`, then letters, digits, `-` and `_`.
_JOB_ID_INVALID = re.compile(r"[^A-Za-z0-9_-]")


class JobIdConflictError(InvalidInputError):
    """Two image names map to the same GitHub Actions job id."""


def format_text(targets: Sequence[BuildTarget]) -> str:
    """One line per image in build order: `NAME`, or `NAME <- BASE, ...` for dependents."""
    lines = []
    for target in targets:
        if target.depends_on:
            lines.append(f"{target.name} <- {', '.join(target.depends_on)}")
        else:
            lines.append(target.name)
    return "".join(line + "\n" for line in lines)


def format_json(targets: Sequence[BuildTarget]) -> str:
    """The build order and, per image, its dependencies, paths, tags and platforms."""
    document = {
        "order": [target.name for target in targets],
        "images": {
            target.name: {
                "depends_on": list(target.depends_on),
                "context": target.context,
                "dockerfile": target.dockerfile,
                "tags": list(target.references),
                "platforms": list(target.platforms),
            }
            for target in targets
        },
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def format_dot(targets: Sequence[BuildTarget]) -> str:
    """A Graphviz digraph whose edges run from each base to the images built on it."""
    lines = ["digraph images {", "  rankdir=LR;"]
    for target in targets:
        lines.append(f"  {_dot_id(target.name)};")
    for target in targets:
        for base in target.depends_on:
            lines.append(f"  {_dot_id(base)} -> {_dot_id(target.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def format_bake(targets: Sequence[BuildTarget]) -> str:
    """A `docker-bake.json` with a `default` group and one target per image.

    Paths are relative to the catalog root, so `docker buildx bake` runs from there.
    A dependent names each catalog base as a `target:` context. BuildKit matches a
    named context against the normalised `FROM` reference (tag and digest included),
    so the context key is the pinned reference the Dockerfile uses; the dependent is
    then built on the base that bake has just built instead of the locked digest.
    """
    included = {target.name for target in targets}
    bake_targets: dict[str, dict[str, Any]] = {}
    for target in targets:
        entry: dict[str, Any] = {
            "context": target.context,
            "dockerfile": "Dockerfile",
            "tags": list(target.references),
            "platforms": list(target.platforms),
        }
        contexts = {
            reference: f"target:{base}"
            for base, reference in sorted(target.bases.items())
            if base in included
        }
        if contexts:
            entry["contexts"] = contexts
        bake_targets[target.name] = entry
    document = {
        "group": {"default": {"targets": [target.name for target in targets]}},
        "target": bake_targets,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def format_github_actions(targets: Sequence[BuildTarget]) -> str:
    """A GitHub Actions workflow with one job per image and `needs:` for its catalog bases.

    Each job runs `pinwright build --push NAME` on a runner with buildah; registry
    credentials come from the runner's Docker config, which the workflow does not set up.
    Raises JobIdConflictError when two image names give the same job id.
    """
    job_ids = _job_ids(targets)
    jobs: dict[str, Any] = {}
    for target in targets:
        job: dict[str, Any] = {"name": f"build {target.name}", "runs-on": "ubuntu-latest"}
        needs = [job_ids[base] for base in target.depends_on if base in job_ids]
        if needs:
            job["needs"] = needs
        job["steps"] = [
            {"uses": "actions/checkout@v4"},
            {"name": "Install buildah", "run": "sudo apt-get install -y buildah"},
            {"name": "Install Pinwright", "run": "python3 -m pip install pinwright"},
            {
                "name": f"Build and push {target.name}",
                "run": f"pinwright build --push {target.name}",
            },
        ]
        jobs[job_ids[target.name]] = job
    workflow = {
        "name": "Build images",
        "on": {"workflow_dispatch": {}},
        "jobs": jobs,
    }
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump(workflow, stream)
    return stream.getvalue()


FORMATTERS: dict[str, Callable[[Sequence[BuildTarget]], str]] = {
    "text": format_text,
    "json": format_json,
    "dot": format_dot,
    "bake": format_bake,
    "github-actions": format_github_actions,
}


def _dot_id(name: str) -> str:
    return json.dumps(name)


def _job_ids(targets: Sequence[BuildTarget]) -> dict[str, str]:
    owners: dict[str, str] = {}
    result: dict[str, str] = {}
    for target in targets:
        job_id = "build-" + _JOB_ID_INVALID.sub("-", target.name)
        if job_id in owners:
            raise JobIdConflictError(
                f"images {owners[job_id]!r} and {target.name!r} both map to GitHub Actions "
                f"job id {job_id!r}; rename one of them"
            )
        owners[job_id] = target.name
        result[target.name] = job_id
    return result
