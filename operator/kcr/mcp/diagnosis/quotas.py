"""Detector on client quotas: a client the brokers throttle now, and the quota that does it.

The quota sensors' throttle time (``kafka_server_quota_throttle_time``) is labelled with the
client's user and client id as Kafka tags them: the dimensions its configured quotas use. A
client throttled on one resource (produce, fetch, request share) is matched to the quota the
broker enforces on it, by Kafka's precedence, and the finding proposes raising that quota:
doubled, on the client's own entity (a default would raise every client's), reversible, the
old value restored by the rollback. Whether doubling is enough shows in the same metric.
"""

import math
from datetime import timedelta

from kcr.kafka.quota_model import (
    AppliedQuota,
    QuotaEntity,
    QuotaEntityType,
    QuotaKey,
    applied_quotas,
    entity_label,
    quota_text,
)
from kcr.kinds.alter_client_quotas import AlterClientQuotas
from kcr.kinds.client_quota_entity import DEFAULT_NAME, ClientQuotaEntity
from kcr.mcp.broker_metrics import (
    MetricFamily,
    MetricRange,
    client_of,
    metric_evidence,
    summary,
)
from kcr.mcp.diagnosis.findings import (
    Facts,
    Finding,
    FindingKind,
    Proposal,
    QuotaReading,
    Severity,
)
from kcr.mcp.prometheus import MetricSeries
from kcr.model import Change, Evidence, EvidenceKind, TimeWindow

QUOTA_SCORE = 73.0
"""Above a slow broker (72): a throttle is the brokers' own account of a limit they hold a
named client to, where a slow broker is inferred from one percentile compared across
brokers, which a busy machine's pauses also move."""
FRESH_STEPS = 2
RAISE_FACTOR = 2.0
RESOURCES = {
    "Produce": (QuotaKey.PRODUCER_BYTE_RATE, "produce"),
    "Fetch": (QuotaKey.CONSUMER_BYTE_RATE, "fetch"),
    "Request": (QuotaKey.REQUEST_PERCENTAGE, "request"),
}
ClientKey = tuple[str, str, str]
"""(resource, user, client id) as the series label them; empty where Kafka left one out."""


def throttled_now(reading: MetricRange) -> list[MetricSeries]:
    """Series whose latest sample, at the end of the range, is a throttle. Kafka's sensor
    averages the throttle over its last samples (up to a minute) and reads NaN once they
    expire, which Prometheus keeps and kcr drops: a series whose last value is older than
    two steps, or nothing, is a client no longer throttled."""
    since = reading.window.end - timedelta(seconds=FRESH_STEPS * reading.step_seconds)
    return [
        s
        for s in reading.series
        if s.points and s.points[-1].at >= since and s.points[-1].value > 0
    ]


def quota_pressure(facts: Facts) -> list[Finding]:
    reading = facts.metrics.get(MetricFamily.THROTTLE_TIME)
    if reading is None:
        return []
    by_client: dict[ClientKey, list[MetricSeries]] = {}
    for series in throttled_now(reading):
        user, client_id = client_of(series.labels)
        key = (series.labels.get("resource", ""), user, client_id)
        by_client.setdefault(key, []).append(series)
    return [
        _finding(facts, reading.model_copy(update={"series": series}), key)
        for key, series in sorted(by_client.items())
    ]


