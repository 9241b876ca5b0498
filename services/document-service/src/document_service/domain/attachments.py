"""Attachments (vedlegg): PDFs and images only, recognised by their bytes, with safe names.

The declared Content-Type is a claim; the magic bytes decide. File names come from the caller's
machine: only the last path component is kept and every character that could mean something
to a file system or a shell is replaced, so a name can never point outside its folder.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from document_service.domain.errors import AttachmentRejected

MediaType = Literal["application/pdf", "image/png", "image/jpeg"]
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_NAME_LENGTH = 120
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})

_MAGIC: tuple[tuple[bytes, MediaType], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_EXTENSIONS: dict[MediaType, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}
_UNSAFE = re.compile(r"[^\w.\- ()]+")  # \w is Unicode-aware: æ, ø, å stay


@dataclass(frozen=True)
class CheckedUpload:
    media_type: MediaType
    filename: str
    size: int


def sniff(data: bytes) -> MediaType | None:
    """The media type the content's first bytes prove, or None."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    return None


def check_upload(
    data: bytes, *, declared_type: str | None, filename: str | None, max_bytes: int
) -> CheckedUpload:
    """Accept a PDF or image of at most ``max_bytes`` whose bytes agree with its declared type."""
    if not data:
        raise AttachmentRejected("attachment_empty", "the file is empty", 422)
    if len(data) > max_bytes:
        raise AttachmentRejected(
            "attachment_too_large", f"the file is larger than {max_bytes} bytes", 413
        )
    media_type = sniff(data)
    if media_type is None:
        raise AttachmentRejected(
            "attachment_type_not_allowed", "only PDF, PNG and JPEG files may be attached", 415
        )
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC_TYPES and declared != media_type:
        raise AttachmentRejected(
            "attachment_type_mismatch",
            f"declared as {declared} but the content is {media_type}",
            415,
        )
    return CheckedUpload(media_type, safe_filename(filename, media_type), len(data))


def safe_filename(name: str | None, media_type: MediaType) -> str:
    """A harmless file name: last path component, safe characters, the right extension."""
    text = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _UNSAFE.sub("_", text).strip(" ._")
    extensions = _EXTENSIONS[media_type]
    stem, dot, suffix = text.rpartition(".")
    if not dot or f".{suffix.lower()}" not in extensions:
        stem = text
    stem = stem.strip(" ._")[: MAX_NAME_LENGTH - 5] or "attachment"
    extension = (
        f".{suffix.lower()}" if dot and f".{suffix.lower()}" in extensions else extensions[0]
    )
    return f"{stem}{extension}"
