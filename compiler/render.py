"""Render a Dockerfile from a spec and its lock: pure, offline and sandboxed.

Templates run in Jinja's sandbox with StrictUndefined, so a template can neither
reach Python internals nor silently render a missing variable as empty text.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from compiler.lockfile import Lock, sha256_text
from compiler.stages import render_stages
from compiler.templating import CatalogLoader, create_environment, describe_undefined
from spec.catalog import Catalog, ImageEntry
from spec.errors import Location, PinwrightError
from spec.models import ARCHITECTURES

# Parser directives must stay the first lines of a Dockerfile, above any comment.
DIRECTIVE = re.compile(r"^#\s*(syntax|escape|check)\s*=", re.IGNORECASE)
FROM_INSTRUCTION = re.compile(r"^\s*FROM\s", re.IGNORECASE | re.MULTILINE)


class TemplateRenderError(PinwrightError):
    """A template failed to parse or render: a syntax error or an undefined variable."""


def collect_templates(entry: ImageEntry, catalog: Catalog) -> dict[str, str]:
    """Return the sha256 of every template file an image uses, by catalog-relative path.

    Imports and includes are followed statically; names computed at render time are
    not known here and are left out. Raises TemplateRenderError for a syntax error.
    """
    if entry.template_path is None:
        return {}
    environment = create_environment(entry, catalog)
    loader = environment.loader
    assert isinstance(loader, CatalogLoader)

    found: dict[str, str] = {}
    pending = [entry.template_path]
    while pending:
        path = pending.pop()
        key = catalog.relative(path)
        if key in found:
            continue
        content = _read_template(path)
        found[key] = sha256_text(content)
        try:
            tree = environment.parse(content.decode("utf-8"), filename=str(path))
        except jinja2.TemplateSyntaxError as error:
            raise _syntax_error(error, path) from error
        for name in meta.find_referenced_templates(tree):
            if name is None:
                continue
            target = loader.find(name)
            if target is None:
                includes = catalog.relative(catalog.includes_dir)
                raise TemplateRenderError(
                    f"template {name!r} not found in {entry.name}/ or {includes}/",
                    location=Location(path),
                )
            pending.append(target)
    return dict(sorted(found.items()))


def build_context(entry: ImageEntry, catalog: Catalog, lock: Lock) -> dict[str, Any]:
    """Return the variables available to a template."""
    architectures = tuple(catalog.config.architectures)
    values = {
        name: lock.inputs[name].template_value(architectures)
        for name in entry.spec.inputs
        if name in lock.inputs
    }
    return {
        "inputs": types.MappingProxyType(values),
        "image": entry.name,
        "registry": catalog.config.registry,
        "architectures": list(architectures),
        "platforms": [ARCHITECTURES[arch] for arch in architectures],
    }


def render_dockerfile(entry: ImageEntry, catalog: Catalog, lock: Lock) -> str:
    """Render the Dockerfile text of one image, header included.

    Raises TemplateRenderError with the template position for syntax errors and
    undefined variables.
    """
    environment = create_environment(entry, catalog)
    context = build_context(entry, catalog, lock)
    if entry.template_path is None:
        body = render_stages(entry, catalog, environment, context)
    else:
        body = _render_template(environment, entry, context, catalog)
        if not FROM_INSTRUCTION.search(body):
            raise TemplateRenderError(
                f"{catalog.relative(entry.template_path)} rendered no FROM instruction",
                location=Location(entry.template_path),
            )
    return _with_header(body, entry, catalog)


def _render_template(
    environment: SandboxedEnvironment,
    entry: ImageEntry,
    context: Mapping[str, Any],
    catalog: Catalog,
) -> str:
    assert entry.template_path is not None
    path = entry.template_path
    name = catalog.relative(path)
    try:
        template = environment.get_template(path.relative_to(entry.directory).as_posix())
        return template.render(context)
    except jinja2.TemplateSyntaxError as error:
        raise _syntax_error(error, path) from error
    except jinja2.UndefinedError as error:
        detail = describe_undefined(error.message or "", entry.spec.inputs)
        raise TemplateRenderError(
            f"undefined variable in {name}: {detail}", location=_error_location(error, path)
        ) from error
    except jinja2.TemplateNotFound as error:
        raise TemplateRenderError(
            f"template {error.name!r} not found", location=_error_location(error, path)
        ) from error
    except jinja2.TemplateError as error:
        raise TemplateRenderError(
            f"template {name} failed: {error}", location=_error_location(error, path)
        ) from error
    except Exception as error:
        # A template is user code: whatever it raises (a division by zero, a recursion
        # that never ends, a value too large) is a failure of that template.
        raise TemplateRenderError(
            f"template {name} failed: {type(error).__name__}: {error}",
            location=_error_location(error, path),
        ) from error


def _read_template(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TemplateRenderError(
            f"cannot read template: {error}", location=Location(path)
        ) from error


def _syntax_error(error: jinja2.TemplateSyntaxError, path: Path) -> TemplateRenderError:
    where = Path(error.filename) if error.filename else path
    return TemplateRenderError(
        f"template syntax error: {error.message}", location=Location(where, error.lineno)
    )


def _error_location(error: BaseException, path: Path) -> Location:
    """Find the template line of a render error from the traceback Jinja rewrites."""
    line: int | None = None
    where = path
    traceback = error.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if "__jinja_exception__" in traceback.tb_frame.f_globals:
            where = Path(filename)
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return Location(where, line)


def _with_header(body: str, entry: ImageEntry, catalog: Catalog) -> str:
    lines = body.splitlines()
    directives: list[str] = []
    while lines and DIRECTIVE.match(lines[0]):
        directives.append(lines.pop(0))

    spec = catalog.relative(entry.spec_path)
    lock = catalog.relative(entry.lock_path)
    header = [
        f"# Generated by Pinwright from {spec} and {lock}.",
        f"# Do not edit: change the spec, then run `pinwright compile {entry.name}`.",
    ]
    if catalog.config.source_link:
        header.append(f"# Source: {catalog.config.source_link.rstrip('/')}/{spec}")

    text = "\n".join([*directives, *header, "", *_strip_blank_edges(lines)])
    return text.rstrip("\n") + "\n"


def _strip_blank_edges(lines: list[str]) -> list[str]:
    """Drop leading blank lines and trailing spaces, and fold runs of blank lines into one."""
    result: list[str] = []
    for line in lines:
        line = line.rstrip()
        if line or (result and result[-1]):
            result.append(line)
    return result
