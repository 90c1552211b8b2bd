"""IncreasePartitions: more partitions for a topic. Kafka cannot remove them again.

Irreversible, and keys hash to other partitions afterwards, so per-key ordering breaks
across the change.
"""

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from kcr.kafka.errors import ConflictError
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts
from kcr.model import (
    Assessment,
    ClusterPolicy,
    DataMovement,
    Inverse,
    ObservedState,
    Risk,
    Stage,
    Storage,
)
from kcr.model.base import KubeModel
from kcr.model.change import MAX_PARTITIONS
from kcr.model.names import TopicName
from kcr.model.strimzi import ResourceEdit
from kcr.plan.steps import make_step
from kcr.policy.limits import missing_topics
from kcr.policy.strimzi_specs import topic_partitions_edit


class IncreasePartitions(KubeModel):
    topic: TopicName
    partitions: Annotated[
        int,
        Field(
            ge=2,
            le=MAX_PARTITIONS,
            description="The new total number of partitions (Kafka can only add partitions)",
        ),
    ]


class IncreasePartitionsKind(KindBase[IncreasePartitions]):
    model = IncreasePartitions
    partitions_are_a_fact = True

    def describe(self, member: IncreasePartitions) -> str:
        return f"increase partitions of {member.topic} to {member.partitions}"

    def data_movement(
        self, member: IncreasePartitions, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        return DataMovement(
            bytes=0,
            summary="no records move now, but from now on keys map to other partitions: new "
            "records of a key may land on a different partition than its older ones",
        )

    def limit_violations(
        self,
        member: IncreasePartitions,
        where: str,
        observed: ObservedState | None,
        policy: ClusterPolicy,
    ) -> list[str]:
        found = missing_topics([member.topic], f"{where}.topic", observed)
        if member.partitions > policy.limits.max_partitions:
            found.append(
                f"{where}.partitions: {member.partitions} is above this cluster's limit of "
                f"{policy.limits.max_partitions} partitions per topic "
                "(policy.limits.maxPartitions)"
            )
        seen = observed.topic(member.topic) if observed else None
        if seen is not None and seen.exists and member.partitions <= seen.partitions:
            found.append(
                f"{where}.partitions: the new total {member.partitions} must be more than the "
                f"current {seen.partitions}; Kafka can only add partitions"
            )
        return found

    def risk(self, member: IncreasePartitions, observed: ObservedState | None) -> Assessment:
        seen = observed.topic(member.topic) if observed else None
        before = f"{seen.partitions}" if seen and seen.exists else "the current count"
        return Assessment(
            Risk.HIGH,
            ["adds partitions, which moves keys to other partitions"],
            [
                f"Kafka cannot remove partitions: going from {before} to {member.partitions} "
                f"partitions on {member.topic} is permanent, and records with the same key "
                "land on a different partition afterwards, so per-key ordering breaks across "
                "the change"
            ],
        )

    def stages(self, member: IncreasePartitions, canary: int, batch_size: int) -> list[Stage]:
        step = make_step("increase-partitions", member, irreversible=True)
        return [Stage(name="apply", steps=[step])]

    def undo(
        self, undo_id: str, member: IncreasePartitions, snapshot: ObservedState | None
    ) -> Inverse:
        return Inverse(
            None,
            [
                f"partitions added to {member.topic} cannot be removed; a rollback leaves "
                f"{member.partitions} partitions"
            ],
        )

    async def apply(
        self, ports: StepPorts, member: IncreasePartitions, snapshot: ObservedState | None
    ) -> ApplyResult:
        """Already applied at the target count; ``ConflictError`` when the topic has more."""
        (topic,) = await ports.kafka.describe_topics([member.topic])
        current = topic.partition_count
        if current == member.partitions:
            return self.result(member, False, [f"{member.topic} already has {current} partitions"])
        if current > member.partitions:
            raise ConflictError(
                f"{member.topic} has {current} partitions, more than the requested "
                f"{member.partitions}; Kafka cannot remove partitions"
            )
        await ports.kafka.add_partitions(member.topic, member.partitions)
        return self.result(
            member, True, [f"{member.topic}: {current} → {member.partitions} partitions"]
        )

    def strimzi_topic_edit(
        self, member: IncreasePartitions, topic: str, spec: Mapping[str, Any]
    ) -> ResourceEdit:
        return topic_partitions_edit(spec, member.partitions)


KIND = IncreasePartitionsKind()
