"""Documents: read them, sign or refuse a version, attach files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from document_service.adapters.documents import case_documents
from document_service.api.deps import ServicesDep, allow, known_case, responses
from document_service.api.uploads import read_upload
from document_service.app.signing import DocumentContext, document_context
from document_service.app.views import (
    AttachmentView,
    DecisionView,
    DocumentView,
    VersionContent,
    document_view,
    version_content,
)
from document_service.domain.errors import NotFound
from document_service.domain.signing import DecisionKind
from naervaer.auth.fastapi import CurrentPrincipal
from naervaer.http.problems import PROBLEM_RESPONSES
from naervaer.privacy.fastapi import refuse_diagnosis

router = APIRouter(tags=["documents"])
# Capped at the database's integer: a larger one made PostgreSQL fail (500), found by
# schemathesis in tests/hostile.
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="The document version.")]
HASH = Field(pattern="^[0-9a-f]{64}$", description="SHA-256 (hex) of the version you read.")
_HASH_EXAMPLE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class SignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_hash: str = HASH


class RefuseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=4000, description="Why you do not sign.")
    document_hash: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")


def example(value: dict[str, Any]) -> Any:
    """``Body(...)`` documenting ``value`` as the request body's example in OpenAPI."""
    return Body(openapi_examples={"example": {"value": value}})


SIGN_EXAMPLE = example({"document_hash": _HASH_EXAMPLE})
REFUSE_EXAMPLE = example(
    {
        "comment": "The minutes leave out the agreed end of desk tasks.",
        "document_hash": _HASH_EXAMPLE,
    }
)


@router.get(
    "/v1/cases/{case_id}/documents",
    response_model=list[DocumentView],
    responses=responses(401, 403, 404, 410),
    summary="Every document of a case, with its versions and signatures",
)
async def list_case_documents(
    case_id: str, services: ServicesDep, principal: CurrentPrincipal, request: Request
) -> list[DocumentView]:
    case = await known_case(services, principal.tenant, case_id)
    await allow(
        request, principal, case, operation="read", resource="documents", resource_id=case_id
    )
    async with services.engine.connect() as conn:
        rows = await case_documents(conn, case.tenant, case_id)
        return [await document_view(conn, row.document_id, case) for row in rows]


@router.get(
    "/v1/documents/{document_id}",
    response_model=DocumentView,
    responses=responses(401, 403, 404, 410),
    summary="A document: each version, who signed it and who is still missing",
)
async def get_document(
    document_id: str, services: ServicesDep, principal: CurrentPrincipal, request: Request
) -> DocumentView:
    context = await _readable(services, principal, request, document_id)
    async with services.engine.connect() as conn:
        return await document_view(conn, document_id, context.case)


@router.get(
    "/v1/documents/{document_id}/versions/{version}",
    response_model=VersionContent,
    responses=responses(401, 403, 404, 410),
    summary="One version's content and hash (what a signer reads)",
)
async def get_version(
    document_id: str,
    version: Version,
    services: ServicesDep,
    principal: CurrentPrincipal,
    request: Request,
) -> VersionContent:
    await _readable(services, principal, request, document_id)
    async with services.engine.connect() as conn:
        return await version_content(conn, document_id, version)


@router.post(
    "/v1/documents/{document_id}/versions/{version}/signatures",
    status_code=201,
    response_model=DecisionView,
    responses=responses(
        401, 403, 404, 409, 410, 422, extra={200: {"description": "Already signed: the first one."}}
    ),
    summary="Sign a version as the party you are on the case",
)
async def sign(
    document_id: str,
    version: Version,
    body: Annotated[SignRequest, SIGN_EXAMPLE],
    services: ServicesDep,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
) -> DecisionView:
    return await _decide(
        services,
        principal,
        request,
        response,
        document_id,
        version,
        "signed",
        body.document_hash,
        None,
    )


@router.post(
    "/v1/documents/{document_id}/versions/{version}/refusals",
    status_code=201,
    response_model=DecisionView,
    responses=responses(
        401,
        403,
        404,
        409,
        410,
        422,
        extra={200: {"description": "Already refused: the first one."}},
    ),
    summary="Refuse to sign a version, saying why",
    # The comment is free text: like every case write, it may not carry a diagnosis.
    dependencies=[Depends(refuse_diagnosis)],
)
async def refuse(
    document_id: str,
    version: Version,
    body: Annotated[RefuseRequest, REFUSE_EXAMPLE],
    services: ServicesDep,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
) -> DecisionView:
    return await _decide(
        services,
        principal,
        request,
        response,
        document_id,
        version,
        "refused",
        body.document_hash,
        body.comment,
    )


@router.post(
    "/v1/cases/{case_id}/documents/{document_id}/attachments",
    status_code=201,
    response_model=AttachmentView,
    responses=responses(
        400,
        401,
        403,
        404,
        410,
        413,
        422,
        extra={
            415: {
                "description": "Not a PDF, PNG or JPEG (by content), or type and content differ.",
                "content": PROBLEM_RESPONSES[400]["content"],  # a problem, like every refusal
            }
        },
    ),
    summary="Attach a PDF or image to a document (multipart/form-data, field 'file')",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def attach(
    case_id: str,
    document_id: str,
    services: ServicesDep,
    principal: CurrentPrincipal,
    request: Request,
) -> AttachmentView:
    context = await _context(services, document_id)
    if context.case.case_id != case_id:
        raise NotFound("document_not_found", f"case {case_id} has no document {document_id}")
    await allow(
        request,
        principal,
        context.case,
        operation="attach_document",
        resource="document",
        resource_id=document_id,
    )
    upload = await read_upload(request, services.attachments.max_bytes)
    stored = await services.attachments.add(
        case=context.case,
        document_id=document_id,
        uploaded_by=principal.subject,
        data=upload.data,
        declared_type=upload.content_type,
        filename=upload.filename,
    )
    return AttachmentView.model_validate(stored, from_attributes=True)


async def _context(services: ServicesDep, document_id: str) -> DocumentContext:
    async with services.engine.connect() as conn:
        return await document_context(conn, document_id)


async def _readable(
    services: ServicesDep, principal: CurrentPrincipal, request: Request, document_id: str
) -> DocumentContext:
    context = await _context(services, document_id)
    await allow(
        request,
        principal,
        context.case,
        operation="read",
        resource="document",
        resource_id=document_id,
    )
    return context


async def _decide(
    services: ServicesDep,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
    document_id: str,
    version: int,
    decision: DecisionKind,
    offered_hash: str | None,
    comment: str | None,
) -> DecisionView:
    context = await _context(services, document_id)
    await allow(
        request,
        principal,
        context.case,
        operation="sign",
        resource="document",
        resource_id=document_id,
    )
    made, created = await services.signing.decide(
        principal.subject,
        document_id,
        version,
        decision=decision,
        offered_hash=offered_hash,
        comment=comment,
    )
    if not created:
        response.status_code = 200
    return DecisionView.of(made)
