"""Detector on schema history: a new schema version shortly before consumers lag.

A producer that starts writing with a new schema can break or slow consumers that read
the old one (deserialisation errors, retries, a dead letter path). A version registered
inside the rollout window of a topic whose consumers lag is a lead worth citing.
"""

from datetime import timedelta

from kcr.mcp.diagnosis.findings import Facts, Finding, FindingKind, Severity, group_rows
from kcr.mcp.schemas import schema_evidence


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
