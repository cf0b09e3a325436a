"""The sandboxed Jinja environments that templates and step strings render in."""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2.bccache import Bucket
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from spec.catalog import Catalog, ImageEntry


class CatalogLoader(jinja2.BaseLoader):
    """Load templates from the image folder first, then from the catalog's includes folder.

    Names are paths relative to one of those folders; `..` is rejected so a template
    cannot read files outside them.
    """

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders

    def find(self, name: str) -> Path | None:
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts:
            return None
        for folder in self.folders:
            candidate = folder / name
            if candidate.is_file() and _inside(candidate, folder):
                return candidate
        return None

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        path = self.find(template)
        if path is None:
            raise jinja2.TemplateNotFound(template)
        source = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
        return source, str(path), lambda: path.stat().st_mtime == mtime


# Jinja's message when a template names an input that the spec does not declare.
_MISSING_INPUT = re.compile(r"^'mappingproxy object' has no attribute '([^']*)'$")


def describe_undefined(message: str, inputs: Iterable[str]) -> str:
    """Reword Jinja's message for an undefined `inputs.NAME` in the terms of the spec."""
    match = _MISSING_INPUT.match(message)
    if match is None:
        return message
    name = match.group(1)
    declared = sorted(inputs)
    close = difflib.get_close_matches(name, declared, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(declared) or "none"
    return f"undefined input {name!r}{hint}; the spec declares: {listed}"


def _inside(path: Path, folder: Path) -> bool:
    """Tell whether `path`, with symlinks followed, is still inside `folder`."""
    return path.resolve().is_relative_to(folder.resolve())


class MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory and shared by every environment of one process.

    Each image has its own environment, because its loader looks in its own folder first,
    so without a shared cache a macro file used by many images is compiled once per image.
    Jinja keys entries by template name and file, and checks the source checksum.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, CodeType]] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            entry = self._entries.get(bucket.key)
        if entry is not None and entry[0] == bucket.checksum:
            bucket.code = entry[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            with self._lock:
                self._entries[bucket.key] = (bucket.checksum, bucket.code)


BYTECODE_CACHE = MemoryBytecodeCache()
_compiled_strings: dict[str, CodeType] = {}


def template_from_string(environment: SandboxedEnvironment, source: str) -> jinja2.Template:
    """Return `environment.from_string(source)`, compiling each distinct source once.

    Every environment comes from `create_environment` with the same options, so the code
    compiled by one of them is valid in all of them. Raises TemplateSyntaxError.
    """
    code = _compiled_strings.get(source)
    if code is None:
        code = environment.compile(source)
        _compiled_strings[source] = code
    return environment.template_class.from_code(environment, code, environment.make_globals(None))


# The largest exponent `**` accepts in a template. Python computes any power exactly,
# so `10 ** 10 ** 8` would keep a run busy for minutes.
MAX_EXPONENT = 1024


class CatalogSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with `**` limited to small exponents."""

    intercepted_binops = frozenset({"**"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
        return super().call_binop(context, operator, left, right)


def create_environment(entry: ImageEntry, catalog: Catalog) -> SandboxedEnvironment:
    """Build the sandboxed environment for one image's templates."""
    return CatalogSandbox(
        bytecode_cache=BYTECODE_CACHE,
        loader=CatalogLoader([entry.directory, catalog.includes_dir]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
