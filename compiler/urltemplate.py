"""URL templates of `url_checksum` inputs: which inputs they use, and rendering them.

Templates are rendered in Jinja's sandbox with StrictUndefined, like Dockerfile templates,
and see `inputs` (the template values of the inputs they name) and `arch`.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from spec.errors import PinwrightError


class UrlTemplateError(PinwrightError):
    """A URL template that does not parse or names something that is not defined."""


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def _parse(template: str) -> nodes.Template:
    try:
        return _environment().parse(template)
    except jinja2.TemplateSyntaxError as error:
        raise UrlTemplateError(
            f"invalid URL template {template!r}: {error.message} (line {error.lineno})"
        ) from None


def referenced_inputs(template: str) -> frozenset[str]:
    """Return the names used as `inputs.NAME` or `inputs["NAME"]` in `template`.

    Raises UrlTemplateError for a syntax error.
    """
    names: set[str] = set()
    tree = _parse(template)
    for attribute in tree.find_all(nodes.Getattr):
        if _is_inputs(attribute.node):
            names.add(attribute.attr)
    for item in tree.find_all(nodes.Getitem):
        if _is_inputs(item.node) and isinstance(item.arg, nodes.Const):
            if isinstance(item.arg.value, str):
                names.add(item.arg.value)
    return frozenset(names)


def _is_inputs(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "inputs"


def uses_arch(template: str) -> bool:
    """Return True when `template` uses the `arch` variable, so each architecture differs."""
    return "arch" in meta.find_undeclared_variables(_parse(template))


def render_url(template: str, inputs: Mapping[str, Any], arch: str) -> str:
    """Render `template` with `inputs` and `arch`; raises UrlTemplateError on any failure."""
    try:
        compiled = _environment().from_string(template)
        url = compiled.render(inputs=types.MappingProxyType(dict(inputs)), arch=arch)
    except jinja2.TemplateError as error:
        message = getattr(error, "message", None) or str(error)
        raise UrlTemplateError(f"cannot render URL template {template!r}: {message}") from None
    return url.strip()
