"""`validate` and `check`: find what is wrong with a catalog, with no network.

`validate` loads every spec and the config, follows the image graph and reads every
template, and checks that each variable a template uses exists and that each declared
input is used. `check` adds that each lock matches its spec and templates and that each
committed Dockerfile equals what `compile` writes. Problems become findings; nothing is
written.
"""

from __future__ import annotations

import difflib
import functools
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from compiler.findings import Finding, Rule, Severity
from compiler.graph import catalog_dependencies, find_cycle
from compiler.lockfile import LockInvalidError, sha256_text
from compiler.online import ONLINE_RULES, check_upstream
from compiler.pipeline import LockMissingError, LockStaleError, load_current_lock
from compiler.render import collect_templates, render_dockerfile
from compiler.settings import ResolveOptions
from compiler.templating import CatalogLoader, create_environment
from spec.catalog import Catalog, ImageEntry, load_catalog
from spec.errors import Location, PinwrightError, ProblemsError
from spec.models import CopyStep, EnvStep, ImageInput, RunStep, UserStep, WorkdirStep
from spec.yamlload import NodePath, YamlSyntaxError

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("yaml-invalid", "error", "A spec or config file is not valid YAML."),
        Rule("spec-invalid", "error", "A spec or config value breaks the schema."),
        Rule("image-unknown", "error", "An image input names no catalog image."),
        Rule("image-cycle", "error", "Catalog images depend on each other in a cycle."),
        Rule("template-syntax", "error", "A template does not parse."),
        Rule("template-not-found", "error", "A template includes or imports a missing file."),
        Rule("template-undefined", "error", "A template uses a variable that does not exist."),
        Rule("input-unused", "warning", "A declared input is used by no template or stage."),
        Rule("lock-missing", "error", "An image has no lockfile."),
        Rule("lock-invalid", "error", "A lockfile cannot be read."),
        Rule("lock-stale", "error", "A lock does not match the inputs its spec declares."),
        Rule("lock-outdated", "error", "A lock records other checksums of its spec or templates."),
        Rule("render-failed", "error", "The Dockerfile of an image cannot be rendered."),
        Rule("dockerfile-missing", "error", "A generated Dockerfile is not committed."),
        Rule("dockerfile-stale", "error", "A committed Dockerfile differs from the compiled one."),
    )
}

# Every rule `check` can report, `--online` included.
ALL_RULES: dict[str, Rule] = {**RULES, **ONLINE_RULES}

# Turns a line of a parsed template text into a location in the file it came from.
Locator = Callable[[int], Location]

# Names in every template context besides Jinja's globals; see `compiler.render.build_context`.
CONTEXT_NAMES = frozenset({"inputs", "image", "registry", "architectures", "platforms"})
# Attributes of a mapping: `inputs.items()` and the like use every input at once.
MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})


@dataclass
class Report:
    """The findings of one run, and the images whose checks could not go on."""

    findings: list[Finding] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)

    def add(
        self,
        rule: str,
        location: Location,
        message: str,
        *,
        fix: str | None = None,
        detail: str | None = None,
        image: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                rule=rule,
                severity=severity or RULES[rule].severity,
                path=location.path,
                line=location.line,
                column=location.column,
                message=message,
                fix=fix,
                detail=detail,
            )
        )
        if image is not None and (severity or RULES[rule].severity) == "error":
            self.broken.add(image)


def validate_catalog(root: Path) -> tuple[Catalog | None, Report]:
    """Validate the catalog at `root`; return it (None when it does not load) and the report.

    Raises CatalogNotFoundError when `root` contains no `pinwright.yaml`.
    """
    report = Report()
    try:
        catalog = load_catalog(root)
    except ProblemsError as error:
        for problem in error.problems:
            rule = "yaml-invalid" if isinstance(problem, YamlSyntaxError) else "spec-invalid"
            report.add(rule, problem.location or Location(root), problem.message)
        return None, report

    check_image_names(catalog, report)
    check_cycles(catalog, report)
    for name in sorted(catalog.images):
        check_templates(catalog.images[name], catalog, report)
    return catalog, report


def check_catalog(
    root: Path, names: Sequence[str] = (), *, upstream: ResolveOptions | None = None
) -> tuple[Catalog | None, Report]:
    """Validate the catalog, then check the locks and Dockerfiles of the named images (or all).

    Images with validation errors are not checked further. With `upstream`, the pins of
    every readable lock are also checked against upstream, over the network.
    Raises CatalogNotFoundError and UnknownImageError.
    """
    catalog, report = validate_catalog(root)
    if catalog is None:
        return None, report
    selected = catalog.select(names)
    for name in selected:
        if name not in report.broken:
            check_image(catalog.images[name], catalog, report)
    if upstream is not None:
        report.findings.extend(check_upstream(catalog, selected, upstream))
    return catalog, report


