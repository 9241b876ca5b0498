"""Which payload fields are personal data (personopplysninger), so they can be sealed.

A contract marks a field with ``PersonalStr`` (``PersonalStr | None`` when optional). The field
validates like a plain ``str``; its JSON Schema says ``x-personal-data: true`` and that on the
wire it travels sealed (see ``naervaer.privacy.sealing``). Structure the system needs to run
(case ids, dates, grades, kinds) stays in clear; who the case is about and everything written
about them is sealed with the employee's key.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class PersonalData:
    """Marker: the annotated string is personal data of the case's employee."""


PERSONAL = PersonalData()
PersonalStr = Annotated[
    str,
    PERSONAL,
    Field(
        json_schema_extra={
            "x-personal-data": True,
            "$comment": "Personal data: sealed on the wire (pd1.<key id>.<ciphertext>).",
        }
    ),
]
"""A string that is personal data of the employee the event is about."""

SealPlan = dict[str, Any]
"""field name → True (seal the string, or each string of a list) or a nested plan."""


def seal_plan(model: type[BaseModel]) -> SealPlan:
    """Where ``model``'s personal strings are, recursively through nested models and lists."""
    plan: SealPlan = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if PERSONAL in info.metadata or _marks(info.annotation):
            plan[key] = True
            continue
        nested = _nested_model(info.annotation)
        if nested is not None and (inner := seal_plan(nested)):
            plan[key] = inner
    return plan


def _marks(annotation: Any) -> bool:
    if typing.get_origin(annotation) is Annotated:
        return PERSONAL in typing.get_args(annotation)[1:]
    return any(_marks(arg) for arg in _members(annotation))


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in _members(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types inside a union, an optional or a list/tuple annotation."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        return typing.get_args(annotation)
    return ()
