"""Load a catalog: `pinwright.yaml` and every `images/NAME/image.yaml`, all validated."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from spec.errors import InvalidInputError, Location, PinwrightError, ProblemsError
from spec.models import (
    IMAGE_NAME,
    AlpinePackagesInput,
    CatalogConfig,
    CopyStep,
    ImageInput,
    ImageSpec,
)
from spec.problems import SpecInvalidError, validate_document
from spec.yamlload import Document, load_document

CONFIG_FILE = "pinwright.yaml"
IMAGES_DIR = "images"
SPEC_FILE = "image.yaml"
LOCK_FILE = "image.lock.json"
DOCKERFILE = "Dockerfile"
DEFAULT_TEMPLATE = "Dockerfile.j2"
INCLUDES_DIR = "_includes"


class CatalogNotFoundError(InvalidInputError):
    """The folder is not a catalog: it has no `pinwright.yaml`."""


class UnknownImageError(InvalidInputError):
    """An image named on the command line is not in the catalog."""


@dataclass(frozen=True)
class ImageEntry:
    """One image of the catalog, with its validated spec and where it came from."""

    name: str
    directory: Path
    spec: ImageSpec
    document: Document
    spec_bytes: bytes

    @property
    def spec_path(self) -> Path:
        return self.directory / SPEC_FILE

    @property
    def lock_path(self) -> Path:
        return self.directory / LOCK_FILE

    @property
    def dockerfile_path(self) -> Path:
        return self.directory / DOCKERFILE

    @property
    def template_path(self) -> Path | None:
        """The Jinja template of the Dockerfile, or None for the stages form."""
        if self.spec.stages is not None:
            return None
        return self.directory / (self.spec.template or DEFAULT_TEMPLATE)


@dataclass(frozen=True)
class Catalog:
    """A validated catalog."""

    root: Path
    config: CatalogConfig
    config_document: Document
    images: Mapping[str, ImageEntry]

    @property
    def includes_dir(self) -> Path:
        return self.root / INCLUDES_DIR

    def relative(self, path: Path) -> str:
        """Return `path` relative to the catalog root, with forward slashes."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def select(self, names: Sequence[str]) -> list[str]:
        """Return the requested image names, or all of them; raises UnknownImageError."""
        if not names:
            return sorted(self.images)
        unknown = [name for name in names if name not in self.images]
        if unknown:
            known = ", ".join(sorted(self.images)) or "none"
            raise UnknownImageError(f"unknown image {unknown[0]!r} (catalog images: {known})")
        return sorted(set(names))


def load_catalog(root: Path) -> Catalog:
    """Load and validate the catalog at `root`.

    Every problem of every file is collected before raising, so one run shows them all.
    Raises CatalogNotFoundError or ProblemsError.
    """
    root = root.resolve()
    config_path = root / CONFIG_FILE
    if not config_path.is_file():
        raise CatalogNotFoundError(
            f"no {CONFIG_FILE} found in {root}; run from a catalog folder or pass -C CATALOG_DIR"
        )

    problems: list[PinwrightError] = []
    config_document, config = _load_config(config_path, problems)
    images: dict[str, ImageEntry] = {}
    for directory in _image_directories(root / IMAGES_DIR):
        entry = _load_image(directory, problems)
        if entry is not None:
            images[entry.name] = entry

    if problems:
        raise ProblemsError(problems)
    assert config is not None
    return Catalog(root=root, config=config, config_document=config_document, images=images)


def _load_config(
    path: Path, problems: list[PinwrightError]
) -> tuple[Document, CatalogConfig | None]:
    try:
        document = load_document(path)
    except InvalidInputError as error:
        problems.append(error)
        return Document(path, None, {}, {}), None
    config, found = validate_document(CatalogConfig, document)
    problems.extend(found)
    return document, config


def _image_directories(images_dir: Path) -> Iterator[Path]:
    if not images_dir.is_dir():
        return
    for directory in sorted(images_dir.iterdir()):
        if directory.is_dir() and (directory / SPEC_FILE).is_file():
            yield directory


def _load_image(directory: Path, problems: list[PinwrightError]) -> ImageEntry | None:
    spec_path = directory / SPEC_FILE
    if directory.is_symlink() or spec_path.is_symlink():
        problems.append(
            InvalidInputError(
                f"image folder {directory.name!r} or its {SPEC_FILE} is a symbolic link; "
                "Pinwright writes into image folders, so they must be real folders of the catalog",
                location=Location(spec_path),
            )
        )
        return None
    if not re.match(IMAGE_NAME, directory.name):
        problems.append(
            InvalidInputError(
                f"invalid image name {directory.name!r}: use lowercase letters, digits, '.', "
                "'_' and '-'",
                location=Location(spec_path),
            )
        )
        return None
    try:
        document = load_document(spec_path)
    except InvalidInputError as error:
        problems.append(error)
        return None

    spec, found = validate_document(ImageSpec, document)
    problems.extend(found)
    if spec is None:
        return None
    found_references = check_references(spec, document, directory)
    problems.extend(found_references)
    if found_references:
        return None
    return ImageEntry(
        name=directory.name,
        directory=directory,
        spec=spec,
        document=document,
        spec_bytes=spec_path.read_bytes(),
    )


def check_references(
    spec: ImageSpec, document: Document, directory: Path
) -> list[SpecInvalidError]:
    """Check the names a spec uses inside itself: stage bases, package inputs, the template."""
    problems: list[SpecInvalidError] = []

    def report(message: str, path: tuple[str | int, ...]) -> None:
        problems.append(SpecInvalidError(message, location=document.locate(path)))

    if spec.version_from is not None and spec.version_from not in spec.inputs:
        report(f"version_from: unknown input {spec.version_from!r}", ("version_from",))

    if spec.stages is None:
        template = spec.template or DEFAULT_TEMPLATE
        if not (directory / template).is_file():
            where: tuple[str | int, ...] = ("template",) if spec.template else ()
            report(f"template {template!r} not found in {directory.name}/", where)
        return problems

    stage_names: set[str] = set()
    for index, stage in enumerate(spec.stages):
        at = ("stages", index)
        base = spec.inputs.get(stage.base)
        if stage.base != "scratch" and stage.base not in stage_names:
            if base is None:
                report(
                    f"stage base {stage.base!r} is not an input or an earlier stage", (*at, "base")
                )
            elif not isinstance(base, ImageInput):
                report(f"stage base {stage.base!r} is not an `image` input", (*at, "base"))
        if stage.packages is not None and not isinstance(
            spec.inputs.get(stage.packages), AlpinePackagesInput
        ):
            report(
                f"stage packages {stage.packages!r} is not an `alpine_packages` input",
                (*at, "packages"),
            )
        for step_index, step in enumerate(stage.steps):
            if not isinstance(step, CopyStep) or step.copy_.from_ is None:
                continue
            source = step.copy_.from_
            if source not in stage_names and not isinstance(spec.inputs.get(source), ImageInput):
                report(
                    f"copy from {source!r} is not an earlier stage or an `image` input",
                    (*at, "steps", step_index, "copy", "from"),
                )
        if stage.name:
            stage_names.add(stage.name)
    return problems
