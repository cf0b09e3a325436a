"""Pydantic models of `pinwright.yaml` (the catalog config) and of `image.yaml` (an image spec).

These models validate what users write; once validated, the rest of the code receives
them as frozen objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from spec.reference import InvalidReferenceError, parse_reference

# apk architecture names and the OCI platform each one builds for.
ARCHITECTURES: dict[str, str] = {
    "x86_64": "linux/amd64",
    "aarch64": "linux/arm64",
    "armv7": "linux/arm/v7",
    "armhf": "linux/arm/v6",
    "x86": "linux/386",
    "ppc64le": "linux/ppc64le",
    "s390x": "linux/s390x",
    "riscv64": "linux/riscv64",
    "loongarch64": "linux/loong64",
}

Architecture = Literal[
    "x86_64", "aarch64", "armv7", "armhf", "x86", "ppc64le", "s390x", "riscv64", "loongarch64"
]
Ordering = Literal["semver", "loose", "pep440"]

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
IMAGE_NAME = r"^[a-z0-9][a-z0-9._-]*$"
# An apk world entry: optional "!", a name, an optional "@tag", an optional constraint.
APK_WORLD_ENTRY = re.compile(
    r"^!?[A-Za-z0-9_.+:-]+(@[A-Za-z0-9_.-]+)?((<=|>=|<~|>~|=~|<|>|=|~)[A-Za-z0-9_.~+-]+)?$"
)


def _check_single_line(value: str) -> str:
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in value):
        raise ValueError("must be one line without control characters")
    return value


# Text that goes into one Dockerfile instruction, where a line break would start another.
SingleLine = Annotated[str, AfterValidator(_check_single_line)]
PORT = r"^[0-9]{1,5}(-[0-9]{1,5})?(/(tcp|udp|sctp))?$"
LABEL_KEY = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"


class StrictModel(BaseModel):
    """Base of every model: unknown keys are errors and validated objects are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ----- catalog config: pinwright.yaml -----