# ----- the image graph -----


def check_image_names(catalog: Catalog, report: Report) -> None:
    """Report `image:` inputs written as a bare name that is not a catalog image.

    A bare name is how a spec names a catalog image, so a typo there would otherwise
    resolve to a Docker Hub image of that name.
    """
    for name, entry in sorted(catalog.images.items()):
        for input_name, declared in entry.spec.inputs.items():
            if not isinstance(declared, ImageInput):
                continue
            value = declared.image
            if value in catalog.images or any(mark in value for mark in "/:@."):
                continue
            message = f"input {input_name!r} names image {value!r}, which is not in the catalog"
            message += _suggestion(value, catalog.images)
            report.add(
                "image-unknown",
                entry.document.locate(("inputs", input_name, "image")),
                message,
                fix=f"name a catalog image, or write a full reference such as "
                f"docker.io/library/{value}:TAG",
                image=name,
            )


def check_cycles(catalog: Catalog, report: Report) -> None:
    """Report one cycle of the image graph, at the input that closes it in the first image."""
    graph = catalog_dependencies(catalog)
    remaining = _unordered_images(graph)
    if not remaining:
        return
    cycle = find_cycle({name: graph[name] for name in remaining})
    first, second = cycle[0], cycle[1]
    entry = catalog.images[first]
    input_name = next(
        name
        for name, declared in entry.spec.inputs.items()
        if isinstance(declared, ImageInput) and declared.image == second
    )
    report.add(
        "image-cycle",
        entry.document.locate(("inputs", input_name, "image")),
        "dependency cycle between images: " + " -> ".join(cycle),
        fix="remove one of the image inputs of the cycle",
    )
    report.broken.update(remaining)


