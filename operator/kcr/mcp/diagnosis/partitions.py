"""Detector on how a topic's bytes spread over its partitions: a partition producers favour.

The default partitioner sends every record of a key to the same partition, so one key that
dominates the traffic (one customer, one tenant, a constant key) makes one partition take
most of the bytes while its siblings idle: its leader's disk and network, and the one
consumer that reads it, carry the topic. The sizes are the brokers' own (DescribeLogDirs,
the largest replica of each partition). No Kafka change is proposed: adding partitions does
not split a key (it still hashes to one partition) and remaps the other keys, breaking
per-key order while the change happens; the fix is the producer's key or partitioner.
"""

from kcr.kinds.replica_model import size
from kcr.mcp.diagnosis.findings import Facts, Finding, FindingKind, LogSizes, Severity
from kcr.model import Evidence, EvidenceKind, TimeWindow

BASE_SCORE = 58.0
SHARE_WEIGHT = 6.0
MAX_LISTED = 20


def hot_partitions_by_size(facts: Facts) -> list[Finding]:
    if facts.log_sizes is None:
        return []
    largest = _largest_replicas(facts.log_sizes)
    factor = facts.thresholds.hot_partition_bytes_factor
    floor = facts.thresholds.hot_partition_min_bytes
    findings = []
    for topic in facts.topics:
        sizes = {p.partition: largest.get((topic.name, p.partition), 0) for p in topic.partitions}
        total = sum(sizes.values())
        if len(sizes) < 2 or not total:
            continue
        for partition, held in sorted(sizes.items()):
            mean = (total - held) / (len(sizes) - 1)
            if held < floor or held < factor * mean:
                continue
            share = held / total
            findings.append(
                Finding(
                    kind=FindingKind.HOT_PARTITION,
                    severity=Severity.MEDIUM,
                    score=round(BASE_SCORE + SHARE_WEIGHT * share, 2),
                    subject=f"{topic.name}/{partition}",
                    topic=topic.name,
                    summary=(
                        f"partition {topic.name}/{partition} holds {size(held)} of the "
                        f"{size(total)} of {topic.name} ({share:.0%}; its siblings average "
                        f"{size(mean)}): producers send most records to it, usually one hot "
                        "key. More partitions do not split a key; fix the key or the "
                        "partitioner in the producer"
                    ),
                    evidence=[_evidence(facts.log_sizes, topic.name, sizes)],
                )
            )
    return findings


def _largest_replicas(sizes: LogSizes) -> dict[tuple[str, int], int]:
    """A follower catching up holds less than its leader; a future copy is not served."""
    found: dict[tuple[str, int], int] = {}
    for replica in sizes.replicas:
        if replica.future:
            continue
        key = (replica.topic, replica.partition)
        found[key] = max(found.get(key, 0), replica.size)
    return found


def _evidence(sizes: LogSizes, topic: str, held: dict[int, int]) -> Evidence:
    ranked = sorted(held.items(), key=lambda item: -item[1])[:MAX_LISTED]
    return Evidence(
        kind=EvidenceKind.METADATA,
        source=sizes.source[:256],
        query=f"log_dir_sizes topic={topic}",
        observed_value="; ".join(f"{topic}/{p} {b} bytes" for p, b in ranked)[:4096],
        time_window=TimeWindow.at(sizes.observed_at),
        captured_at=sizes.observed_at,
    )
