"""What each tenant set through the API: recipients, its policy and its own templates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_service.adapters.rendering import TemplateText
from notification_service.adapters.sql import upsert
from notification_service.adapters.tables import recipients, templates, tenant_policies
from notification_service.domain.policy import TenantPolicy
from notification_service.domain.recipients import Recipient

_RECIPIENT_FIELDS = ("display_name", "email", "phone", "language", "channels")
_TEMPLATE_PARTS = ("subject", "text", "html", "sms")


async def get_recipients(
    tx: AsyncConnection, tenant: str, party_ids: Iterable[str]
) -> dict[str, Recipient]:
    """The recipient entries of ``party_ids`` that exist, by party id."""
    ids = sorted(set(party_ids))
    if not ids:
        return {}
    rows = await tx.execute(
        select(recipients).where(recipients.c.tenant == tenant, recipients.c.party_id.in_(ids))
    )
    return {
        row.party_id: Recipient.model_validate({f: getattr(row, f) for f in _RECIPIENT_FIELDS})
        for row in rows
    }


async def get_recipient(tx: AsyncConnection, tenant: str, party_id: str) -> Recipient | None:
    return (await get_recipients(tx, tenant, [party_id])).get(party_id)


async def put_recipient(
    tx: AsyncConnection, tenant: str, party_id: str, recipient: Recipient, now: datetime
) -> None:
    row = {"tenant": tenant, "party_id": party_id, "updated_at": now}
    row.update(recipient.model_dump(mode="json"))
    row["channels"] = sorted(recipient.channels)
    await upsert(tx, recipients, row, ["tenant", "party_id"])


async def get_policy(tx: AsyncConnection, tenant: str) -> TenantPolicy:
    """The tenant's policy; the documented default until it stores its own."""
    stored = await tx.scalar(
        select(tenant_policies.c.policy).where(tenant_policies.c.tenant == tenant)
    )
    return TenantPolicy() if stored is None else TenantPolicy.model_validate(stored)


async def get_webhook_secret(tx: AsyncConnection, tenant: str) -> str | None:
    secret = await tx.scalar(
        select(tenant_policies.c.webhook_secret).where(tenant_policies.c.tenant == tenant)
    )
    return None if secret is None else str(secret)


async def put_policy(
    tx: AsyncConnection,
    tenant: str,
    policy: TenantPolicy,
    now: datetime,
    *,
    webhook_secret: str | None = None,
) -> None:
    """Store the policy; the webhook secret is replaced only when a new one is given."""
    row = {"tenant": tenant, "policy": policy.model_dump(mode="json"), "updated_at": now}
    if webhook_secret is not None:
        row["webhook_secret"] = webhook_secret
    await upsert(tx, tenant_policies, row, ["tenant"])


async def get_template(
    tx: AsyncConnection, tenant: str, name: str, language: str
) -> TemplateText | None:
    """The tenant's own version of template ``name`` in ``language``, if it has one."""
    row = (
        await tx.execute(
            select(templates).where(
                templates.c.tenant == tenant,
                templates.c.name == name,
                templates.c.language == language,
            )
        )
    ).first()
    return None if row is None else TemplateText(**{p: getattr(row, p) for p in _TEMPLATE_PARTS})


async def put_template(
    tx: AsyncConnection, tenant: str, name: str, language: str, text: TemplateText, now: datetime
) -> None:
    row = {"tenant": tenant, "name": name, "language": language, "updated_at": now}
    row.update({part: getattr(text, part) for part in _TEMPLATE_PARTS})
    await upsert(tx, templates, row, ["tenant", "name", "language"])


async def delete_template(tx: AsyncConnection, tenant: str, name: str, language: str) -> bool:
    """Back to the default; False when the tenant had no version of its own."""
    result = await tx.execute(
        delete(templates).where(
            templates.c.tenant == tenant,
            templates.c.name == name,
            templates.c.language == language,
        )
    )
    return bool(result.rowcount)


async def overridden_templates(tx: AsyncConnection, tenant: str) -> set[tuple[str, str]]:
    """(name, language) of every template the tenant has its own version of."""
    rows = await tx.execute(
        select(templates.c.name, templates.c.language).where(templates.c.tenant == tenant)
    )
    return {(row.name, row.language) for row in rows}
