"""Privacy guards: data the employer must never receive (diagnoses, helseopplysninger)."""

from naervaer.privacy.diagnosis import DiagnosisFinding, find_diagnosis

__all__ = ["DiagnosisFinding", "find_diagnosis"]
