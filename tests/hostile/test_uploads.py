"""Uploads to the document service: huge ones refused early, names that try to climb out of
their folder made harmless, in the stored attachment and in the exported dossier alike."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from document_service.domain.attachments import DEFAULT_MAX_BYTES

from .hosting import Platform, assert_clean_problem
from .world import CaseAt, open_case, with_plan

pytestmark = pytest.mark.integration

PDF_HEAD = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n"
CHUNK = 256 * 1024
BOUNDARY = "hostile-boundary"


@pytest.fixture(scope="module")
async def document(platform: Platform) -> tuple[CaseAt, dict[str, Any]]:
    case = await open_case(platform, employee_id="emp-upload", manager_id="mgr-1")
    return case, await with_plan(platform, case)


def _url(case: CaseAt, document: dict[str, Any]) -> str:
    return f"/v1/cases/{case.case_id}/documents/{document['document_id']}/attachments"


def pdf(size: int) -> bytes:
    return PDF_HEAD + b"%" * (size - len(PDF_HEAD) - 6) + b"%%EOF\n"


async def _upload(
    platform: Platform, url: str, name: str, data: bytes, content_type: str = "application/pdf"
) -> httpx.Response:
    return await platform.clients["document"].post(
        url, files={"file": (name, data, content_type)}, headers=platform.auth("hr")
    )


async def test_an_attachment_above_the_default_body_limit_but_within_its_own_is_accepted(
    platform: Platform, document: tuple[CaseAt, dict[str, Any]]
) -> None:
    # Found by this test: the app-wide 1 MiB body limit refused every attachment over 1 MiB,
    # although attachments may have up to NAERVAER_DOCUMENT_MAX_ATTACHMENT_BYTES (10 MiB).
    case, doc = document
    data = pdf(3 * 1024 * 1024)
    response = await _upload(platform, _url(case, doc), "scan.pdf", data)
    assert response.status_code == 201, response.text[:300]
    assert response.json()["size"] == len(data)


async def test_one_byte_over_the_attachment_limit_is_413(
    platform: Platform, document: tuple[CaseAt, dict[str, Any]]
) -> None:
    case, doc = document
    response = await _upload(platform, _url(case, doc), "big.pdf", pdf(DEFAULT_MAX_BYTES + 1))
    problem = assert_clean_problem(response, 413)
    assert problem.get("rule", "attachment_too_large") == "attachment_too_large"


class Trickle:
    """A multipart upload streamed in chunks (no Content-Length), counting what was pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            'filename="huge.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode() + PDF_HEAD
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"%" * CHUNK
        yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_a_streamed_upload_without_length_is_cut_off_near_the_limit(
    platform: Platform, document: tuple[CaseAt, dict[str, Any]]
) -> None:
    case, doc = document
    body = Trickle(total=20 * DEFAULT_MAX_BYTES)  # 200 MiB if nobody stops it
    response = await platform.clients["document"].post(
        _url(case, doc),
        content=body,
        headers={
            **platform.auth("hr"),
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        },
    )
    assert_clean_problem(response, 413)
    assert body.sent <= DEFAULT_MAX_BYTES + 4 * CHUNK, f"pulled {body.sent} bytes first"


async def test_a_declared_huge_upload_is_refused_before_its_body_is_read(
    platform: Platform, document: tuple[CaseAt, dict[str, Any]]
) -> None:
    case, doc = document
    body = Trickle(total=20 * DEFAULT_MAX_BYTES)
    response = await platform.clients["document"].post(
        _url(case, doc),
        content=body,
        headers={
            **platform.auth("hr"),
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(20 * DEFAULT_MAX_BYTES),
        },
    )
    assert_clean_problem(response, 413)
    assert body.sent == 0


TRAVERSALS = (
    "../../../../etc/passwd.pdf",
    "..\\..\\..\\windows\\win.ini.pdf",
    "/etc/shadow.pdf",
    "C:\\Users\\Public\\evil.pdf",
    "....//....//evil.pdf",
    "..%2F..%2Fevil.pdf",
    "%2e%2e%2fevil.pdf",
    "evil\u202efdp.exe",
    "a\x00b.pdf",
    "~/.ssh/authorized_keys.pdf",
    "a\r\nContent-Type: text/html.pdf",
    "CON.pdf",
    ".",
    "..",
)


@pytest.mark.parametrize("name", TRAVERSALS)
async def test_a_name_that_climbs_out_is_made_harmless(
    platform: Platform, document: tuple[CaseAt, dict[str, Any]], name: str
) -> None:
    case, doc = document
    response = await _upload(platform, _url(case, doc), name, pdf(2048))
    assert response.status_code == 201, response.text
    stored = response.json()["filename"]
    _assert_harmless(stored)


async def test_the_dossier_holds_only_harmless_member_names(
    platform: Platform, document: tuple[CaseAt, dict[str, Any]]
) -> None:
    case, doc = document
    for name in TRAVERSALS[:5]:
        assert (await _upload(platform, _url(case, doc), name, pdf(4096))).status_code == 201
    response = await platform.clients["document"].get(
        f"/v1/cases/{case.case_id}/dossier", headers=platform.auth("hr")
    )
    assert response.status_code == 200, response.text[:300]
    with zipfile.ZipFile(io.BytesIO(response.content)) as dossier:
        names = dossier.namelist()
    assert names
    for member in names:
        assert not member.startswith(("/", "\\")), member
        assert ".." not in member.split("/"), member
        assert not set(member) & set("\\:\x00"), member


@pytest.mark.parametrize(
    "path",
    [
        "/v1/documents/..%2F..%2F..%2Fetc%2Fpasswd",
        "/v1/documents/%2e%2e/versions/1",
        "/v1/cases/..%2f..%2f/documents",
        "/v1/cases/%2e%2e%2f%2e%2e%2fetc/dossier",
    ],
)
async def test_traversal_in_a_url_finds_nothing(platform: Platform, path: str) -> None:
    response = await platform.clients["document"].get(path, headers=platform.auth("hr"))
    assert_clean_problem(response, (404, 422))


def _assert_harmless(name: str) -> None:
    assert name.endswith(".pdf"), name
    assert not set(name) & set("/\\:"), name
    assert not name.startswith("."), name  # neither hidden nor "." / ".."
    assert all(ch.isprintable() for ch in name), repr(name)
