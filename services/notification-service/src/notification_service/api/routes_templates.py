"""Message templates: the defaults, and each tenant's own versions of them (HR)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.auth.policy import can_read_tenant_wide
from notification_service.adapters import directory
from notification_service.adapters.rendering import Renderer, TemplateInvalid, TemplateText
from notification_service.api.access import can_administer
from notification_service.api.common import (
    CallerDep,
    example,
    not_found,
    problem_responses,
    unprocessable,
)
from notification_service.api.schemas import (
    TEMPLATE_EXAMPLE,
    TemplateIn,
    TemplateListOut,
    TemplateOut,
)
from notification_service.domain.messages import TEMPLATE_NAMES
from notification_service.domain.vocabulary import LANGUAGES, Language

router = APIRouter(prefix="/v1/templates", tags=["templates"])
NameParam = Annotated[str, Path(description=f"One of: {', '.join(TEMPLATE_NAMES)}.")]


@router.get(
    "",
    response_model=TemplateListOut,
    responses=problem_responses(401, 403),
    summary="Every template in every language, as the tenant's messages use them",
)
async def list_templates(caller: CallerDep) -> TemplateListOut:
    decision = can_read_tenant_wide(caller.principal, caller.tenant)
    await caller.check(decision, "read", "template", "*")
    pairs = [(name, language) for name in TEMPLATE_NAMES for language in LANGUAGES]
    renderer = caller.deps.renderer
    async with caller.deps.engine.connect() as tx:
        found = [await _effective(tx, renderer, caller.tenant, *p) for p in pairs]
    return TemplateListOut(templates=found)


@router.get(
    "/{name}/{language}",
    response_model=TemplateOut,
    responses=problem_responses(401, 403, 404, 422),
    summary="One template as the tenant's messages use it (its own or the default)",
)
async def get_template(name: NameParam, language: Language, caller: CallerDep) -> TemplateOut:
    decision = can_read_tenant_wide(caller.principal, caller.tenant)
    await caller.check(decision, "read", "template", f"{name}/{language}")
    _known(name)
    async with caller.deps.engine.connect() as tx:
        return await _effective(tx, caller.deps.renderer, caller.tenant, name, language)


@router.put(
    "/{name}/{language}",
    response_model=TemplateOut,
    responses=problem_responses(400, 401, 403, 404, 422),
    summary="Store the tenant's own version of a template (HR); checked before it is kept",
)
async def put_template(
    name: NameParam,
    language: Language,
    body: Annotated[TemplateIn, example(TEMPLATE_EXAMPLE)],
    caller: CallerDep,
) -> TemplateOut:
    decision = can_administer(caller.principal, caller.tenant)
    await caller.check(decision, "update", "template", f"{name}/{language}")
    _known(name)
    deps = caller.deps
    text = TemplateText(**body.model_dump())
    try:
        deps.renderer.check(text)
    except TemplateInvalid as error:
        raise unprocessable("template-invalid", str(error)) from None
    async with deps.engine.begin() as tx:
        await directory.put_template(tx, caller.tenant, name, language, text, deps.clock.now())
    return TemplateOut(name=name, language=language, source="tenant", **body.model_dump())


@router.delete(
    "/{name}/{language}",
    status_code=204,
    responses=problem_responses(401, 403, 404, 422),
    summary="Drop the tenant's own version: the default applies again (HR)",
)
async def delete_template(name: NameParam, language: Language, caller: CallerDep) -> Response:
    decision = can_administer(caller.principal, caller.tenant)
    await caller.check(decision, "delete", "template", f"{name}/{language}")
    _known(name)
    async with caller.deps.engine.begin() as tx:
        if not await directory.delete_template(tx, caller.tenant, name, language):
            raise not_found("The tenant has no own version of this template.")
    return Response(status_code=204)


async def _effective(
    tx: AsyncConnection, renderer: Renderer, tenant: str, name: str, language: Language
) -> TemplateOut:
    own = await directory.get_template(tx, tenant, name, language)
    text = own or renderer.default(name, language)
    source = "tenant" if own is not None else "default"
    return TemplateOut(name=name, language=language, source=source, **text.__dict__)


def _known(name: str) -> None:
    if name not in TEMPLATE_NAMES:
        raise not_found(f"No template named {name}.")
