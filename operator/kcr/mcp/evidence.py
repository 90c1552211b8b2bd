"""Evidence a draft relied on: what the caller was shown, and what the snapshot says.

Read tools record the evidence behind their answers per caller; a later draft attaches
the records about the same topics and groups, so ``spec.evidence`` shows what the
assistant looked at before it proposed the change. The model cannot add evidence of its
own: everything here was read by the server.
"""

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from kcr.model import Evidence, EvidenceKind, ObservedState, ObservedTopic, TimeWindow
from kcr.model.request import MAX_EVIDENCE

PER_CALLER = 200
PLACEMENTS_SHOWN = 20
MAX_CALLERS = 1000
MAX_AGE = timedelta(hours=2)


def topic_subject(topic: str) -> str:
    return f"topic:{topic}"


def group_subject(group: str) -> str:
    return f"group:{group}"


def principal_subject(principal: str) -> str:
    """A principal whose ACLs (or KafkaUser) a tool showed."""
    return f"principal:{principal}"


def quota_subject(entity: str) -> str:
    """A client quota entity, as :func:`kcr.kafka.quota_model.entity_label` writes it."""
    return f"quota:{entity}"


@dataclass(frozen=True)
class _Entry:
    subjects: frozenset[str]
    evidence: Evidence


class EvidenceLedger:
    def __init__(self) -> None:
        self._entries: dict[str, deque[_Entry]] = {}

    def record(self, principal: str, subjects: set[str], evidence: list[Evidence]) -> None:
        if principal not in self._entries and len(self._entries) >= MAX_CALLERS:
            self._entries.pop(next(iter(self._entries)))
        kept = self._entries.setdefault(principal, deque(maxlen=PER_CALLER))
        for item in evidence:
            kept.append(_Entry(frozenset(subjects), item))

    def relevant(self, principal: str, subjects: set[str], now: datetime) -> list[Evidence]:
        """Newest first, one per distinct observation, bounded by ``MAX_AGE``."""
        seen: set[tuple[str, str, str]] = set()
        found = []
        for entry in reversed(self._entries.get(principal, ())):
            if not entry.subjects & subjects or entry.evidence.captured_at < now - MAX_AGE:
                continue
            key = (entry.evidence.kind, entry.evidence.query, entry.evidence.observed_value)
            if key not in seen:
                seen.add(key)
                found.append(entry.evidence)
        return found


def snapshot_evidence(cluster: str, observed: ObservedState, withheld: int = 0) -> list[Evidence]:
    """The live state the draft captured, as evidence lines a reviewer can read.

    ``withheld`` counts consumer groups left out of ``observed`` because the reader may not
    see them; the line about consumers says how many there are.
    """
    source = f"kafka/{cluster}: snapshot"
    found = []
    for topic in observed.topics:
        if not topic.exists:
            value = f"topic {topic.name} does not exist"
        else:
            configs = ", ".join(
                f"{k}={v.value if v.value is not None else '(sensitive)'} ({v.source})"
                for k, v in sorted(topic.configs.items())
            )
            value = (
                f"topic {topic.name}: {topic.partitions} partitions, replication factor "
                f"{topic.replication_factor}" + (f"; {configs}" if configs else "")
            ) + _placement(topic)
        found.append(
            _evidence(EvidenceKind.METADATA, source, f"topic {topic.name}", value, observed)
        )
    for group in observed.consumer_groups:
        lag = sum(p.lag or 0 for p in group.partitions)
        value = (
            f"group {group.group}: {group.state}, {group.members} member(s), lag {lag} over "
            f"{len(group.partitions)} partition(s)"
        )
        found.append(
            _evidence(EvidenceKind.CONSUMER_GROUP, source, f"group {group.group}", value, observed)
        )
    if observed.consumers_of_topics or withheld:
        named = ", ".join(observed.consumers_of_topics) or "none in your scope"
        value = f"consumer groups of the affected topics: {named}"
        if withheld:
            value += f"; and {withheld} outside your scope"
        found.append(_evidence(EvidenceKind.LAG, source, "consumers of topics", value, observed))
    if observed.acls:
        value = "existing bindings: " + "; ".join(b.key() for b in observed.acls)
        found.append(
            _evidence(EvidenceKind.ACL, source, "bindings named by the change", value, observed)
        )
    return found


def _placement(topic: ObservedTopic) -> str:
    """Where a replica move or an election starts from: replicas, leaders, sizes."""
    placed = topic.assignment
    if not placed:
        return ""
    skewed = [p for p in placed if p.replicas and p.leader != p.replicas[0]]
    shown = " ".join(
        f"{p.partition}:{','.join(map(str, p.replicas))}(leader {p.leader}"
        + (f", {p.bytes} bytes" if p.bytes is not None else "")
        + ")"
        for p in placed[:PLACEMENTS_SHOWN]
    )
    more = len(placed) - PLACEMENTS_SHOWN
    return (
        f"; {len(skewed)} of {len(placed)} observed partition(s) not led by their "
        f"preferred replica; replicas: {shown}" + (f" and {more} more" if more > 0 else "")
    )


def _evidence(
    kind: EvidenceKind, source: str, query: str, value: str, observed: ObservedState
) -> Evidence:
    return Evidence(
        kind=kind,
        source=source,
        query=query,
        observed_value=value[:4096],
        time_window=TimeWindow.at(observed.captured_at),
        captured_at=observed.captured_at,
    )


def combined(snapshot: list[Evidence], shown: list[Evidence]) -> list[Evidence]:
    """The snapshot first (it is what the plan rests on), then what the caller was shown."""
    return [*snapshot, *shown][:MAX_EVIDENCE]
