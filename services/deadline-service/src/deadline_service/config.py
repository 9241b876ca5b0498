"""Deadline service settings (env prefix ``NAERVAER_DEADLINE_``) and the tenants' policies."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from deadline_service.adapters import folded, opened
from deadline_service.domain.policy import DEFAULT_POLICY, Policy
from naervaer.settings import ServiceSettings


class TenantPolicy(BaseModel):
    """One tenant's departures from the default policy values (RULES.md's **policy** rows)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan_to_doctor_days: int | None = Field(default=None, ge=0, le=60)
    meeting_1_request_days: int | None = Field(default=None, ge=0, le=90)
    meeting_1_requesters: frozenset[str] | None = None
    meeting_3_days: int | None = Field(default=None, ge=0, le=90)
    aap_months: int | None = Field(default=None, ge=1, le=12)
    reminder_lead_days: int | None = Field(default=None, ge=0, le=60)

    def apply(self, base: Policy) -> Policy:
        return replace(base, **self.model_dump(exclude_none=True))


class DeadlineServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_DEADLINE_", extra="ignore")

    port: int = Field(
        default=8002, ge=0, le=65535, description="HTTP port of the deadline service."
    )
    tenant_policies: dict[str, TenantPolicy] = Field(
        default_factory=dict,
        description='Per-tenant policy values as JSON, e.g. {"acme": {"plan_to_doctor_days": 3}}'
        ". Due dates change with them: rebuild the projection after a change.",
    )
    scheduler_poll_interval_s: float = Field(
        default=1.0, gt=0, description="How often the deadline scheduler looks at the clock."
    )
    opened_events_capacity: int = Field(
        default=opened.DEFAULT_CAPACITY,
        ge=0,
        description="Case events the timeline keeps opened between batches (about 2 KiB each; "
        "0: open every stored event at every fold).",
    )
    folded_cases_capacity: int = Field(
        default=folded.DEFAULT_CAPACITY,
        ge=0,
        description="Cases whose facts the timeline keeps folded between batches, to fold only "
        "their new events (about 4 KiB each; 0: fold every case from all of its events).",
    )
    timezone: str = Field(
        default="Europe/Oslo", description="Deadlines are dates in this zone (today's date)."
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Policies:
    """The policy in force for each tenant (the defaults unless the tenant departs from them)."""

    def __init__(self, overrides: dict[str, TenantPolicy] | None = None) -> None:
        self._policies = {t: o.apply(DEFAULT_POLICY) for t, o in (overrides or {}).items()}

    def for_tenant(self, tenant: str) -> Policy:
        return self._policies.get(tenant, DEFAULT_POLICY)
