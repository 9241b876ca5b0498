"""Attachments are recognised by their bytes and get harmless names."""

from __future__ import annotations

import pytest

from document_service.domain.attachments import check_upload, safe_filename, sniff
from document_service.domain.errors import AttachmentRejected


def test_magic_bytes_decide_the_type() -> None:
    assert sniff(b"%PDF-1.4 ...") == "application/pdf"
    assert sniff(b"\x89PNG\r\n\x1a\n...") == "image/png"
    assert sniff(b"\xff\xd8\xff\xdb...") == "image/jpeg"
    assert sniff(b"GIF89a") is None
    assert sniff(b"MZ\x90\x00") is None


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("a\x00b\x1f\x7fc.pdf", "abc.pdf"),
        ("../../.ssh/id_rsa", "id_rsa.pdf"),
        ("C:\\Users\\x\\scan.JPEG", "scan.JPEG.pdf"),
        (None, "attachment.pdf"),
        ("x" * 500 + ".pdf", "x" * 115 + ".pdf"),
    ],
)
def test_names_lose_paths_controls_and_length(name: str | None, safe: str) -> None:
    assert safe_filename(name, "application/pdf") == safe


def test_limits_and_declared_types() -> None:
    accepted = check_upload(
        b"%PDF-1.7", declared_type="application/pdf; charset=binary", filename="a.pdf", max_bytes=8
    )
    assert (accepted.media_type, accepted.size) == ("application/pdf", 8)
    with pytest.raises(AttachmentRejected) as large:
        check_upload(b"%PDF-1.7!", declared_type=None, filename="a.pdf", max_bytes=8)
    assert large.value.status == 413
    with pytest.raises(AttachmentRejected) as mismatch:
        check_upload(b"%PDF-1.7", declared_type="image/jpeg", filename="a.jpg", max_bytes=8)
    assert mismatch.value.status == 415
