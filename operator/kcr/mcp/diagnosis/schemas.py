"""Detectors on schemas: a producer's schema the registry refuses, and a new schema version
shortly before consumers lag.

A producer whose serializer registers its schema stops at the registry's 409 Conflict: it
writes nothing until its schema changes. The registry keeps no record of a refused
registration, so the person asking gives the schema from the producer's log, and the
registry's own compatibility check says why, against which subject and version.

A producer that starts writing with a new schema can break or slow consumers that read
the old one (deserialisation errors, retries, a dead letter path). A version registered
inside the rollout window of a topic whose consumers lag is a lead worth citing.
"""

from datetime import timedelta

from kcr.mcp.diagnosis.findings import Facts, Finding, FindingKind, Severity, group_rows
from kcr.mcp.schemas import compatibility_evidence, schema_evidence

SCHEMA_INCOMPATIBLE_SCORE = 90.0
"""A producer refused by the registry writes nothing at all: as urgent as one the
authorizer refuses, above every consumer finding, below data loss."""
REASON_CHARACTERS = 600


def schema_incompatible(facts: Facts) -> list[Finding]:
    findings = []
    for check in facts.schema_checks:
        if check.compatible or check.latest_version is None:
            continue
        why = ("; ".join(check.messages) or "the registry gave no reason")[:REASON_CHARACTERS]
        findings.append(
            Finding(
                kind=FindingKind.SCHEMA_INCOMPATIBLE,
                severity=Severity.HIGH,
                score=SCHEMA_INCOMPATIBLE_SCORE,
                subject=f"topic/{check.topic}",
                topic=check.topic,
                summary=(
                    f"the schema registry refuses the producer's {check.schema_type.value} "
                    f"schema for subject {check.subject}: it is not compatible with version "
                    f"{check.latest_version} (id {check.latest_id}) under the subject's "
                    f"{check.compatibility_level or 'unknown'} rule, so registering it fails "
                    f"with 409 Conflict and the producer writes nothing ({why}). The producer's "
                    "schema must change (a compatible evolution, or a new subject); no Kafka "
                    "change fixes it"
                ),
                evidence=[compatibility_evidence(check)],
            )
        )
    return findings


def schema_changed(facts: Facts) -> list[Finding]:
    lagging = {t.topic for row in group_rows(facts) for t in row.topics if t.total_lag > 0}
    since = facts.now - timedelta(minutes=facts.thresholds.rollout_window_minutes)
    findings = []
    for topic, history in sorted(facts.schemas.items()):
        recent = [
            (s.subject, v)
            for s in history.subjects
            for v in s.versions
            if v.registered_at is not None and v.registered_at >= since and v.version > 1
        ]
        if topic not in lagging or not recent:
            continue
        subject, version = max(recent, key=lambda r: r[1].registered_at or since)
        assert version.registered_at is not None
        minutes = (facts.now - version.registered_at).total_seconds() / 60
        findings.append(
            Finding(
                kind=FindingKind.SCHEMA_CHANGED,
                severity=Severity.MEDIUM,
                score=60.0,
                subject=f"topic/{topic}",
                topic=topic,
                summary=(
                    f"{subject} got schema version {version.version} {minutes:.0f} min ago and "
                    f"consumers of {topic} lag: check that they read the new schema"
                ),
                evidence=[schema_evidence(history)],
            )
        )
    return findings
