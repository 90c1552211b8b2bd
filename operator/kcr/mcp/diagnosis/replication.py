"""Detectors on partition metadata: offline, under-replicated, uneven leadership."""

from kcr.mcp.diagnosis.findings import (
    Facts,
    Finding,
    FindingKind,
    Severity,
    metadata_evidence,
)


def offline_partitions(facts: Facts) -> list[Finding]:
    findings = []
    for topic in facts.topics:
        offline = [p for p in topic.partitions if p.offline]
        if not offline:
            continue
        listed = ", ".join(f"{p.partition} (replicas {p.replicas})" for p in offline[:20])
        findings.append(
            Finding(
                kind=FindingKind.OFFLINE_PARTITIONS,
                severity=Severity.CRITICAL,
                score=100.0,
                subject=f"topic/{topic.name}",
                topic=topic.name,
                summary=(
                    f"{len(offline)} partition(s) of {topic.name} have no leader: producers and "
                    "consumers of them fail right now"
                ),
                evidence=[
                    metadata_evidence(
                        facts, f"describe_topic {topic.name}", f"leaderless: {listed}"
                    )
                ],
            )
        )
    return findings


def _min_insync(facts: Facts, topic: str) -> int:
    configs = facts.configs.get(topic)
    value = configs.value("min.insync.replicas") if configs else None
    return int(value) if value is not None and value.isdigit() else 1


def under_replicated(facts: Facts) -> list[Finding]:
    findings = []
    for topic in facts.topics:
        shrunk = [p for p in topic.partitions if p.under_replicated and not p.offline]
        if not shrunk:
            continue
        minimum = _min_insync(facts, topic.name)
        below = [p for p in shrunk if len(p.isr) < minimum]
        listed = ", ".join(f"{p.partition} isr {p.isr} of {p.replicas}" for p in shrunk[:20])
        summary = f"{len(shrunk)} partition(s) of {topic.name} are under-replicated"
        if below:
            summary += (
                f"; {len(below)} have fewer in-sync replicas than min.insync.replicas={minimum}, "
                "so producers with acks=all are refused"
            )
        findings.append(
            Finding(
                kind=FindingKind.UNDER_REPLICATED,
                severity=Severity.CRITICAL if below else Severity.HIGH,
                score=90.0 if below else 80.0,
                subject=f"topic/{topic.name}",
                topic=topic.name,
                summary=summary,
                evidence=[metadata_evidence(facts, f"describe_topic {topic.name}", listed)],
            )
        )
    return findings


def leader_skew(facts: Facts) -> list[Finding]:
    if len(facts.brokers) < 2:
        return []
    leaders = dict.fromkeys(facts.brokers, 0)
    for topic in facts.topics:
        for partition in topic.partitions:
            if partition.leader is not None:
                leaders[partition.leader] = leaders.get(partition.leader, 0) + 1
    total = sum(leaders.values())
    if total < len(leaders):
        return []
    mean = total / len(leaders)
    busiest = max(leaders, key=lambda b: (leaders[b], -b))
    ratio = leaders[busiest] / mean
    if ratio < facts.thresholds.leader_skew_ratio:
        return []
    names = ", ".join(t.name for t in facts.topics[:10])
    return [
        Finding(
            kind=FindingKind.LEADER_SKEW,
            severity=Severity.LOW,
            score=30.0,
            subject=f"broker/{busiest}",
            summary=(
                f"broker {busiest} leads {leaders[busiest]} of {total} partitions "
                f"({ratio:.1f}x the mean): its load is uneven; a preferred leader election "
                "usually rebalances leadership"
            ),
            evidence=[
                metadata_evidence(
                    facts,
                    f"partition_skew topics={names}",
                    "leaders per broker: "
                    + ", ".join(f"{b}={n}" for b, n in sorted(leaders.items())),
                )
            ],
        )
    ]
