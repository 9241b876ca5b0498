"""Event types: payload models, schema versions and upcasters.

An event type is identified by a stable string (``case.opened``) and a schema version. Readers
always get the *current* payload model: an upcaster chain lifts an old payload (version n) to
version n + 1 until it is current, so old events stay readable after a schema change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from naervaer.envelope import Envelope
from naervaer.privacy.sealing import KeyLookup, unseal_data

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    """An event type no model is registered for."""


@dataclass(frozen=True)
class EventType:
    name: str
    model: type[BaseModel]
    version: int
    description: str
    upcasters: dict[int, Upcaster] = field(default_factory=dict)

    @property
    def schema_path(self) -> str:
        return f"schemas/{self.name}/v{self.version}.json"


class EventRegistry:
    """Maps type names to their current payload model and their upcasters.

    With ``keys``, sealed personal values (``naervaer.privacy.sealing``) are opened before the
    payload is upcast and validated; a value whose key was destroyed reads as ``[erased]``.
    """

    def __init__(self, keys: KeyLookup | None = None) -> None:
        self._types: dict[str, EventType] = {}
        self._keys = keys

    def register(
        self,
        name: str,
        model: type[BaseModel],
        *,
        version: int = 1,
        upcasters: dict[int, Upcaster] | None = None,
    ) -> None:
        if name in self._types:
            raise ValueError(f"event type {name!r} registered twice")
        missing = [v for v in range(1, version) if v not in (upcasters or {})]
        if missing:
            raise ValueError(f"{name}: no upcaster from schema version(s) {missing}")
        doc = (model.__doc__ or "").strip()
        self._types[name] = EventType(name, model, version, doc, dict(upcasters or {}))

    def get(self, name: str) -> EventType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventType(name) from None

    def __iter__(self) -> Iterator[EventType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def type_of(self, payload: BaseModel) -> EventType:
        """The registered type of a payload instance."""
        for event_type in self._types.values():
            if type(payload) is event_type.model:
                return event_type
        raise UnknownEventType(type(payload).__name__)

    def upcast(self, name: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
        """Lift a payload from ``schema_version`` to the current version of its type."""
        event_type = self.get(name)
        if schema_version > event_type.version:
            raise ValueError(
                f"{name} v{schema_version} is newer than this reader (v{event_type.version})"
            )
        for version in range(schema_version, event_type.version):
            data = event_type.upcasters[version](data)
        return data

    def payload(self, envelope: Envelope) -> BaseModel:
        """The envelope's payload as the current model of its type (upcast when old)."""
        event_type = self.get(envelope.type)
        data = dict(envelope.data)
        if self._keys is not None:
            data = unseal_data(data, self._keys)
        data = self.upcast(envelope.type, envelope.schemaversion, data)
        return event_type.model.model_validate(data)
