"""Detector on Strimzi drift: Kafka differs from the KafkaTopic or KafkaUser that manages it.

Strimzi settles every such difference its own way at its next reconciliation (the Topic
Operator resyncs every 120 s by default): a retention raised by hand is set back, an
override nobody listed is deleted, the ACLs of a user no KafkaUser claims disappear. In
an incident that is a change about to happen, or the one that just did.
"""

from collections import defaultdict

from kcr.mcp.diagnosis.findings import Facts, Finding, FindingKind, Severity
from kcr.model import Evidence, EvidenceKind, TimeWindow
from kcr.policy.strimzi_drift import DriftRow

DRIFT_SCORE = 68.0
STRIPPED_SCORE = 76.0
"""Deleting a user's ACLs cuts its clients off: above drift that only resets a value."""
MAX_ROWS_SHOWN = 20


def strimzi_drift(facts: Facts) -> list[Finding]:
    observed_at = facts.strimzi_observed_at
    if observed_at is None:
        return []
    by_subject: dict[str, list[DriftRow]] = defaultdict(list)
    for row in facts.strimzi_drift:
        by_subject[row.subject].append(row)
    return [_finding(facts, subject, rows) for subject, rows in sorted(by_subject.items())]


def _finding(facts: Facts, subject: str, rows: list[DriftRow]) -> Finding:
    assert facts.strimzi_observed_at is not None
    topic = subject.removeprefix("topic ") if subject.startswith("topic ") else None
    stripped = any(r.resource == "no KafkaUser" for r in rows)
    first = rows[0]
    more = f" (and {len(rows) - 1} more difference(s))" if len(rows) > 1 else ""
    summary = (
        f"{first.resource} and Kafka differ on {subject}: at its next reconciliation "
        f"{first.action}{more}"
    )
    evidence = Evidence(
        kind=EvidenceKind.ACL if first.acl or stripped else EvidenceKind.CONFIG,
        source=facts.strimzi_source[:256],
        query=f"strimzi_drift {'topic=' + topic if topic else 'principal=' + subject}",
        observed_value="; ".join(
            f"{r.spec_path}: Strimzi {r.strimzi or '(unset)'}, Kafka {r.kafka or '(none)'}"
            for r in rows[:MAX_ROWS_SHOWN]
        )[:4096],
        time_window=TimeWindow.at(facts.strimzi_observed_at),
        captured_at=facts.strimzi_observed_at,
    )
    return Finding(
        kind=FindingKind.STRIMZI_DRIFT,
        severity=Severity.HIGH if stripped else Severity.MEDIUM,
        score=STRIPPED_SCORE if stripped else DRIFT_SCORE,
        subject=f"topic/{topic}" if topic else f"principal/{subject}",
        topic=topic,
        summary=summary,
        evidence=[evidence],
    )