def _unordered_images(graph: Mapping[str, Iterable[str]]) -> set[str]:
    """Return the images that no topological order can place: those in or after a cycle."""
    waiting = {name: len(set(parents)) for name, parents in graph.items()}
    dependents: dict[str, list[str]] = {name: [] for name in graph}
    for name, parents in graph.items():
        for parent in set(parents):
            dependents[parent].append(name)
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    placed: set[str] = set()
    while ready:
        name = heapq.heappop(ready)
        placed.add(name)
        for child in dependents[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    return set(graph) - placed


# ----- templates and inputs -----


@dataclass
class InputUse:
    """The inputs that the templates of one image read."""

    names: set[str] = field(default_factory=set)
    dynamic: bool = False  # `inputs` used as a whole, so every input may be read


def check_templates(entry: ImageEntry, catalog: Catalog, report: Report) -> None:
    """Parse every template and user string of an image and check the variables they use."""
    environment = create_environment(entry, catalog)
    known = CONTEXT_NAMES | set(environment.globals)
    use = InputUse()

    if entry.template_path is None:
        _check_stage_strings(entry, environment, known, use, report)
        _mark_stage_inputs(entry, use)
    else:
        _check_template_files(entry, catalog, environment, known, use, report)
    if entry.spec.version_from is not None:
        use.names.add(entry.spec.version_from)

    if use.dynamic:
        return
    for input_name in entry.spec.inputs:
        if input_name not in use.names:
            report.add(
                "input-unused",
                entry.document.locate(("inputs", input_name), key=True),
                f"input {input_name!r} of image {entry.name} is not used",
                fix=f"use `inputs.{input_name}` in a template or stage, or remove the input",
            )


def _check_template_files(
    entry: ImageEntry,
    catalog: Catalog,
    environment: SandboxedEnvironment,
    known: frozenset[str] | set[str],
    use: InputUse,
    report: Report,
) -> None:
    """Check the image's template and every file it includes or imports, once each."""
    assert entry.template_path is not None
    loader = environment.loader
    assert isinstance(loader, CatalogLoader)
    pending = [entry.template_path]
    seen: set[Path] = set()
    while pending:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            report.add(
                "template-syntax",
                Location(path),
                f"cannot read template: {error}",
                image=entry.name,
            )
            continue
        locate = functools.partial(Location, path)
        tree = _parse(environment, source, locate, entry, use, report)
        if tree is None:
            continue
        _check_variables(tree, entry, known, use, report, locate)
        for name, line in _referenced_templates(tree):
            target = loader.find(name)
            if target is None:
                includes = catalog.relative(catalog.includes_dir)
                report.add(
                    "template-not-found",
                    Location(path, line),
                    f"template {name!r} not found in {entry.name}/ or {includes}/",
                    image=entry.name,
                )
            else:
                pending.append(target)


def _referenced_templates(tree: nodes.Template) -> Iterator[tuple[str, int]]:
    """Yield the constant names of templates that `tree` extends, includes or imports."""
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        template = getattr(node, "template", None)
        if isinstance(template, nodes.Const) and isinstance(template.value, str):
            yield template.value, node.lineno


def _parse(
    environment: SandboxedEnvironment,
    source: str,
    locate: Locator,
    entry: ImageEntry,
    use: InputUse,
    report: Report,
) -> nodes.Template | None:
    """Parse a template; report a syntax error and return None when it does not parse.

    The inputs a broken template uses are unknown, so it counts as using all of them.
    """
    try:
        return environment.parse(source)
    except jinja2.TemplateSyntaxError as error:
        use.dynamic = True
        report.add(
            "template-syntax",
            locate(error.lineno),
            f"template syntax error: {error.message}",
            image=entry.name,
        )
        return None


def _check_variables(
    tree: nodes.Template,
    entry: ImageEntry,
    known: frozenset[str] | set[str],
    use: InputUse,
    report: Report,
    locate: Locator,
) -> None:
    """Report unknown top-level names and undeclared `inputs.NAME`; record the inputs used."""
    first_line: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load":
            first_line.setdefault(node.name, node.lineno)
    for name in sorted(meta.find_undeclared_variables(tree) - known):
        report.add(
            "template-undefined",
            locate(first_line.get(name, 1)),
            f"undefined variable {name!r}" + _suggestion(name, known),
            image=entry.name,
        )

    declared = entry.spec.inputs
    for name, line in _input_references(tree, use):
        use.names.add(name)
        if name not in declared:
            listed = ", ".join(sorted(declared)) or "none"
            report.add(
                "template-undefined",
                locate(line),
                f"undefined input {name!r}{_suggestion(name, declared)} "
                f"(declared inputs: {listed})",
                fix=f"declare {name!r} under `inputs:` of image {entry.name}",
                image=entry.name,
            )


def _input_references(tree: nodes.Template, use: InputUse) -> Iterator[tuple[str, int]]:
    """Yield each `inputs.NAME` and `inputs["NAME"]` with its line; flag any other use."""
    attached: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = getattr(node, "node", None)
        if not (isinstance(target, nodes.Name) and target.name == "inputs"):
            continue
        attached.add(id(target))
        if isinstance(node, nodes.Getattr) and node.attr not in MAPPING_METHODS:
            yield node.attr, node.lineno
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            yield node.arg.value, node.lineno
        else:
            use.dynamic = True
    for name_node in tree.find_all(nodes.Name):
        if name_node.name == "inputs" and id(name_node) not in attached:
            use.dynamic = True


def _check_stage_strings(
    entry: ImageEntry,
    environment: SandboxedEnvironment,
    known: frozenset[str] | set[str],
    use: InputUse,
    report: Report,
) -> None:
    """Check the Jinja expressions in the user strings of the stages form."""
    for node_path, text in _stage_strings(entry):
        if "{" not in text:
            continue
        locate = _yaml_locator(entry, node_path)
        tree = _parse(environment, text, locate, entry, use, report)
        if tree is not None:
            _check_variables(tree, entry, known, use, report, locate)


def _yaml_locator(entry: ImageEntry, node_path: NodePath) -> Locator:
    """Map a line of a YAML string value to its line in the spec file.

    A block scalar (`|` or `>`) starts on the line after its indicator. The column is
    kept only for the first line of a string written on the line of its key.
    """
    location = entry.document.locate(node_path)
    if location.line is None or location.column is None:
        return lambda line: location
    spec_lines = entry.spec_bytes.decode("utf-8", "replace").splitlines()
    start_text = spec_lines[location.line - 1] if location.line <= len(spec_lines) else ""
    if start_text[location.column - 1 : location.column] in ("|", ">"):
        first = location.line + 1
        return lambda line: Location(location.path, first + line - 1)
    start_line, start_column = location.line, location.column
    return lambda line: Location(
        location.path, start_line + line - 1, start_column if line == 1 else None
    )


def _stage_strings(entry: ImageEntry) -> Iterator[tuple[NodePath, str]]:
    """Yield every user string that `compiler.stages` renders, with its YAML path."""
    spec = entry.spec
    for index, stage in enumerate(spec.stages or []):
        for step_index, step in enumerate(stage.steps):
            at: NodePath = ("stages", index, "steps", step_index)
            if isinstance(step, RunStep):
                yield (*at, "run"), step.run
            elif isinstance(step, CopyStep):
                sources = step.copy_.src if isinstance(step.copy_.src, list) else [step.copy_.src]
                for source in sources:
                    yield (*at, "copy", "src"), source
                yield (*at, "copy", "dest"), step.copy_.dest
            elif isinstance(step, EnvStep):
                for key, value in step.env.items():
                    yield (*at, "env", key), value
            elif isinstance(step, WorkdirStep):
                yield (*at, "workdir"), step.workdir
            elif isinstance(step, UserStep):
                yield (*at, "user"), step.user
    for key, value in spec.labels.items():
        yield ("labels", key), value


def _mark_stage_inputs(entry: ImageEntry, use: InputUse) -> None:
    """Record the inputs the stages form names outside of Jinja: bases, packages, copy sources."""
    for stage in entry.spec.stages or []:
        use.names.add(stage.base)
        if stage.packages is not None:
            use.names.add(stage.packages)
        for step in stage.steps:
            if isinstance(step, CopyStep) and step.copy_.from_ is not None:
                use.names.add(step.copy_.from_)


def _suggestion(word: str, candidates: Iterable[str]) -> str:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


# ----- locks and Dockerfiles -----


def check_image(entry: ImageEntry, catalog: Catalog, report: Report) -> None:
    """Check that the lock of `entry` matches its spec and templates, and its Dockerfile."""
    lock_fix = f"pinwright lock {entry.name}"
    compile_fix = f"pinwright compile {entry.name}"
    try:
        current = load_current_lock(entry, catalog)
    except LockMissingError as error:
        report.add("lock-missing", _where(error, entry), f"{entry.name} has no lock", fix=lock_fix)
        return
    except LockStaleError:
        spec = catalog.relative(entry.spec_path)
        report.add(
            "lock-stale",
            Location(entry.lock_path),
            f"lock of {entry.name} does not match the inputs declared in {spec}",
            fix=lock_fix,
        )
        return
    except LockInvalidError as error:
        report.add("lock-invalid", _where(error, entry), error.message, fix=lock_fix)
        return

    for message in _checksum_differences(entry, catalog, current.spec_sha256, current.templates):
        report.add("lock-outdated", Location(entry.lock_path), message, fix=compile_fix)

    try:
        expected = render_dockerfile(entry, catalog, current)
    except PinwrightError as error:
        report.add("render-failed", _where(error, entry), error.message)
        return
    _compare_dockerfile(entry, catalog, expected, report)


def _where(error: PinwrightError, entry: ImageEntry) -> Location:
    return error.location or Location(entry.lock_path)


def _checksum_differences(
    entry: ImageEntry, catalog: Catalog, spec_sha256: str, templates: Mapping[str, str]
) -> list[str]:
    messages = []
    spec = catalog.relative(entry.spec_path)
    if spec_sha256 != sha256_text(entry.spec_bytes):
        messages.append(f"lock of {entry.name} records another checksum of {spec}")
    try:
        current = collect_templates(entry, catalog)
    except PinwrightError:
        return messages  # `validate` has reported the broken template
    for path in sorted(set(current) | set(templates)):
        if path not in templates:
            messages.append(f"lock of {entry.name} does not record template {path}")
        elif path not in current:
            messages.append(f"lock of {entry.name} records template {path}, which is not used")
        elif current[path] != templates[path]:
            messages.append(f"lock of {entry.name} records another checksum of {path}")
    return messages


def _compare_dockerfile(entry: ImageEntry, catalog: Catalog, expected: str, report: Report) -> None:
    path = entry.dockerfile_path
    relative = catalog.relative(path)
    fix = f"pinwright compile {entry.name}"
    try:
        committed = path.read_bytes()
    except FileNotFoundError:
        report.add("dockerfile-missing", Location(path), f"{relative} is missing", fix=fix)
        return
    if committed == expected.encode("utf-8"):
        return

    old = committed.decode("utf-8", "replace").splitlines(keepends=True)
    new = expected.splitlines(keepends=True)
    diff = difflib.unified_diff(old, new, f"{relative} (committed)", f"{relative} (compiled)")
    detail = "".join(line if line.endswith("\n") else line + "\n" for line in diff)
    line = _first_difference(old, new)
    report.add(
        "dockerfile-stale",
        Location(path, line, 1),
        f"{relative} differs from what `compile` writes",
        fix=fix,
        detail=detail.rstrip("\n") or None,
    )


def _first_difference(old: Sequence[str], new: Sequence[str]) -> int:
    for index, (before, after) in enumerate(zip(old, new, strict=False)):
        if before != after:
            return index + 1
    return max(1, min(len(old), len(new)))
