"""From a claimed delivery to the message itself: address, language, names, template.

Looked up at send time, not when the delivery was decided: a corrected address or a new
language preference applies to everything not yet sent.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from notification_service.adapters import directory
from notification_service.adapters.channels.base import DeliveryFailed, Outgoing
from notification_service.adapters.deliveries import Claim
from notification_service.adapters.rendering import Renderer, TemplateText
from notification_service.domain.messages import message_context
from notification_service.domain.policy import TenantPolicy
from notification_service.domain.recipients import Recipient
from notification_service.domain.vocabulary import Language


class Composer:
    def __init__(self, engine: AsyncEngine, renderer: Renderer) -> None:
        self._engine = engine
        self._renderer = renderer

    async def compose(self, claim: Claim) -> Outgoing:
        """The rendered message of ``claim``; ``DeliveryFailed`` when it cannot be made."""
        async with self._engine.connect() as tx:
            policy = await directory.get_policy(tx, claim.tenant)
            secret = await directory.get_webhook_secret(tx, claim.tenant)
            employee_id = str(claim.facts.get("employee_id") or "")
            people = await directory.get_recipients(
                tx, claim.tenant, [claim.recipient_id, employee_id]
            )
            recipient = _recipient(claim, policy, people.get(claim.recipient_id))
            language = recipient.language
            template = await self._template(tx, claim, language)
        employee = people.get(employee_id)
        context = message_context(
            claim.facts,
            language,
            zone=policy.zone,
            recipient_name=recipient.display_name,
            employee_name=employee.display_name if employee else None,
        )
        try:
            message = self._renderer.render(template, context)
        except Exception as error:  # a tenant's template that broke: retrying will not help
            reason = f"template {claim.template} failed: {error}"
            raise DeliveryFailed(reason, permanent=True) from None
        return Outgoing(
            delivery_id=claim.id,
            tenant=claim.tenant,
            case_id=claim.case_id,
            audience=claim.audience,
            recipient_id=claim.recipient_id,
            stage=claim.stage,
            template=claim.template,
            language=language,
            message=message,
            display_name=recipient.display_name,
            email=recipient.email,
            phone=recipient.phone,
            webhook_url=str(policy.webhook_url) if policy.webhook_url else None,
            webhook_secret=secret,
            facts={k: v for k, v in claim.facts.items() if v is not None},
        )

    async def _template(
        self, tx: AsyncConnection, claim: Claim, language: Language
    ) -> TemplateText:
        own = await directory.get_template(tx, claim.tenant, claim.template, language)
        if own is not None:
            return own
        try:
            return self._renderer.default(claim.template, language)
        except KeyError:
            raise DeliveryFailed(f"no template named {claim.template}", permanent=True) from None


def _recipient(claim: Claim, policy: TenantPolicy, known: Recipient | None) -> Recipient:
    """HR is the tenant's HR mailbox from the policy; anyone else is their recipient entry."""
    if claim.audience == "hr":
        return Recipient(email=policy.hr_email, language=policy.hr_language)
    if known is None:
        return Recipient(language=policy.default_language)
    return known
