"""Detector on replica moves: a reassignment in progress on the topics in question.

A move copies a partition's whole log to new brokers; until it ends, that traffic competes
with producers and consumers on the same disks and network (and, when throttled, it lasts
longer). In a lag incident it is a cause to rule in or out before touching the consumers.
"""

from kcr.mcp.diagnosis.findings import Facts, Finding, FindingKind, Severity, source
from kcr.model import Evidence, EvidenceKind, TimeWindow

MOVE_SCORE = 70.0


def reassignments_in_progress(facts: Facts) -> list[Finding]:
    if facts.reassignments is None:
        return []
    by_topic: dict[str, list[str]] = {}
    for move in facts.reassignments.reassignments:
        by_topic.setdefault(move.topic, []).append(
            f"{move.topic}/{move.partition} replicas {move.replicas}, adding {move.adding}, "
            f"removing {move.removing}"
        )
    observed_at = facts.reassignments.observed_at
    return [
        Finding(
            kind=FindingKind.REASSIGNMENT_IN_PROGRESS,
            severity=Severity.MEDIUM,
            score=MOVE_SCORE,
            subject=f"topic/{topic}",
            topic=topic,
            summary=(
                f"{len(moves)} partition(s) of {topic} are being reassigned: copying their "
                "logs to new brokers competes with producers and consumers until it ends"
            ),
            evidence=[
                Evidence(
                    kind=EvidenceKind.METADATA,
                    source=source(facts, "ListPartitionReassignments"),
                    query=f"list_reassignments topic={topic}",
                    observed_value="; ".join(moves[:20])[:4096],
                    time_window=TimeWindow.at(observed_at),
                    captured_at=observed_at,
                )
            ],
        )
        for topic, moves in sorted(by_topic.items())
    ]
