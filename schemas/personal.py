"""What is personal data, read from the schema's marks: the one source of truth.

Every field that holds personal data carries a :class:`~schemas.events.PersonalData` mark in
its annotation (schemas/events.py). Everything that must know which fields are personal
derives it from those marks, so a newly marked field is covered everywhere at once:

* minimisation: :func:`disclosure_units` — the personal fields as a concern's ``withheld``
  list and the policy name them (streams/pipeline.py), and :func:`never_disclosed`;
* log redaction: :func:`log_keys` — the mapping keys whose values no log shows (core/logs.py);
* the no-plaintext checks: :func:`identifying_values` — the direct identifiers an event
  carries, searched for on the broker and in every process log (tests/integration).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from schemas.events import CanonicalEvent, PersonalData

__all__ = [
    "PersonalData",
    "disclosure_units",
    "identifying_values",
    "log_keys",
    "never_disclosed",
    "personal_fields",
]


def _mark(metadata: list[Any]) -> PersonalData | None:
    return next((m for m in metadata if isinstance(m, PersonalData)), None)


def _nested(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (directly, optionally, or as a list of them), and whether it
    is a list."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        inner, _ = _nested(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            inner, many = _nested(arg)
            if inner is not None:
                return inner, many
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _walk(model: type[BaseModel], prefix: str, in_list: str | None
          ) -> Iterator[tuple[str, PersonalData, str | None]]:
    for name, info in model.model_fields.items():
        path = prefix + (info.alias or name)
        mark = _mark(info.metadata)
        if mark is not None:
            yield path, mark, in_list
            continue
        inner, many = _nested(info.annotation)
        if inner is not None:
            yield from _walk(inner, path + ".", in_list or (path if many else None))


def personal_fields(model: type[BaseModel] = CanonicalEvent) -> dict[str, PersonalData]:
    """Every marked field as its dotted JSON path (``subject.class``, ``related_persons.cpr``
    for a field of each item of a list), in declaration order, with its mark."""
    return {path: mark for path, mark, _ in _walk(model, "", None)}


def disclosure_units(model: type[BaseModel] = CanonicalEvent) -> tuple[str, ...]:
    """The personal fields as a disclosure decides on them: each marked field by its path,
    except that a list of persons is one unit (``related_persons``)."""
    return tuple(dict.fromkeys(in_list or path for path, _, in_list in _walk(model, "", None)))


def never_disclosed(model: type[BaseModel] = CanonicalEvent) -> tuple[str, ...]:
    """The direct identifiers, never disclosed whatever a policy says, and the birth date a
    CPR number carries."""
    walked = list(_walk(model, "", None))
    identifying = [path for path, mark, _ in walked if mark.identifying]
    births = [path.rpartition(".")[0] + ".birth_date" for path, mark, in_list in walked
              if mark.kind == "cpr" and in_list is None and "." in path]
    return tuple(identifying + births)


def log_keys(model: type[BaseModel] = CanonicalEvent) -> frozenset[str]:
    """Mapping keys whose values no log may show: every marked field's name and every field
    that holds one (``subject``, ``related_persons``), lower-case."""
    return frozenset(part.lower() for path in personal_fields(model) for part in path.split("."))


def identifying_values(event: BaseModel) -> list[tuple[str, str]]:
    """(kind, value) of every direct identifier (a mark whose kind is not ``quasi`` or
    ``text``) that ``event`` carries, nested models and lists of them included."""
    found: list[tuple[str, str]] = []
    for name, info in type(event).model_fields.items():
        value = getattr(event, name)
        mark = _mark(info.metadata)
        if mark is not None:
            if mark.identifying and isinstance(value, str) and value:
                found.append((mark.kind, value))
        elif isinstance(value, BaseModel):
            found += identifying_values(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, BaseModel):
                    found += identifying_values(item)
    return found