class AlpineConfig(StrictModel):
    """Where Alpine indexes come from."""

    mirror: str = Field(
        default="https://dl-cdn.alpinelinux.org/alpine",
        description="Base URL of an Alpine mirror (the folder that holds `v3.20/`, `edge/`, ...).",
    )
    branch: str = Field(
        default="v3.20",
        pattern=r"^(v[0-9]+\.[0-9]+|edge|latest-stable)$",
        description="Alpine branch such as `v3.20`, or `edge`.",
    )
    repositories: list[str] = Field(
        default_factory=lambda: ["main", "community"],
        min_length=1,
        description="Repositories of the branch to resolve packages from, in order.",
    )
    keys: list[str] = Field(
        default_factory=list,
        description="Extra folders of `*.rsa.pub` signing keys, relative to the catalog.",
    )
    unsigned: list[str] = Field(
        default_factory=list,
        description="Repositories whose indexes are accepted without a signature.",
    )

    @field_validator("mirror")
    @classmethod
    def _check_mirror(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


class RegistryConfig(StrictModel):
    """Settings for one registry host."""

    insecure: bool = Field(
        default=False, description="Use plain HTTP or unverified TLS for this registry only."
    )
    mirror: str | None = Field(
        default=None,
        description="Resolve this registry's images through this mirror or pull-through cache; "
        "locks and Dockerfiles keep the original reference.",
    )


class GitConfig(StrictModel):
    """Settings for git sources."""

    url_rewrites: dict[str, str] = Field(
        default_factory=dict,
        description="Prefix to prefix, applied to every git URL before it is fetched "
        "(like git's `insteadOf`; the longest matching prefix wins).",
    )


def _default_architectures() -> list[Architecture]:
    return ["x86_64"]


class UpstreamsConfig(StrictModel):
    """Where release listings and package registries are read from.

    Each value is a URL; tests point them at loopback servers. Alpine releases come from
    the mirror in `alpine.mirror`.
    """

    go: str = Field(
        default="https://go.dev/dl/?mode=json&include=all",
        description="URL of the Go download listing in its JSON form; file names in it are "
        "resolved against this URL.",
    )
    postgres: str = Field(
        default="https://ftp.postgresql.org/pub/source/",
        description="URL of the PostgreSQL source listing, the HTML page of `vVERSION/` folders.",
    )
    pypi: str = Field(
        default="https://pypi.org/pypi",
        description="Base URL of the PyPI JSON API; a project is read from `BASE/NAME/json`.",
    )
    npm: str = Field(
        default="https://registry.npmjs.org",
        description="Base URL of the npm registry; a package is read from `BASE/NAME`.",
    )

    @field_validator("go", "postgres", "pypi", "npm")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value


class CatalogConfig(StrictModel):
    """The catalog config, `pinwright.yaml` at the top of a catalog."""

    registry: str = Field(
        description="Host and optional path prefix where this catalog's own images live, "
        "such as `ghcr.io/example`.",
        pattern=r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$",
    )
    architectures: list[Architecture] = Field(
        default_factory=_default_architectures,
        min_length=1,
        description="apk architecture names to resolve and build for.",
    )
    alpine: AlpineConfig = Field(default_factory=AlpineConfig)
    registries: dict[str, RegistryConfig] = Field(default_factory=dict)
    git: GitConfig = Field(default_factory=GitConfig)
    upstreams: UpstreamsConfig = Field(default_factory=UpstreamsConfig)
    source_link: str | None = Field(
        default=None, description="URL prefix shown in the Dockerfile header before the spec path."
    )

    @field_validator("architectures")
    @classmethod
    def _check_unique_architectures(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("architectures must not repeat")
        return value


# ----- inputs of an image spec -----


class VersionOptions(StrictModel):
    """How a versioned source picks its latest version."""

    prefix: str = Field(
        default="", description="Kept in the rendered value, stripped before comparing."
    )
    filter: str | None = Field(
        default=None, description="Regular expression a tag must match to be considered."
    )
    ordering: Ordering = "loose"
    prerelease: bool = Field(default=False, description="Also consider prereleases.")
    major: int | None = Field(default=None, ge=0, description="Stay on this major version.")
    minor: str | None = Field(
        default=None, pattern=r"^[0-9]+\.[0-9]+$", description="Stay on this minor line, `1.23`."
    )

    @field_validator("filter")
    @classmethod
    def _check_filter(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"invalid regular expression: {error}") from error
        return value


class ImageInput(StrictModel):
    """A base image: a catalog image name or any image reference."""

    image: str = Field(min_length=1, description="Catalog image name or image reference.")

    @field_validator("image")
    @classmethod
    def _check_reference(cls, value: str) -> str:
        if any(character.isspace() for character in value):
            raise ValueError("an image reference must not contain spaces")
        try:
            parse_reference(value)
        except InvalidReferenceError as error:
            raise ValueError(error.message) from error
        return value


class AlpinePackagesInput(StrictModel):
    """Alpine packages, resolved with their whole dependency closure."""

    alpine_packages: list[str] = Field(
        min_length=1, description="World entries: `name`, `name>=1.2`, `name=1.2-r0`, `!name`."
    )

    @field_validator("alpine_packages")
    @classmethod
    def _check_world(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not APK_WORLD_ENTRY.match(entry):
                raise ValueError(f"invalid package entry {entry!r}")
        return value


class GitTagInput(VersionOptions):
    """The latest tag of a git repository."""

    git_tag: str = Field(min_length=1, description="URL of a git repository.")


class GithubTagInput(VersionOptions):
    """The latest tag of `https://github.com/OWNER/REPO`, read over git, not the REST API."""

    github_tag: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class AlpineReleaseOptions(StrictModel):
    """Which file of an Alpine release to pin."""

    flavor: str = Field(
        default="minirootfs",
        pattern=r"^[a-z0-9-]+$",
        description="The `flavor` field of `latest-releases.yaml`: `minirootfs`, "
        "`alpine-virt`, ...",
    )
    branch: str | None = Field(
        default=None,
        pattern=r"^(v[0-9]+\.[0-9]+|edge|latest-stable)$",
        description="Alpine branch such as `v3.20` or `latest-stable`; defaults to the "
        "catalog's `alpine.branch`.",
    )


def _empty_as_defaults(value: Any) -> Any:
    """Read `kind:` with nothing after it as `kind: {}`, every option at its default."""
    return {} if value is None else value


class AlpineReleaseInput(StrictModel):
    """The latest release file of an Alpine branch, for every architecture of the catalog."""

    alpine_release: Annotated[AlpineReleaseOptions, BeforeValidator(_empty_as_defaults)]


class GoReleaseOptions(VersionOptions):
    """Which Go release and file to pin."""

    file: Literal["archive", "source"] = Field(
        default="archive",
        description="`archive`: the Linux `.tar.gz` of each catalog architecture; "
        "`source`: the source `.tar.gz`.",
    )


class GoReleaseInput(StrictModel):
    """The latest stable Go release from the Go download listing."""

    go_release: Annotated[GoReleaseOptions, BeforeValidator(_empty_as_defaults)]


class PostgresReleaseOptions(VersionOptions):
    """Which PostgreSQL release line to follow."""

    major: int = Field(ge=1, description="The major version to stay on, such as 17.")
    archive: Literal["tar.bz2", "tar.gz"] = Field(
        default="tar.bz2", description="Which source archive to pin."
    )


class PostgresReleaseInput(StrictModel):
    """The latest minor release of one PostgreSQL major version."""

    postgres_release: PostgresReleaseOptions

    @field_validator("postgres_release", mode="before")
    @classmethod
    def _accept_major(cls, value: Any) -> Any:
        # `postgres_release: 17` is short for `postgres_release: {major: 17}`.
        if isinstance(value, int) and not isinstance(value, bool):
            return {"major": value}
        return value


# Query parameters whose values are usually secrets.
SECRET_QUERY = re.compile(
    r"[?&][^=&#]*(token|secret|password|passwd|signature|credential|api_?key|auth)[^=&#]*=",
    re.IGNORECASE,
)


def _check_public_url(value: str) -> str:
    """Reject a URL that carries credentials, which would be copied into locks and logs."""
    authority = value.split("://", 1)[-1].split("/", 1)[0]
    if "@" in authority or SECRET_QUERY.search(value):
        raise ValueError(
            "a URL with a user name, password or token would be written into the lock and "
            "the logs; put the credentials in ~/.netrc instead, which the HTTP client reads"
        )
    return value


class UrlRegexOptions(StrictModel):
    """A page and the regular expression whose first capture group is the value."""

    url: Annotated[str, AfterValidator(_check_public_url)] = Field(
        pattern=r"^https?://[^/\s]+", description="URL of the page to read."
    )
    regex: str = Field(min_length=1, description="Regular expression with a capture group.")

    @field_validator("regex")
    @classmethod
    def _check_regex(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as error:
            raise ValueError(f"invalid regular expression: {error}") from error
        if compiled.groups < 1:
            raise ValueError("the regular expression needs a capture group")
        return value


class UrlRegexInput(StrictModel):
    """A value scraped from a web page: the first capture group of the first match."""

    url_regex: UrlRegexOptions


class UrlChecksumOptions(StrictModel):
    """A file to download and hash."""

    url: Annotated[str, AfterValidator(_check_public_url)] = Field(
        min_length=1,
        description="URL template; Jinja expressions may use other inputs "
        "(`{{ inputs.NAME.version }}`) and `arch` for one download per architecture.",
    )


class UrlChecksumInput(StrictModel):
    """The sha256 of a downloaded file, so a Dockerfile can verify what it fetches."""

    url_checksum: UrlChecksumOptions


class PypiInput(VersionOptions):
    """The latest version of a PyPI project, with the sha256 of its distribution files."""

    pypi: str = Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
    ordering: Ordering = "pep440"


class NpmInput(VersionOptions):
    """The latest version of an npm package, with the integrity of its tarball."""

    npm: str = Field(pattern=r"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")
    ordering: Ordering = "semver"


# Input models by the key that selects them. Sources for more kinds register here.
INPUT_KINDS: dict[str, type[StrictModel]] = {
    "image": ImageInput,
    "alpine_packages": AlpinePackagesInput,
    "git_tag": GitTagInput,
    "github_tag": GithubTagInput,
    "alpine_release": AlpineReleaseInput,
    "go_release": GoReleaseInput,
    "postgres_release": PostgresReleaseInput,
    "url_regex": UrlRegexInput,
    "url_checksum": UrlChecksumInput,
    "pypi": PypiInput,
    "npm": NpmInput,
}


def _kind_finder(kinds: Mapping[str, type[StrictModel]]) -> Callable[[Any], str | None]:
    """Build the discriminator of a union whose members are chosen by one key.

    The returned function gives the kind of a raw mapping (the first of its keys that
    names a kind) or of a validated member, and None when there is none.
    """

    def find_kind(value: Any) -> str | None:
        if isinstance(value, BaseModel):
            for kind, model in kinds.items():
                if isinstance(value, model):
                    return kind
            return None
        if isinstance(value, dict):
            for key in value:
                if key in kinds:
                    return str(key)
        return None

    return find_kind


input_kind = _kind_finder(INPUT_KINDS)


Input = Annotated[
    Annotated[ImageInput, Tag("image")]
    | Annotated[AlpinePackagesInput, Tag("alpine_packages")]
    | Annotated[GitTagInput, Tag("git_tag")]
    | Annotated[GithubTagInput, Tag("github_tag")]
    | Annotated[AlpineReleaseInput, Tag("alpine_release")]
    | Annotated[GoReleaseInput, Tag("go_release")]
    | Annotated[PostgresReleaseInput, Tag("postgres_release")]
    | Annotated[UrlRegexInput, Tag("url_regex")]
    | Annotated[UrlChecksumInput, Tag("url_checksum")]
    | Annotated[PypiInput, Tag("pypi")]
    | Annotated[NpmInput, Tag("npm")],
    Discriminator(
        input_kind,
        custom_error_type="input_kind",
        custom_error_message="an input needs exactly one kind key: " + ", ".join(INPUT_KINDS),
    ),
]


# ----- build stages of an image spec -----


class CopySource(StrictModel):
    """Files to copy into the stage."""

    src: SingleLine | list[SingleLine] = Field(
        description="Source paths, in the build context or the stage."
    )
    dest: SingleLine
    from_: str | None = Field(
        default=None, alias="from", description="A stage name or an image input to copy from."
    )
    chown: SingleLine | None = None
    chmod: str | None = Field(default=None, pattern=r"^[0-7]{3,4}$")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RunStep(StrictModel):
    run: str = Field(description="A shell command; Jinja expressions may use `inputs`.")


class CopyStep(StrictModel):
    copy_: CopySource = Field(alias="copy")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class EnvStep(StrictModel):
    env: dict[str, str] = Field(min_length=1)

    @field_validator("env")
    @classmethod
    def _check_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.match(IDENTIFIER, name):
                raise ValueError(f"invalid environment variable name {name!r}")
        return value


class WorkdirStep(StrictModel):
    workdir: SingleLine = Field(min_length=1)


class UserStep(StrictModel):
    user: SingleLine = Field(min_length=1)


class ExposeStep(StrictModel):
    expose: Annotated[
        list[Annotated[str, Field(pattern=PORT)]],
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": 65535},
                    {"type": "string", "pattern": PORT},
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "anyOf": [{"type": "integer"}, {"type": "string", "pattern": PORT}]
                        },
                    },
                ]
            }
        ),
    ] = Field(min_length=1, description="A port or a list of ports: `8080`, `53/udp`, `8000-8010`.")

    @field_validator("expose", mode="before")
    @classmethod
    def _as_port_list(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        return [
            str(item) if isinstance(item, int) and not isinstance(item, bool) else item
            for item in values
        ]


STEP_KINDS: dict[str, type[StrictModel]] = {
    "run": RunStep,
    "copy": CopyStep,
    "env": EnvStep,
    "workdir": WorkdirStep,
    "user": UserStep,
    "expose": ExposeStep,
}


step_kind = _kind_finder(STEP_KINDS)


Step = Annotated[
    Annotated[RunStep, Tag("run")]
    | Annotated[CopyStep, Tag("copy")]
    | Annotated[EnvStep, Tag("env")]
    | Annotated[WorkdirStep, Tag("workdir")]
    | Annotated[UserStep, Tag("user")]
    | Annotated[ExposeStep, Tag("expose")],
    Discriminator(
        step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of: " + ", ".join(STEP_KINDS),
    ),
]


class Stage(StrictModel):
    """One build stage: a base, packages to install and ordered steps."""

    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_.-]*$")
    base: str = Field(description="An image input, an earlier stage name, or `scratch`.")
    packages: str | None = Field(default=None, description="An `alpine_packages` input to install.")
    steps: list[Step] = Field(default_factory=list)


