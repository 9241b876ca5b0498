"""Privacy by design: data the employer must never receive (diagnoses, helseopplysninger), and
personal data sealed with a key per employee so that erasure destroys it everywhere
(crypto-shredding)."""

from naervaer.privacy.diagnosis import DiagnosisFinding, find_diagnosis
from naervaer.privacy.keyring import KEYRING, KeyNotLoaded, KeyRing, KeySource
from naervaer.privacy.personal import PersonalStr, seal_plan
from naervaer.privacy.sealing import (
    ERASED,
    seal_data,
    sealed_key_ids,
    sealing_key_among,
    sealing_key_id,
    unseal_data,
)

__all__ = [
    "ERASED",
    "KEYRING",
    "DiagnosisFinding",
    "KeyNotLoaded",
    "KeyRing",
    "KeySource",
    "PersonalStr",
    "find_diagnosis",
    "seal_data",
    "seal_plan",
    "sealed_key_ids",
    "sealing_key_among",
    "sealing_key_id",
    "unseal_data",
]
