"""What ``naervaer verify`` says about archives that are not dossiers at all."""

from __future__ import annotations

import io
import zipfile

from naervaer.dossier.keys import KeyRing
from naervaer.dossier.verify import verify_dossier


def _zip(**files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def test_not_a_zip() -> None:
    report = verify_dossier(b"just bytes", KeyRing())
    assert not report.ok
    assert str(report.findings[0]) == "dossier: not a ZIP archive"
    assert report.lines()[0].startswith("TAMPERED")


def test_a_zip_without_its_signed_manifest() -> None:
    report = verify_dossier(_zip(**{"dossier.pdf": b"%PDF-"}), KeyRing())
    assert [f.where for f in report.findings] == ["manifest.json"]
    unsigned = verify_dossier(_zip(**{"manifest.json": b"{}"}), KeyRing())
    assert [f.where for f in unsigned.findings] == ["manifest.sig.json"]


def test_a_malformed_manifest_is_named() -> None:
    report = verify_dossier(_zip(**{"manifest.json": b"{", "manifest.sig.json": b"{}"}), KeyRing())
    assert report.findings[0].where == "manifest.json"
    assert "malformed" in report.findings[0].reason
