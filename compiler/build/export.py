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

# GitHub Actions job ids and buildx bake target names allow only letters, digits, `-`
# and `_` (job ids must also start with a letter or `_`, which the `build-` prefix gives).
_ID_INVALID = re.compile(r"[^A-Za-z0-9_-]")


class IdConflictError(InvalidInputError):
    """Two image names map to the same GitHub Actions job id or bake target name."""


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
    Target names are image names with each character outside `[A-Za-z0-9_-]` replaced
    by `-`. Raises IdConflictError when two image names give the same target name.
    """
    target_names = _map_names(targets, "", "bake target name")
    bake_targets: dict[str, dict[str, Any]] = {}
    for target in targets:
        entry: dict[str, Any] = {
            "context": target.context,
            "dockerfile": "Dockerfile",
            "tags": list(target.references),
            "platforms": list(target.platforms),
        }
        contexts = {
            reference: f"target:{target_names[base]}"
            for base, reference in sorted(target.bases.items())
            if base in target_names
        }
        if contexts:
            entry["contexts"] = contexts
        bake_targets[target_names[target.name]] = entry
    document = {
        "group": {"default": {"targets": [target_names[target.name] for target in targets]}},
        "target": bake_targets,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def format_github_actions(targets: Sequence[BuildTarget]) -> str:
    """A GitHub Actions workflow with one job per image and `needs:` for its catalog bases.

    Each job runs `pinwright build --push NAME` on a runner with buildah; registry
    credentials come from the runner's Docker config, which the workflow does not set up.
    Raises IdConflictError when two image names give the same job id.
    """
    job_ids = _map_names(targets, "build-", "GitHub Actions job id")
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


def _map_names(targets: Sequence[BuildTarget], prefix: str, kind: str) -> dict[str, str]:
    """Map each image name to `prefix` + the name with invalid characters replaced by `-`.

    Raises IdConflictError naming both images when two names map to the same id.
    """
    owners: dict[str, str] = {}
    result: dict[str, str] = {}
    for target in targets:
        mapped = prefix + _ID_INVALID.sub("-", target.name)
        if mapped in owners:
            raise IdConflictError(
                f"images {owners[mapped]!r} and {target.name!r} both map to {kind} "
                f"{mapped!r}; rename one of them"
            )
        owners[mapped] = target.name
        result[target.name] = mapped
    return result