def _finding(facts: Facts, shown: MetricRange, key: ClientKey) -> Finding:
    resource, user, client_id = key
    brokers = ", ".join(sorted({s.labels.get("broker", "?") for s in shown.series}))
    worst = max(s.points[-1].value for s in shown.series)
    evidence = [metric_evidence(shown, summary(shown))]
    client = _client(user, client_id)
    if not client:
        return Finding(
            kind=FindingKind.QUOTA_PRESSURE,
            severity=Severity.MEDIUM,
            score=QUOTA_SCORE,
            subject=f"brokers/{brokers}",
            summary=(
                f"client quotas throttle requests on broker(s) {brokers} (mean throttle time "
                f"up to {worst:,.0f} ms now): throttled producers or consumers fall behind"
            ),
            evidence=evidence,
        )
    label = entity_label(client)
    quota_key, what = RESOURCES.get(resource, (None, resource.lower() or "their"))
    applied = _applied(facts.quotas, user, client_id, quota_key)
    said = (
        f"client quotas throttle requests on broker(s) {brokers} from {label}: its {what} "
        f"requests wait up to {worst:,.0f} ms now (mean over the quota window)"
    )
    if applied is None or facts.quotas is None:
        return Finding(
            kind=FindingKind.QUOTA_PRESSURE,
            severity=Severity.MEDIUM,
            score=QUOTA_SCORE,
            subject=f"quota/{label}",
            summary=f"{said}; the quota that does it was not found among those you may read",
            evidence=evidence,
        )
    source = entity_label(applied.entity)
    evidence.append(_quota_evidence(facts.quotas, client, applied))
    return Finding(
        kind=FindingKind.QUOTA_PRESSURE,
        severity=Severity.MEDIUM,
        score=QUOTA_SCORE,
        subject=f"quota/{label}",
        summary=f"{said}, held to {applied.key}={quota_text(applied.value)} set on {source}",
        evidence=evidence,
        proposal=_raise(client, applied),
    )


def _client(user: str, client_id: str) -> QuotaEntity:
    found: QuotaEntity = {}
    if user:
        found[QuotaEntityType.USER] = user
    if client_id:
        found[QuotaEntityType.CLIENT_ID] = client_id
    return found


def _applied(
    reading: QuotaReading | None, user: str, client_id: str, key: QuotaKey | None
) -> AppliedQuota | None:
    """The quota the broker enforces on the client for ``key``; an empty label matches no
    named entity, as Kafka leaves out the dimensions no configured quota uses."""
    if reading is None or key is None:
        return None
    found = applied_quotas(list(reading.quotas), user, client_id)
    return next((a for a in found if a.key == key.value), None)


def _raise(client: QuotaEntity, applied: AppliedQuota) -> Proposal:
    """Raised where it is set when that entity is the client's own; on the client's own
    entity when it comes from a default, so no other client is let faster."""
    own = all(name is not None for name in applied.entity.values())
    entity = applied.entity if own else client
    value = applied.value * RAISE_FACTOR
    raised = float(math.ceil(value)) if applied.key != QuotaKey.REQUEST_PERCENTAGE else value
    member = AlterClientQuotas(
        entities=[
            ClientQuotaEntity(
                user=_name(entity, QuotaEntityType.USER),
                client_id=_name(entity, QuotaEntityType.CLIENT_ID),
                quotas={applied.key: raised},
            )
        ]
    )
    return Proposal(
        change=Change.of(member),
        reason=(
            f"raise {applied.key} of {entity_label(entity)} from {quota_text(applied.value)} "
            f"to {quota_text(raised)}: the brokers throttle it; doubling is a bounded step "
            "whose effect the throttle time shows, and the rollback restores the old value"
        ),
    )


def _name(entity: QuotaEntity, kind: QuotaEntityType) -> str | None:
    if kind not in entity:
        return None
    name = entity[kind]
    return DEFAULT_NAME if name is None else name


def _quota_evidence(reading: QuotaReading, client: QuotaEntity, applied: AppliedQuota) -> Evidence:
    names = " ".join(
        f"{'client_id' if kind is QuotaEntityType.CLIENT_ID else 'user'}={name}"
        for kind, name in sorted(client.items())
    )
    return Evidence(
        kind=EvidenceKind.CONFIG,
        source=reading.source,
        query=f"describe_quotas {names}",
        observed_value=(
            f"{applied.key}={quota_text(applied.value)} on {entity_label(applied.entity)}, "
            f"the quota the brokers enforce on {entity_label(client)}"
        ),
        time_window=TimeWindow.at(reading.observed_at),
        captured_at=reading.observed_at,
    )
