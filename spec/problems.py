"""Turn pydantic validation errors into located, one-line problems."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from spec.errors import InvalidInputError
from spec.models import INPUT_KINDS, STEP_KINDS
from spec.yamlload import Document


class SpecInvalidError(InvalidInputError):
    """A value in a spec or config file breaks the schema."""


def validate_document(
    model: type[BaseModel], document: Document
) -> tuple[Any, list[SpecInvalidError]]:
    """Validate a loaded document against `model`.

    Returns the validated object (None when invalid) and every problem found.
    """
    if not isinstance(document.data, dict):
        found = "an empty file" if document.data is None else type(document.data).__name__
        problem = SpecInvalidError(
            f"expected a mapping at the top of the file, found {found}",
            location=document.locate(()),
        )
        return None, [problem]
    try:
        return model.model_validate(document.data), []
    except ValidationError as error:
        problems = [describe_error(detail, model, document) for detail in error.errors()]
        return None, _unique(problems)


def describe_error(detail: Any, model: type[BaseModel], document: Document) -> SpecInvalidError:
    """Build one located problem from one pydantic error detail."""
    loc = _without_union_tags(tuple(detail["loc"]))
    kind = detail["type"]
    where = _dotted(loc, document)

    if kind == "extra_forbidden":
        key = str(loc[-1])
        kinds = INPUT_KINDS if loc[0] == "inputs" and len(loc) == 3 else {}
        if key in kinds or (loc[0] == "stages" and len(loc) == 5 and key in STEP_KINDS):
            noun = "an input" if key in kinds else "a step"
            where = _dotted(loc[:-1], document)
            message = f"{where}: {noun} takes one kind key, but {key!r} is a second one"
            return SpecInvalidError(message, location=document.locate(loc, key=True))
        message = f"unknown key {key!r}" + _suggestion(key, known_keys(model))
        return SpecInvalidError(message, location=document.locate(loc, key=True))
    if kind == "missing":
        parent = loc[:-1]
        message = f"missing required key {str(loc[-1])!r}"
        if parent:
            message += f" in {_dotted(parent, document)}"
        return SpecInvalidError(message, location=document.locate(parent))
    if kind in ("input_kind", "step_kind"):
        return _describe_kind_error(detail, loc, where, document)

    message = str(detail["msg"]).removeprefix("Value error, ")
    message = message[0].lower() + message[1:] if message else "invalid value"
    if where:
        message = f"{where}: {message}"
    return SpecInvalidError(message, location=document.locate(loc))


def _without_union_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the member names pydantic inserts after a discriminated union field.

    Those names (`image`, `run`, ...) are also real keys, so left in place they would
    make an error inside an input point at the kind key instead of the key at fault.
    """
    if len(loc) > 2 and loc[0] == "inputs" and loc[2] in INPUT_KINDS:
        return loc[:2] + loc[3:]
    if len(loc) > 4 and loc[0] == "stages" and loc[2] == "steps" and loc[4] in STEP_KINDS:
        return loc[:4] + loc[5:]
    return loc


def _describe_kind_error(
    detail: Any, loc: tuple[Any, ...], where: str, document: Document
) -> SpecInvalidError:
    kinds = INPUT_KINDS if detail["type"] == "input_kind" else STEP_KINDS
    noun = "input" if detail["type"] == "input_kind" else "step"
    value = detail.get("input")
    if not isinstance(value, dict):
        message = f"{where}: a {noun} must be a mapping with one of the keys: " + ", ".join(kinds)
        return SpecInvalidError(message, location=document.locate(loc))
    for key in value:
        hint = _suggestion(str(key), kinds)
        if hint:
            message = f"{where}: unknown {noun} kind {str(key)!r}{hint}"
            return SpecInvalidError(message, location=document.locate((*loc, key), key=True))
    message = f"{where}: a {noun} needs one of the keys: " + ", ".join(kinds)
    return SpecInvalidError(message, location=document.locate(loc))


def _dotted(loc: tuple[Any, ...], document: Document) -> str:
    """Join the parts of `loc` that exist in the document, such as `inputs.base.image`."""
    parts: list[str] = []
    current: tuple[Any, ...] = ()
    for element in loc:
        candidate = (*current, element)
        if candidate in document.values or candidate in document.keys:
            current = candidate
            parts.append(f"[{element}]" if isinstance(element, int) else str(element))
    return ".".join(parts).replace(".[", "[")


def _suggestion(word: str, candidates: Any) -> str:
    # A key that is valid elsewhere in the file is no suggestion for itself.
    others = [candidate for candidate in candidates if candidate != word]
    matches = difflib.get_close_matches(word, others, n=1, cutoff=0.7)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


@cache
def known_keys(model: type[BaseModel]) -> frozenset[str]:
    """Every key that a document of `model` may contain at any depth."""
    return frozenset(_schema_properties(model.model_json_schema(by_alias=True)))


def _schema_properties(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            yield from properties
        for value in schema.values():
            yield from _schema_properties(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _schema_properties(value)


def _unique(problems: list[SpecInvalidError]) -> list[SpecInvalidError]:
    seen: set[str] = set()
    result = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            result.append(problem)
    return result
