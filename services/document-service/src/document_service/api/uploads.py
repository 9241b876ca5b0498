"""Reading an upload (multipart/form-data, field ``file``) without trusting its size or type.

The form is parsed here rather than by FastAPI's ``UploadFile`` parameter so a declared
Content-Length above the limit is refused before a byte of the body is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile

from document_service.domain.errors import AttachmentRejected

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and part headers around the file


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str | None
    filename: str | None


async def read_upload(request: Request, max_bytes: int) -> Upload:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes + FORM_OVERHEAD:
        raise AttachmentRejected(
            "attachment_too_large", f"the file is larger than {max_bytes} bytes", 413
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise AttachmentRejected(
            "multipart_required", "send the file as multipart/form-data in the field 'file'", 415
        )
    form = await request.form(max_files=1, max_fields=10)
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise AttachmentRejected("attachment_missing", "no file in the field 'file'", 422)
        data = await file.read(max_bytes + 1)  # one byte more tells "too large" apart
        return Upload(data, file.content_type, file.filename)
    finally:
        await form.close()