class ImageSpec(StrictModel):
    """One image of the catalog, `images/NAME/image.yaml`."""

    description: str | None = None
    template: str | None = Field(
        default=None,
        description="Jinja template of the Dockerfile, relative to the image folder. "
        "Defaults to `Dockerfile.j2` when no stages are given.",
    )
    inputs: dict[Annotated[str, Field(pattern=IDENTIFIER)], Input] = Field(default_factory=dict)
    stages: list[Stage] | None = Field(default=None, min_length=1)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    labels: dict[Annotated[str, Field(pattern=LABEL_KEY)], str] = Field(
        default_factory=dict, description="Extra OCI labels; values may use Jinja expressions."
    )
    version_from: str | None = Field(
        default=None,
        description="An input whose version fills the `org.opencontainers.image.version`, "
        "`.source` and `.revision` labels and the pushed version tag.",
    )

    @field_validator("template")
    @classmethod
    def _check_template(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or ".." in value.split("/")):
            raise ValueError("must be a path inside the image folder")
        return value

    @model_validator(mode="after")
    def _check_form(self) -> ImageSpec:
        if self.template is not None and self.stages is not None:
            raise ValueError("give either `template` or `stages`, not both")
        if self.stages is None and (self.entrypoint or self.cmd):
            raise ValueError("`entrypoint` and `cmd` belong to the `stages` form")
        return self
