"""The stages form of a spec, rendered through the built-in Dockerfile template.

Every string a user writes in a step may contain Jinja expressions over the variables
available to templates, and is rendered in the same sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from compiler.locked import GitTagValue, ImageValue, PackagesValue
from compiler.templating import describe_undefined, template_from_string
from spec.catalog import Catalog, ImageEntry
from spec.errors import PinwrightError
from spec.models import (
    CopyStep,
    EnvStep,
    ExposeStep,
    ImageInput,
    RunStep,
    Stage,
    UserStep,
    WorkdirStep,
)

OCI_LABEL = "org.opencontainers.image."


class StepRenderError(PinwrightError):
    """A Jinja expression in a step of the stages form failed."""


def render_stages(
    entry: ImageEntry,
    catalog: Catalog,
    environment: SandboxedEnvironment,
    context: Mapping[str, Any],
) -> str:
    """Render the stages form of `entry` into Dockerfile text (without the header).

    Packages install as root: when a stage's base is a catalog image that ends as
    another user, the install switches to root and back to that user.
    """
    spec = entry.spec
    assert spec.stages is not None
    renderer = _StringRenderer(entry, environment, context)
    inputs: Mapping[str, Any] = context["inputs"]

    stages = []
    for index, stage in enumerate(spec.stages):
        stages.append(
            {
                "name": stage.name,
                "base": _base_reference(stage.base, inputs),
                "packages": _packages(stage, inputs),
                "base_user": _non_root_user(catalog, entry, stage) if stage.packages else None,
                "lines": [
                    _step_line(step, inputs, renderer, ("stages", index, "steps", step_index))
                    for step_index, step in enumerate(stage.steps)
                ],
            }
        )

    labels = _labels(entry, inputs, renderer, spec.stages[-1].base)
    source = resources.files("compiler").joinpath("templates/stages.Dockerfile.j2").read_text()
    template = template_from_string(environment, source)
    return template.render(
        stages=stages,
        labels=[f"{key}={value}" for key, value in sorted(labels.items())],
        entrypoint=json.dumps(spec.entrypoint) if spec.entrypoint else None,
        cmd=json.dumps(spec.cmd) if spec.cmd else None,
    )


class _StringRenderer:
    """Render user strings as sandboxed Jinja templates, with errors at their YAML position."""

    def __init__(
        self, entry: ImageEntry, environment: SandboxedEnvironment, context: Mapping[str, Any]
    ) -> None:
        self.entry = entry
        self.environment = environment
        self.context = context

    def render(self, text: str, node_path: tuple[str | int, ...]) -> str:
        if "{" not in text:
            return text
        location = self.entry.document.locate(node_path)
        try:
            return template_from_string(self.environment, text).render(self.context)
        except jinja2.TemplateSyntaxError as error:
            raise StepRenderError(
                f"template syntax error: {error.message}", location=location
            ) from error
        except jinja2.UndefinedError as error:
            detail = describe_undefined(error.message or "", self.entry.spec.inputs)
            raise StepRenderError(f"undefined variable: {detail}", location=location) from error
        except Exception as error:
            # Step strings are user code: whatever they raise is a failure of that step.
            reason = (
                str(error)
                if isinstance(error, jinja2.TemplateError)
                else (f"{type(error).__name__}: {error}")
            )
            raise StepRenderError(f"expression failed: {reason}", location=location) from error


def _render_line(renderer: _StringRenderer, text: str, node_path: tuple[str | int, ...]) -> str:
    """Render a value that must stay within one Dockerfile instruction."""
    rendered = renderer.render(text, node_path)
    if any(ord(character) < 0x20 for character in rendered):
        raise StepRenderError(
            f"{text!r} renders to text with a line break or control character",
            location=renderer.entry.document.locate(node_path),
        )
    return rendered


ROOT_USERS = frozenset({"root", "0", "0:0", "root:root"})


def _non_root_user(catalog: Catalog, entry: ImageEntry, stage: Stage) -> str | None:
    """Return the user a stage's catalog base image ends as, or None when it is root.

    Only catalog images in the stages form are known; any other base is taken to run
    as root, as base images usually do.
    """
    declared = entry.spec.inputs.get(stage.base)
    if not isinstance(declared, ImageInput):
        return None
    user = final_user(catalog, declared.image, set())
    return None if user is None or user in ROOT_USERS else user


def final_user(catalog: Catalog, image: str, seen: set[str]) -> str | None:
    """Return the last `user` a catalog image sets, following its catalog bases."""
    entry = catalog.images.get(image)
    if entry is None or entry.spec.stages is None or image in seen:
        return None
    seen.add(image)
    last = entry.spec.stages[-1]
    for step in reversed(last.steps):
        if isinstance(step, UserStep):
            return step.user
    base = entry.spec.inputs.get(last.base)
    if isinstance(base, ImageInput):
        return final_user(catalog, base.image, seen)
    return None


def _base_reference(base: str, inputs: Mapping[str, Any]) -> str:
    value = inputs.get(base)
    return str(value) if isinstance(value, ImageValue) else base


def _packages(stage: Stage, inputs: Mapping[str, Any]) -> list[str]:
    if stage.packages is None:
        return []
    value = inputs[stage.packages]
    assert isinstance(value, PackagesValue)
    return [str(package) for package in value]


def _step_line(
    step: object,
    inputs: Mapping[str, Any],
    renderer: _StringRenderer,
    at: tuple[str | int, ...],
) -> str:
    if isinstance(step, RunStep):
        return "RUN " + _shell_lines(renderer.render(step.run, (*at, "run")))
    if isinstance(step, CopyStep):
        return _copy_line(step, inputs, renderer, (*at, "copy"))
    if isinstance(step, EnvStep):
        pairs = [
            f"{name}={json.dumps(renderer.render(value, (*at, 'env', name)))}"
            for name, value in step.env.items()
        ]
        return "ENV " + " \\\n    ".join(pairs)
    if isinstance(step, WorkdirStep):
        return "WORKDIR " + _render_line(renderer, step.workdir, (*at, "workdir"))
    if isinstance(step, UserStep):
        return "USER " + _render_line(renderer, step.user, (*at, "user"))
    if isinstance(step, ExposeStep):
        return "EXPOSE " + " ".join(step.expose)
    raise TypeError(f"unknown step type {type(step).__name__}")


def _shell_lines(command: str) -> str:
    """Join the lines of a multi-line `run` with `&&`, keeping backslash continuations."""
    commands: list[str] = []
    current = ""
    for raw in command.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.endswith("\\"):
            current += line[:-1].rstrip() + " "
            continue
        commands.append(current + line)
        current = ""
    if current:
        commands.append(current.rstrip())
    return " \\\n    && ".join(commands)


def _copy_line(
    step: CopyStep, inputs: Mapping[str, Any], renderer: _StringRenderer, at: tuple[str | int, ...]
) -> str:
    copy = step.copy_
    flags = []
    if copy.from_ is not None:
        flags.append(f"--from={_base_reference(copy.from_, inputs)}")
    if copy.chown is not None:
        flags.append(f"--chown={copy.chown}")
    if copy.chmod is not None:
        flags.append(f"--chmod={copy.chmod}")
    sources = copy.src if isinstance(copy.src, list) else [copy.src]
    paths = [_render_line(renderer, path, (*at, "src")) for path in sources]
    paths.append(_render_line(renderer, copy.dest, (*at, "dest")))
    if any(" " in path for path in paths):
        return " ".join(["COPY", *flags, json.dumps(paths)])
    return " ".join(["COPY", *flags, *paths])


def _labels(
    entry: ImageEntry,
    inputs: Mapping[str, Any],
    renderer: _StringRenderer,
    final_base_name: str,
) -> dict[str, str]:
    labels: dict[str, str] = {}
    base = inputs.get(final_base_name)
    if isinstance(base, ImageValue):
        labels[OCI_LABEL + "base.name"] = base.reference
        labels[OCI_LABEL + "base.digest"] = base.digest

    spec = entry.spec
    if spec.version_from is not None:
        value = inputs[spec.version_from]
        if isinstance(value, GitTagValue):
            labels[OCI_LABEL + "source"] = value.url
            labels[OCI_LABEL + "version"] = value.version
            labels[OCI_LABEL + "revision"] = value.commit
        else:
            labels[OCI_LABEL + "version"] = str(getattr(value, "version", value))

    for key, text in spec.labels.items():
        labels[key] = renderer.render(text, ("labels", key))
    return {key: json.dumps(value) for key, value in labels.items()}
