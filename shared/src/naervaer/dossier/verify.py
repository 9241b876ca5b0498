"""Offline verification of a case dossier (saksmappe): ``naervaer verify dossier.zip``.

Trust starts with the public key the user gives: it must verify the manifest's signature. The
manifest then vouches for every file by SHA-256 (older public keys included, so entries signed
before a key rotation still verify). The audit entries are checked as a chain segment, and every
document, signature, attachment and event in the ZIP must match what an audit entry sealed.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from naervaer.dossier import layout
from naervaer.dossier.canonical import sha256_hex
from naervaer.dossier.chain import ChainEntry, verify_chain
from naervaer.dossier.keys import KeyRing, load_key_ring

MAX_MEMBER_BYTES = 512 * 1024 * 1024  # refuses ZIP bombs before inflating them
UNSIGNED = frozenset({layout.MANIFEST, layout.MANIFEST_SIGNATURE})


@dataclass(frozen=True)
class Finding:
    where: str  # a file of the dossier
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class DossierReport:
    case_id: str | None = None
    files_checked: int = 0
    entries_checked: int = 0
    documents_checked: int = 0
    decisions_checked: int = 0
    key_ids: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def fail(self, where: str, reason: str) -> None:
        self.findings.append(Finding(where, reason))

    def lines(self) -> list[str]:
        """The verdict for a person: one line, then each finding."""
        if self.ok:
            return [
                f"OK: the dossier of case {self.case_id} is intact: {self.files_checked} files, "
                f"{self.entries_checked} audit entries, {self.documents_checked} document "
                f"versions and {self.decisions_checked} signatures verified "
                f"(keys {', '.join(self.key_ids)})."
            ]
        return [
            f"TAMPERED: the dossier fails verification ({len(self.findings)} finding(s)):",
            *(f"  {finding}" for finding in self.findings),
        ]


def verify_dossier(archive: bytes, trusted: KeyRing) -> DossierReport:
    """Check ``archive`` (the ZIP's bytes) against the ``trusted`` public key(s)."""
    report = DossierReport()
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            files = _members(zipped, report)
    except zipfile.BadZipFile:
        report.fail("dossier", "not a ZIP archive")
        return report
    manifest = _signed_manifest(files, trusted, report)
    if manifest is None:
        return report
    report.case_id = str(manifest.get("case_id"))
    _check_listed_files(manifest, files, report)
    keys = trusted.merged(_vouched_keys(files, report))
    entries = _audit_entries(files, report)
    _check_chain(entries, keys, report)
    sealed = [e for e in entries if e.content is not None]
    _check_documents(sealed, files, report)
    _check_decisions(sealed, files, report)
    _check_attachments(sealed, files, report)
    _check_events(sealed, files, report)
    return report


def _members(zipped: zipfile.ZipFile, report: DossierReport) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for info in zipped.infolist():
        if info.is_dir():
            continue
        if info.filename in files:
            report.fail(info.filename, "appears twice in the archive")
        elif info.file_size > MAX_MEMBER_BYTES:
            report.fail(info.filename, "too large to be part of a dossier")
        else:
            files[info.filename] = zipped.read(info)
    return files


def _signed_manifest(
    files: Mapping[str, bytes], trusted: KeyRing, report: DossierReport
) -> dict[str, Any] | None:
    raw, signed = files.get(layout.MANIFEST), files.get(layout.MANIFEST_SIGNATURE)
    if raw is None or signed is None:
        missing = layout.MANIFEST if raw is None else layout.MANIFEST_SIGNATURE
        report.fail(missing, "missing: the dossier cannot be verified")
        return None
    try:
        manifest, signature = json.loads(raw), json.loads(signed)
        at = datetime.fromisoformat(str(manifest["generated_at"]))
        problem = trusted.problem(
            str(signature["key_id"]),
            layout.manifest_message(raw),
            str(signature["signature"]),
            at,
        )
    except (ValueError, KeyError, TypeError) as exc:
        report.fail(layout.MANIFEST, f"malformed manifest or signature ({exc})")
        return None
    if problem is not None:
        report.fail(layout.MANIFEST, f"manifest signature: {problem}")
        return None
    report.key_ids = sorted({str(signature["key_id"]), *manifest.get("key_ids", [])})
    return manifest  # type: ignore[no-any-return]


def _check_listed_files(
    manifest: Mapping[str, Any], files: Mapping[str, bytes], report: DossierReport
) -> None:
    listed = {str(item["path"]): item for item in manifest.get("files", [])}
    for path, item in listed.items():
        data = files.get(path)
        if data is None:
            report.fail(path, "listed in the manifest but missing from the archive")
        elif sha256_hex(data) != item.get("sha256"):
            report.fail(path, "content changed: its SHA-256 differs from the manifest")
        report.files_checked += 1
    for path in sorted(set(files) - set(listed) - UNSIGNED):
        report.fail(path, "not listed in the manifest")


def _vouched_keys(files: Mapping[str, bytes], report: DossierReport) -> KeyRing:
    raw = files.get(layout.AUDIT_KEYS)
    if raw is None:
        return KeyRing()
    try:
        return load_key_ring(raw.decode("utf-8"))
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        report.fail(layout.AUDIT_KEYS, f"unreadable keys ({exc})")
        return KeyRing()


def _audit_entries(files: Mapping[str, bytes], report: DossierReport) -> list[ChainEntry]:
    raw = files.get(layout.AUDIT_ENTRIES)
    if raw is None:
        report.fail(layout.AUDIT_ENTRIES, "missing: nothing proves the documents")
        return []
    try:
        return [layout.entry_from_json(item) for item in json.loads(raw)]
    except (ValueError, KeyError, TypeError) as exc:
        report.fail(layout.AUDIT_ENTRIES, f"malformed audit entries ({exc})")
        return []


def _check_chain(entries: list[ChainEntry], keys: KeyRing, report: DossierReport) -> None:
    verdict = verify_chain(entries, keys, segment=True)
    report.entries_checked = verdict.entries_checked
    for problem in verdict.problems:
        report.fail(
            layout.AUDIT_ENTRIES,
            f"entry {problem.sequence} {problem.problem.replace('_', ' ')}: {problem.detail}",
        )


def _data(entries: Iterable[ChainEntry], kind: str) -> list[tuple[int, dict[str, Any]]]:
    found = []
    for entry in entries:
        assert entry.content is not None
        if entry.content.get("kind") == kind and isinstance(entry.content.get("data"), dict):
            found.append((entry.sequence, entry.content["data"]))
    return found


def _check_documents(
    entries: list[ChainEntry], files: Mapping[str, bytes], report: DossierReport
) -> None:
    sealed_paths = set()
    for sequence, data in _data(entries, layout.VERSION_STORED):
        path = layout.document_path(str(data.get("document_id")), int(data.get("version", 0)))
        sealed_paths.add(path)
        content = files.get(path)
        if content is None:
            report.fail(path, f"sealed by audit entry {sequence} but missing")
        elif sha256_hex(content) != data.get("document_hash"):
            report.fail(path, f"does not match the hash sealed by audit entry {sequence}")
        report.documents_checked += 1
    for path in sorted(files):
        is_version = path.startswith("documents/") and path != layout.DOCUMENT_INDEX
        if is_version and path not in sealed_paths:
            report.fail(path, "no audit entry seals this document")


def _check_decisions(
    entries: list[ChainEntry], files: Mapping[str, bytes], report: DossierReport
) -> None:
    sealed = {
        _decision_of(data): data
        for kind in (layout.SIGNED, layout.SIGNATURE_REFUSED)
        for _, data in _data(entries, kind)
    }
    for item in _json_list(files, layout.SIGNATURES, report):
        original = sealed.get(_decision_of(item))
        if original is None or _decision_fields(original) != _decision_fields(item):
            who = f"{item.get('role')} {item.get('signer_id')}"
            report.fail(
                layout.SIGNATURES,
                f"the decision of {who} on {item.get('document_id')} v{item.get('version')} "
                "is not the one sealed in the audit trail",
            )
        report.decisions_checked += 1


def _decision_of(data: Mapping[str, Any]) -> tuple[Any, ...]:
    return (data.get("document_id"), data.get("version"), data.get("role"))


def _decision_fields(data: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(data.get(name) for name in layout.DECISION_FIELDS)


def _check_attachments(
    entries: list[ChainEntry], files: Mapping[str, bytes], report: DossierReport
) -> None:
    expected = {
        layout.attachment_path(str(d.get("attachment_id")), str(d.get("filename"))): d
        for _, d in _data(entries, layout.ATTACHMENT_ADDED)
    }
    for path in sorted(p for p in files if p.startswith("attachments/")):
        data = expected.get(path)
        if data is None:
            report.fail(path, "no audit entry seals this attachment")
        elif sha256_hex(files[path]) != data.get("sha256"):
            report.fail(path, "does not match the hash sealed in the audit trail")


def _check_events(
    entries: list[ChainEntry], files: Mapping[str, bytes], report: DossierReport
) -> None:
    sealed = {
        entry.content.get("source_id"): entry.content.get("data")
        for entry in entries
        if entry.content is not None
    }
    for event in _json_list(files, layout.EVENTS, report):
        if sealed.get(layout.event_source_id(str(event.get("id")))) != event:
            report.fail(
                layout.EVENTS, f"event {event.get('id')} is not the one sealed in the audit trail"
            )


def _json_list(files: Mapping[str, bytes], path: str, report: DossierReport) -> list[Any]:
    raw = files.get(path)
    if raw is None:
        return []
    try:
        items = json.loads(raw)
    except ValueError as exc:
        report.fail(path, f"not JSON ({exc})")
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        report.fail(path, "not a list of objects")
        return []
    return items
