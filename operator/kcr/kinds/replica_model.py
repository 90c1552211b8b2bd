"""What replica moves are made of: a partition's target brokers, a topic's targets, and the
rate they copy at. Shared by the move itself and by the throttle steps around each batch."""

from collections.abc import Iterator
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from kcr.crd.rules import Rule
from kcr.model import ObservedReplicaSet, ObservedState
from kcr.model.base import KubeModel
from kcr.model.change import MAX_PARTITIONS, MAX_REPLICATION_FACTOR, MAX_TOPICS_PER_CHANGE
from kcr.model.names import TopicName

BrokerId = Annotated[int, Field(ge=0, le=2**31 - 1, description="A broker's node.id")]
MIN_THROTTLE = 1024
MAX_THROTTLE = 2**40
ThrottleRate = Annotated[
    int,
    Field(
        ge=MIN_THROTTLE,
        le=MAX_THROTTLE,
        description="Replication throttle in bytes per second, set as both the leader and the "
        "follower rate on every broker a batch involves",
    ),
]
BrokerList = Annotated[
    list[BrokerId],
    Field(
        min_length=1,
        max_length=MAX_REPLICATION_FACTOR,
        description="Target brokers, each once; the first is the preferred leader",
    ),
]


class PartitionReplicas(KubeModel):
    partition: Annotated[int, Field(ge=0, le=MAX_PARTITIONS - 1)]
    replicas: BrokerList

    @field_validator("replicas")
    @classmethod
    def _each_broker_once(cls, replicas: list[int]) -> list[int]:
        repeated = sorted({b for b in replicas if replicas.count(b) > 1})
        if repeated:
            raise ValueError(
                f"broker {', '.join(map(str, repeated))} appears more than once: a broker holds "
                "at most one replica of a partition"
            )
        return replicas


class TopicReplicas(KubeModel):
    topic: TopicName
    replication_factor: Annotated[int, Field(ge=1, le=MAX_REPLICATION_FACTOR)] | None = Field(
        default=None,
        description="The replication factor the topic ends with; every partition of the topic "
        "is then listed, each with this many brokers",
    )
    partitions: Annotated[
        list[PartitionReplicas],
        Field(
            min_length=1,
            max_length=MAX_PARTITIONS,
            json_schema_extra={
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["partition"],
            },
        ),
    ]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen = [p.partition for p in self.partitions]
        repeated = sorted({p for p in seen if seen.count(p) > 1})
        if repeated:
            raise ValueError(
                f"partitions: each partition may appear once; repeated: "
                f"{', '.join(map(str, repeated))}"
            )
        rf = self.replication_factor
        wrong = [p.partition for p in self.partitions if rf is not None and len(p.replicas) != rf]
        if wrong:
            raise ValueError(
                f"replicationFactor is {rf}, but partition(s) {', '.join(map(str, wrong[:10]))} "
                f"of {self.topic} list another number of brokers"
            )
        return self


REPLICATION_FACTOR_RULE = Rule(
    "self.topics.all(t, !has(t.replicationFactor) || "
    "t.partitions.all(p, size(p.replicas) == t.replicationFactor))",
    "a topic with replicationFactor lists that many brokers for each of its partitions",
    spec_only=True,
)
"""On the change only (it visits every partition): plans repeat members in every step."""

TopicTargets = Annotated[
    list[TopicReplicas],
    Field(
        min_length=1,
        max_length=MAX_TOPICS_PER_CHANGE,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["topic"],
        },
    ),
]


def check_topics_once(topics: list[TopicReplicas]) -> list[TopicReplicas]:
    names = [t.topic for t in topics]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(
            f"each topic may appear once (list all its partitions there); repeated: "
            f"{', '.join(repeated)}"
        )
    return topics


def targets(topics: list[TopicReplicas]) -> Iterator[tuple[str, PartitionReplicas]]:
    """Every (topic, partition target), in the order the spec lists them."""
    for topic in topics:
        for partition in topic.partitions:
            yield topic.topic, partition


def placements(observed: ObservedState | None, topic: str) -> dict[int, ObservedReplicaSet]:
    """The observed placement of each partition of ``topic`` (empty when not read)."""
    seen = observed.topic(topic) if observed else None
    return {p.partition: p for p in seen.assignment or []} if seen and seen.exists else {}


def group_by_topic(pairs: list[tuple[str, PartitionReplicas]]) -> list[TopicReplicas]:
    """Targets back into per-topic entries, topics in first-seen order."""
    grouped: dict[str, list[PartitionReplicas]] = {}
    for topic, partition in pairs:
        grouped.setdefault(topic, []).append(partition)
    return [TopicReplicas(topic=t, partitions=ps) for t, ps in grouped.items()]


def size(value: float) -> str:
    """Bytes in binary units, about two significant figures: ``1.2 GiB``, ``340 MiB``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    unit = units[0]
    for unit in units:
        if value < 1024 or unit == units[-1]:
            break
        value /= 1024
    if unit == "B":
        return f"{int(value)} B"
    return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"


def duration(seconds: int) -> str:
    """``45s``, ``12m``, ``3h 20m``: how long a move takes, for reviewers."""
    if seconds < 60:
        return f"{seconds}s"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, rest = divmod(minutes, 60)
    return f"{hours}h {rest}m" if rest else f"{hours}h"
