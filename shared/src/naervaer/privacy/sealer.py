"""Sealing contract payloads before they are appended (the producer's side of crypto-shredding)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel

from naervaer.privacy.keyring import KEYRING, KeyRing
from naervaer.privacy.keyvault import KeyVault
from naervaer.privacy.personal import SealPlan, seal_plan
from naervaer.privacy.sealing import ERASED, seal_data


class SubjectErased(ValueError):
    """Asked to seal for an employee whose data was erased: nothing personal may be written."""


@cache
def plan_of(model: type[BaseModel]) -> SealPlan:
    return seal_plan(model)


class Sealer:
    """Seals payloads with an employee's key, remembering it in ``keyring`` for reading.

    ``with_key`` asks the vault every time, never the ring's cache: a key shredded by another
    process (the erasure) must stop every new sealed value at once. Values sealed with a
    cached but destroyed key would still be readable wherever the key is cached, until that
    cache expires — personal data published after its erasure.
    """

    def __init__(self, vault: KeyVault, keyring: KeyRing = KEYRING) -> None:
        self.vault = vault
        self._keyring = keyring

    async def for_employee(
        self, tenant: str, employee_id: str, payloads: Sequence[BaseModel]
    ) -> list[dict[str, Any]]:
        """The payloads as JSON with their personal fields sealed with the employee's key."""
        if employee_id == ERASED:
            raise SubjectErased("the employee's personal data was erased")
        subject = await self.vault.key_for(tenant, employee_id)
        self._keyring.remember(subject.key_id, subject.key)
        return [_sealed(payload, subject.key_id, subject.key) for payload in payloads]

    async def with_key(self, key_id: str, payloads: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """Sealed with the key ``key_id`` (e.g. the key of the case event being handled)."""
        key = (await self.vault.keys([key_id])).get(key_id)  # the vault, not a cache: see above
        if key is None:
            raise SubjectErased(f"key {key_id} was destroyed")
        return [_sealed(payload, key_id, key) for payload in payloads]


def _sealed(payload: BaseModel, key_id: str, key: bytes) -> dict[str, Any]:
    data = payload.model_dump(mode="json")
    return seal_data(data, plan_of(type(payload)), key_id=key_id, key=key)
