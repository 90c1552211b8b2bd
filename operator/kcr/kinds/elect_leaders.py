"""ElectLeaders: a preferred leader election, which ends leader skew.

Each partition's first replica is its preferred leader; after a broker restarts, the
others keep leading and the load stays skewed until an election. Nothing moves but
leadership: no records are copied, clients reconnect to the new leaders.

A rollback does not move leadership back. The preferred replica leading is Kafka's normal
state (its auto leader rebalance moves it there too); leading from another broker means
reordering the replicas, which is a ReassignPartitions change of its own.
"""

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from kcr.kafka.errors import InvalidRequestError, KafkaPortError
from kcr.kafka.readmodel import TopicPartition
from kcr.kafka.replica_model import ElectionOutcome
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts
from kcr.kinds.placement import placement_snapshot
from kcr.model import (
    Assessment,
    BlastRadius,
    ClusterPolicy,
    DataMovement,
    Facts,
    Inverse,
    ObservedReplicaSet,
    ObservedState,
    ObservedTopic,
    Risk,
    Storage,
)
from kcr.model.base import KubeModel
from kcr.model.change import MAX_PARTITIONS, MAX_TOPICS_PER_CHANGE
from kcr.model.names import TopicName
from kcr.policy.limits import missing_topics, too_many_topics

NOT_RESTORED = (
    "leadership is not moved back to the old leaders: the preferred replica leading is "
    "Kafka's normal state, and its auto leader rebalance would move it there again; to lead "
    "from another broker, reorder the replicas with a ReassignPartitions change"
)
NOT_IN_ISR = "PREFERRED_LEADER_NOT_AVAILABLE"


class ElectionTopic(KubeModel):
    topic: TopicName
    partitions: Annotated[
        list[Annotated[int, Field(ge=0, le=MAX_PARTITIONS - 1)]],
        Field(
            max_length=MAX_PARTITIONS,
            description="Partitions to elect; every partition of the topic when empty",
            json_schema_extra={"x-kubernetes-list-type": "set"},
        ),
    ] = Field(default_factory=list)

    @field_validator("partitions")
    @classmethod
    def _once(cls, partitions: list[int]) -> list[int]:
        repeated = sorted({p for p in partitions if partitions.count(p) > 1})
        if repeated:
            raise ValueError(f"each partition may appear once; repeated: {repeated}")
        return partitions


class ElectLeaders(KubeModel):
    topics: Annotated[
        list[ElectionTopic],
        Field(
            min_length=1,
            max_length=MAX_TOPICS_PER_CHANGE,
            json_schema_extra={
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["topic"],
            },
        ),
    ]

    @field_validator("topics")
    @classmethod
    def _topics_once(cls, topics: list[ElectionTopic]) -> list[ElectionTopic]:
        names = [t.topic for t in topics]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"each topic may appear once; repeated: {', '.join(repeated)}")
        return topics

    def chosen(self, topic: str, seen: ObservedTopic) -> list[ObservedReplicaSet]:
        """The observed partitions the election covers."""
        entry = next(t for t in self.topics if t.topic == topic)
        wanted = set(entry.partitions)
        return [p for p in seen.assignment or [] if not wanted or p.partition in wanted]


