"""``describe_quotas``: client quotas (byte rates, request share) and which one a client gets.

Quotas belong to users and client ids, not to topics; a tenant sees the defaults (they name
nobody) and the users and client ids named under its own topic or group prefixes, and is
told how many others were left out.
"""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from kcr.kafka import ClientQuota, QuotaEntityType
from kcr.kafka.quota_model import (
    AppliedQuota,
    applied_quotas,
    entity_label,
    precedence,
    quota_text,
)
from kcr.mcp.evidence import quota_subject
from kcr.mcp.gate.calls import ToolDeniedError, ToolFailedError
from kcr.mcp.gate.identity import Scope
from kcr.mcp.tools.env import ToolEnv
from kcr.model import Evidence, EvidenceKind, TimeWindow
from kcr.model.base import KubeModel
from kcr.model.names import PRINTABLE_PATTERN

MAX_QUOTAS = 500
QuotaName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=PRINTABLE_PATTERN,
        description="A name exactly as Kafka knows it (a user without 'User:')",
    ),
]


class QuotasResult(KubeModel):
    quotas: list[ClientQuota] = Field(
        description="Entity (user, client-id; null = the default) → quota values"
    )
    applied: list[AppliedQuota] | None = Field(
        default=None,
        description="With user and client_id: the quota the broker enforces per key and the "
        "entity it comes from (Kafka's precedence, most specific first)",
    )
    truncated: int = Field(default=0, description="Entities left out past the first 500")
    withheld: int = Field(default=0, description="Entities outside your scope, not named")
    observed_at: datetime
    source: str


def named_in_scope(scope: Scope, name: str) -> bool:
    return scope.allows_topic(name) or scope.allows_group(name)


def visible_quota(quota: ClientQuota, scope: Scope) -> bool:
    return scope.unrestricted or all(
        name is None or named_in_scope(scope, name) for name in quota.entity.values()
    )


def _require(env: ToolEnv, kind: str, name: str | None) -> None:
    if name is not None and not env.scope.unrestricted and not named_in_scope(env.scope, name):
        raise ToolDeniedError(
            f"{kind} `{name}` is outside your scope: you see the quotas of users and client "
            f"ids named under your topic prefixes `{env.scope.describe_topics()}` or group "
            f"prefixes `{env.scope.describe_groups()}`, and the defaults"
        )


def _matches(quota: ClientQuota, user: str | None, client_id: str | None) -> bool:
    if user is not None and client_id is not None:
        return quota.entity in precedence(user, client_id)
    wanted = {QuotaEntityType.USER: user, QuotaEntityType.CLIENT_ID: client_id}
    return all(
        name is None or (kind in quota.entity and quota.entity[kind] == name)
        for kind, name in wanted.items()
    )


async def describe_quotas(
    env: ToolEnv, user: QuotaName | None = None, client_id: QuotaName | None = None
) -> QuotasResult:
    """Client quotas (producer_byte_rate, consumer_byte_rate, request_percentage) set for
    users, client ids, their combinations and defaults. Name a user, a client id, or both:
    with both, which quota the broker enforces on that client and where it comes from."""
    _require(env, "user", user)
    _require(env, "client id", client_id)
    kafka = env.services.kafka
    capabilities = await kafka.capabilities()
    if not capabilities.describe_client_quotas:
        why = capabilities.reason("describeClientQuotas") or "the broker does not serve them"
        raise ToolFailedError(f"client quotas cannot be read on this cluster: {why}")
    everything = await kafka.describe_client_quotas()
    observed = env.now()
    matching = [q for q in everything if _matches(q, user, client_id)]
    if user is not None and client_id is not None:
        order = precedence(user, client_id)
        matching.sort(key=lambda q: order.index(q.entity))
    visible = [q for q in matching if visible_quota(q, env.scope)]
    result = QuotasResult(
        quotas=visible[:MAX_QUOTAS],
        applied=applied_quotas(visible, user, client_id)
        if user is not None and client_id is not None
        else None,
        truncated=max(0, len(visible) - MAX_QUOTAS),
        withheld=len(matching) - len(visible),
        observed_at=observed,
        source=f"kafka/{env.services.cluster.name}: DescribeClientQuotas",
    )
    _remember(env, result, user, client_id)
    return result


def _remember(env: ToolEnv, result: QuotasResult, user: str | None, client_id: str | None) -> None:
    query = " ".join(
        ["describe_quotas"]
        + ([f"user={user}"] if user is not None else [])
        + ([f"client_id={client_id}"] if client_id is not None else [])
    )
    for quota in result.quotas[:50]:
        label = entity_label(quota.entity)
        shown = ", ".join(f"{k}={quota_text(v)}" for k, v in sorted(quota.values.items()))
        env.remember(
            {quota_subject(label)},
            [
                Evidence(
                    kind=EvidenceKind.CONFIG,
                    source=result.source,
                    query=query,
                    observed_value=f"{label}: {shown}"[:4096],
                    time_window=TimeWindow.at(result.observed_at),
                    captured_at=result.observed_at,
                )
            ],
        )
