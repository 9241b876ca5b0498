"""Attachments: PDFs and images only (by their bytes), within the size limit, with safe names."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from document_service.adapters.tables import blobs
from document_service.config import DocumentServiceSettings
from naervaer.dossier.canonical import sha256_hex

from ..harness import DocumentApi
from ..story import CaseStory

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


async def _plan(api: DocumentApi) -> tuple[CaseStory, dict[str, Any]]:
    story = CaseStory()
    await api.feed(story.opened(), story.plan())
    return story, await api.document_of(story.case_id, "follow_up_plan")


async def _upload(
    api: DocumentApi,
    story: CaseStory,
    document: dict[str, Any],
    name: str,
    data: bytes,
    content_type: str,
) -> httpx.Response:
    return await api.client.post(
        f"/v1/cases/{story.case_id}/documents/{document['document_id']}/attachments",
        files={"file": (name, data, content_type)},
        headers=api.auth(role="manager", sub="mgr-1"),
    )


async def test_a_pdf_is_attached_and_stored_by_its_hash(api: DocumentApi) -> None:
    story, document = await _plan(api)
    response = await _upload(api, story, document, "plan-signed.pdf", PDF, "application/pdf")
    assert response.status_code == 201, response.text
    attached = response.json()
    assert attached["media_type"] == "application/pdf"
    assert attached["filename"] == "plan-signed.pdf"
    assert attached["sha256"] == sha256_hex(PDF)
    assert attached["size"] == len(PDF)
    async with api.runtime.engine.connect() as conn:
        stored = (
            await conn.execute(select(blobs.c.content).where(blobs.c.sha256 == sha256_hex(PDF)))
        ).scalar_one()
    assert bytes(stored) == PDF
    listed = (await api.get(f"/v1/documents/{document['document_id']}")).json()["attachments"]
    assert [a["attachment_id"] for a in listed] == [attached["attachment_id"]]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
        ("/absolute/path/report.PDF", "report.pdf"),
        ("...", "attachment.pdf"),
        ("....pdf", "pdf.pdf"),
        ("rapport om tilrettelegging (mars) æøå.pdf", "rapport om tilrettelegging (mars) æøå.pdf"),
        ("evil;rm -rf $HOME.pdf", "evil_rm -rf _HOME.pdf"),
        ("invoice.exe", "invoice.exe.pdf"),
    ],
)
async def test_file_names_cannot_escape_or_deceive(api: DocumentApi, name: str, safe: str) -> None:
    story, document = await _plan(api)
    response = await _upload(api, story, document, name, PDF, "application/pdf")
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == safe
    assert "/" not in response.json()["filename"]


async def test_the_content_decides_the_type(api: DocumentApi) -> None:
    story, document = await _plan(api)
    jpeg = await _upload(api, story, document, "photo.jpg", JPEG, "application/octet-stream")
    assert jpeg.status_code == 201
    assert jpeg.json()["media_type"] == "image/jpeg"

    script = await _upload(
        api, story, document, "x.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"
    )
    assert script.status_code == 415
    assert script.json()["rule"] == "attachment_type_not_allowed"
    html = await _upload(api, story, document, "x.html", b"<html><script>", "text/html")
    assert html.status_code == 415
    lying = await _upload(api, story, document, "x.png", PDF, "image/png")
    assert lying.status_code == 415
    assert lying.json()["rule"] == "attachment_type_mismatch"
    empty = await _upload(api, story, document, "x.pdf", b"", "application/pdf")
    assert empty.status_code == 422


async def test_the_size_limit_is_enforced(api: DocumentApi) -> None:
    story, document = await _plan(api)
    limit = api.services.attachments.max_bytes
    api.services.attachments.max_bytes = 1024
    try:
        at_limit = PDF + b"%" * (1024 - len(PDF))
        assert (
            await _upload(api, story, document, "a.pdf", at_limit, "application/pdf")
        ).status_code == 201
        over = await _upload(api, story, document, "b.pdf", at_limit + b"%", "application/pdf")
        assert over.status_code == 413
        assert over.json()["rule"] == "attachment_too_large"
        huge = await _upload(api, story, document, "c.pdf", PDF + b"%" * 200_000, "application/pdf")
        assert huge.status_code == 413  # refused on Content-Length, before reading the body
    finally:
        api.services.attachments.max_bytes = limit


def test_the_limit_is_configurable_and_defaults_to_10_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DocumentServiceSettings().max_attachment_bytes == 10 * 1024 * 1024
    monkeypatch.setenv("NAERVAER_DOCUMENT_MAX_ATTACHMENT_BYTES", "2048")
    assert DocumentServiceSettings().max_attachment_bytes == 2048


async def test_an_upload_must_be_a_multipart_file_of_this_case(api: DocumentApi) -> None:
    story, document = await _plan(api)
    raw = await api.client.post(
        f"/v1/cases/{story.case_id}/documents/{document['document_id']}/attachments",
        content=PDF,
        headers={**api.auth(role="manager", sub="mgr-1"), "Content-Type": "application/pdf"},
    )
    assert raw.status_code == 415
    other_case = await api.client.post(
        f"/v1/cases/another-case/documents/{document['document_id']}/attachments",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=api.auth(role="hr", sub="hr-1"),
    )
    assert other_case.status_code == 404
    employee = await _upload_as(api, story, document, role="employee", sub="emp-1")
    assert employee.status_code == 403  # attaching is the employer's documentation


async def _upload_as(
    api: DocumentApi, story: CaseStory, document: dict[str, Any], *, role: str, sub: str
) -> httpx.Response:
    return await api.client.post(
        f"/v1/cases/{story.case_id}/documents/{document['document_id']}/attachments",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=api.auth(role=role, sub=sub),
    )