class ElectLeadersKind(KindBase[ElectLeaders]):
    model = ElectLeaders

    def topics(self, member: ElectLeaders) -> list[str]:
        return [t.topic for t in member.topics]

    def describe(self, member: ElectLeaders) -> str:
        parts = [
            f"{t.topic} ({len(t.partitions)} partitions)" if t.partitions else t.topic
            for t in member.topics
        ]
        return f"elect the preferred leaders of {', '.join(parts)}"

    def blast_radius(self, member: ElectLeaders, observed: ObservedState | None) -> BlastRadius:
        """The partitions whose leader changes, when the observed state shows them."""
        found = super().blast_radius(member, observed)
        if observed is None:
            return found
        return found.model_copy(update={"partitions": len(_skewed(member, observed))})

    def data_movement(
        self, member: ElectLeaders, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        moving = _skewed(member, observed) if observed else None
        count = "the partitions" if moving is None else f"{len(moving)} partition(s)"
        return DataMovement(
            bytes=0,
            summary=f"no records move: leadership of {count} moves to their preferred "
            "replicas, whose clients reconnect to the new leaders",
        )

    def limit_violations(
        self,
        member: ElectLeaders,
        where: str,
        observed: ObservedState | None,
        policy: ClusterPolicy,
    ) -> list[str]:
        names = self.topics(member)
        found = too_many_topics(len(names), f"{where}.topics", policy)
        found += missing_topics(names, f"{where}.topics", observed)
        for index, entry in enumerate(member.topics):
            seen = observed.topic(entry.topic) if observed else None
            beyond = [p for p in entry.partitions if seen and seen.exists and p >= seen.partitions]
            if seen is not None and beyond:
                found.append(
                    f"{where}.topics[{index}].partitions: {entry.topic} has {seen.partitions} "
                    f"partitions (0 to {seen.partitions - 1}); {beyond[:10]} do not exist"
                )
        return found

    def risk(self, member: ElectLeaders, observed: ObservedState | None) -> Assessment:
        moving = _skewed(member, observed) if observed else None
        if moving == []:
            return Assessment(
                Risk.LOW, ["every partition is already led by its preferred replica: no change"]
            )
        count = "leadership" if moving is None else f"leadership of {len(moving)} partition(s)"
        return Assessment(
            Risk.MEDIUM,
            [
                f"{count} moves to the preferred replicas: producers and consumers of those "
                "partitions reconnect to the new leaders"
            ],
        )

    def warnings(self, member: ElectLeaders, observed: ObservedState | None) -> list[str]:
        if observed is None:
            return []
        behind = [
            f"{topic}/{p.partition}"
            for topic, p in _skewed(member, observed)
            if p.replicas and p.replicas[0] not in p.isr
        ]
        if not behind:
            return []
        return [
            f"the preferred replica of {', '.join(behind[:10])} is not in sync: Kafka refuses "
            "its election until it catches up, and the step waits for it"
        ]

    def topic_facts(self, member: ElectLeaders, seen: ObservedTopic) -> Facts:
        """Which broker each partition prefers: reordered replicas elect someone else."""
        preferred = [
            f"{p.partition}:{p.replicas[0]}" for p in member.chosen(seen.name, seen) if p.replicas
        ]
        return {f"topic {seen.name}: preferred leaders": " ".join(preferred)}

    def left_facts(self, member: ElectLeaders, state: ObservedState) -> Facts:
        return {}

    def undo(self, undo_id: str, member: ElectLeaders, snapshot: ObservedState | None) -> Inverse:
        return Inverse(None, [NOT_RESTORED])

    async def snapshot(
        self, ports: StepPorts, member: ElectLeaders, now: datetime
    ) -> ObservedState:
        return await placement_snapshot(ports.kafka, self.topics(member), now, sizes=False)

    async def apply(
        self, ports: StepPorts, member: ElectLeaders, snapshot: ObservedState | None
    ) -> ApplyResult:
        """Elect only the partitions not led by their preferred replica; a preferred replica
        out of the ISR is "not yet" (retriable) until the step timeout."""
        kafka = ports.kafka
        skewed = []
        for info in await kafka.describe_topics(self.topics(member)):
            entry = next(t for t in member.topics if t.topic == info.name)
            for partition in info.partitions:
                chosen = not entry.partitions or partition.partition in entry.partitions
                if chosen and partition.replicas and partition.leader != partition.replicas[0]:
                    skewed.append(TopicPartition(topic=info.name, partition=partition.partition))
        if not skewed:
            return self.result(member, False, ["every partition is led by its preferred replica"])
        results = await kafka.elect_leaders(skewed)
        failed = [r for r in results if not r.succeeded]
        if failed:
            words = "; ".join(
                f"{r.topic}/{r.partition}: {r.code} {r.message or ''}" for r in failed
            )
            if all(r.code == NOT_IN_ISR for r in failed):
                raise _NotInSyncError(words)
            raise InvalidRequestError(f"Kafka refused the election of {words}")
        elected = [
            f"{r.topic}/{r.partition}" for r in results if r.outcome is ElectionOutcome.ELECTED
        ]
        shown = ", ".join(elected[:20]) + (
            f" and {len(elected) - 20} more" if len(elected) > 20 else ""
        )
        return self.result(
            member, bool(elected), [f"led by the preferred replica now: {shown or 'all already'}"]
        )


class _NotInSyncError(KafkaPortError):
    """The preferred replica is behind: it may catch up, so the step is asked again."""

    retriable = True

    def __init__(self, words: str) -> None:
        super().__init__(
            f"the preferred replica is not in sync yet ({words}); waiting for it to catch up",
            code=NOT_IN_ISR,
        )


def _skewed(
    member: ElectLeaders, observed: ObservedState | None
) -> list[tuple[str, ObservedReplicaSet]]:
    """The chosen partitions led by another broker than their first replica."""
    found = []
    for entry in member.topics:
        seen = observed.topic(entry.topic) if observed else None
        if seen is None or not seen.exists:
            continue
        found += [
            (entry.topic, p)
            for p in member.chosen(entry.topic, seen)
            if p.replicas and p.leader != p.replicas[0]
        ]
    return found


KIND = ElectLeadersKind()
