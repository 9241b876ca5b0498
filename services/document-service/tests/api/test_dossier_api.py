"""The case dossier: exported as a signed ZIP, verified offline by ``naervaer verify``, and any
change to it is found and named."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from naervaer.cli import app as cli
from naervaer.dossier import layout
from naervaer.dossier.keys import load_key_ring
from naervaer.dossier.trust import load_trusted_keys
from naervaer.dossier.verify import verify_dossier

from ..harness import DocumentApi, rezip, zip_files
from ..story import CaseStory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _told_case(api: DocumentApi) -> CaseStory:
    """A case with a plan signed by both, refused minutes, an adjustment and an attachment."""
    story = CaseStory()
    await api.feed(
        story.opened(),
        story.sick_note("2026-01-05", "2026-01-31", 100),
        story.sick_note("2026-02-01", "2026-03-15", 50),
        story.plan(),
        story.meeting_held(),
        story.adjustment(),
        story.evaluation(),
        story.expert_assistance(),
    )
    plan = await api.document_of(story.case_id, "follow_up_plan")
    digest = {"document_hash": plan["versions"][0]["document_hash"]}
    for role, sub in (("employee", "emp-1"), ("manager", "mgr-1")):
        path = f"/v1/documents/{plan['document_id']}/versions/1/signatures"
        assert (await api.post(path, digest, role=role, sub=sub)).status_code == 201
    minutes = await api.document_of(story.case_id, "dialogue_meeting_minutes")
    refusal = await api.post(
        f"/v1/documents/{minutes['document_id']}/versions/1/refusals",
        {"comment": "The minutes leave out what we agreed on hours."},
        role="employee",
        sub="emp-1",
    )
    assert refusal.status_code == 201
    upload = await api.client.post(
        f"/v1/cases/{story.case_id}/documents/{plan['document_id']}/attachments",
        files={"file": ("../../workstation.png", PNG, "image/png")},
        headers=api.auth(role="manager", sub="mgr-1"),
    )
    assert upload.status_code == 201, upload.text
    return story


@pytest.fixture
async def exported(api: DocumentApi, tmp_path: Path) -> dict[str, Any]:
    story = await _told_case(api)
    archive = await api.dossier(story.case_id)
    keys = (await api.client.get("/v1/audit/keys")).json()
    (tmp_path / "dossier.zip").write_bytes(archive)
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    (tmp_path / "key.pem").write_text(keys["keys"][-1]["pem"])
    return {"story": story, "archive": archive, "keys": keys, "dir": tmp_path}


def _verify_cli(zip_path: Path, key: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", str(zip_path), "--public-key", key])
    return result.exit_code, result.output


async def test_the_dossier_holds_the_whole_record(exported: dict[str, Any]) -> None:
    files = zip_files(exported["archive"])
    for name in (
        layout.MANIFEST,
        layout.MANIFEST_SIGNATURE,
        layout.EVENTS,
        layout.DOCUMENT_INDEX,
        layout.SIGNATURES,
        layout.AUDIT_ENTRIES,
        layout.AUDIT_KEYS,
        layout.PDF,
    ):
        assert name in files, name
    index = json.loads(files[layout.DOCUMENT_INDEX])
    assert sorted(d["kind"] for d in index) == [
        "adjustment_record",
        "dialogue_meeting_minutes",
        "expert_assistance_application",
        "follow_up_plan",
    ]
    adjustment = next(d for d in index if d["kind"] == "adjustment_record")
    assert [v["version"] for v in adjustment["versions"]] == [1, 2]  # recorded, then evaluated
    assert [e["type"] for e in json.loads(files[layout.EVENTS])][:2] == [
        "case.opened",
        "case.sick_note_received",
    ]
    decisions = json.loads(files[layout.SIGNATURES])
    assert sorted((d["role"], d["decision"]) for d in decisions) == [
        ("employee", "refused"),
        ("employee", "signed"),
        ("manager", "signed"),
    ]
    # The archive names the file as the audit trail seals it; the index gives its real name.
    path = next(n for n in files if n.startswith("attachments/"))
    assert path.split("/")[-1].startswith("pd1.")
    named = [a for d in index for a in d["attachments"]]
    assert [(a["filename"], a["path"]) for a in named] == [("workstation.png", path)]
    manifest = json.loads(files[layout.MANIFEST])
    assert manifest["case_id"] == exported["story"].case_id
    assert {f["path"] for f in manifest["files"]} == set(files) - {
        layout.MANIFEST,
        layout.MANIFEST_SIGNATURE,
    }


async def test_naervaer_verify_accepts_an_intact_dossier(exported: dict[str, Any]) -> None:
    folder: Path = exported["dir"]
    for key in ("keys.json", "key.pem"):
        code, output = _verify_cli(folder / "dossier.zip", str(folder / key))
        assert code == 0, output
        assert output.startswith("OK: the dossier of case"), output
        assert "5 document versions and 3 signatures verified" in output


async def test_the_trusted_key_may_come_from_the_service_url(exported: dict[str, Any]) -> None:
    with _serving(json.dumps(exported["keys"]).encode()) as url:
        ring = load_trusted_keys(url)
    assert verify_dossier(exported["archive"], ring).ok


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("document", "documents/"),
        ("events", layout.EVENTS),
        ("pdf", layout.PDF),
        ("removed", "documents/"),
        ("added", "attachments/extra.pdf"),
        ("manifest", layout.MANIFEST),
    ],
)
async def test_a_tampered_dossier_fails_naming_the_file(
    exported: dict[str, Any], change: str, named: str
) -> None:
    files = zip_files(exported["archive"])
    document = next(n for n in files if n.startswith("documents/") and n.endswith("/v1.json"))
    if change == "document":
        files[document] = (
            files[document].replace(b"Picking", b"Packing").replace(b"Agreed", b"Agreeed")
        )
        files[document] += b" "
    elif change == "events":
        files[layout.EVENTS] = files[layout.EVENTS].replace(b"2026-01-05", b"2026-01-12")
    elif change == "pdf":
        files[layout.PDF] = files[layout.PDF] + b"%"
    elif change == "removed":
        del files[document]
    elif change == "added":
        files["attachments/extra.pdf"] = b"%PDF-1.7 not sealed"
    else:  # a forger fixes the manifest's hash, but cannot sign it
        files[document] += b" "
        manifest = json.loads(files[layout.MANIFEST])
        manifest["case_id"] = "another-case"
        files[layout.MANIFEST] = json.dumps(manifest).encode()
    folder: Path = exported["dir"]
    (folder / "tampered.zip").write_bytes(rezip(files))
    code, output = _verify_cli(folder / "tampered.zip", str(folder / "keys.json"))
    assert code == 1, output
    assert output.startswith("TAMPERED"), output
    assert named in output


async def test_another_key_does_not_verify_the_dossier(
    exported: dict[str, Any], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    report = verify_dossier(exported["archive"], load_key_ring(stranger.decode()))
    assert not report.ok
    assert report.findings[0].where == layout.MANIFEST
    code, _output = _verify_cli(exported["dir"] / "dossier.zip", str(tmp_path / "missing.pem"))
    assert code == 2


async def test_the_pdf_opens_with_the_case_at_a_glance(exported: dict[str, Any]) -> None:
    pdf = zip_files(exported["archive"])[layout.PDF]
    first = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    story: CaseStory = exported["story"]
    for expected in (
        "case at a glance",
        story.case_id,
        "emp-1",
        "mgr-1",
        "2026-01-05",
        "S+27",
        "S+364",
        "Follow-up plan",
        "met",
        "100 %",
        "50 %",
    ):
        assert expected in first, expected
    png = _first_page_png(pdf, exported["dir"])
    if png is not None:  # poppler-utils installed: the page renders to a real picture
        assert png.read_bytes().startswith(b"\x89PNG")
        assert png.stat().st_size > 20_000


def _first_page_png(pdf: bytes, folder: Path) -> Path | None:
    """Render page 1 with pdftoppm (Debian poppler-utils) when it is there; None otherwise
    (the text assertions above still hold the PDF to account)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return None
    (folder / "dossier.pdf").write_bytes(pdf)
    subprocess.run(
        [pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", "dossier.pdf", "page1"],
        cwd=folder,
        check=True,
        timeout=60,
    )
    return folder / "page1.png"


class _KeysHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: object) -> None: ...


@contextlib.contextmanager
def _serving(body: bytes) -> Iterator[str]:
    """A local HTTP server answering every GET with ``body`` (the service's keys document)."""
    handler = type("Handler", (_KeysHandler,), {"body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/audit/keys"
    finally:
        server.shutdown()
        server.server_close()
