"""DeleteTopic: the topic and every record in it. Irreversible and CRITICAL."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kcr.kafka.results import ApplyResult
from kcr.kinds.base import CONTEXT_KEYS, KindBase, StepPorts
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
from kcr.model.names import TopicName
from kcr.model.strimzi import ResourceEdit
from kcr.plan.steps import make_step
from kcr.policy.limits import missing_topics
from kcr.policy.strimzi_specs import topic_deleted_edit


class DeleteTopic(KubeModel):
    topic: TopicName


class DeleteTopicKind(KindBase[DeleteTopic]):
    model = DeleteTopic
    partitions_are_a_fact = True

    def describe(self, member: DeleteTopic) -> str:
        return f"delete topic {member.topic} and all its data"

    def data_movement(
        self, member: DeleteTopic, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        return DataMovement(bytes=0, summary="no records move: every record is deleted")

    def limit_violations(
        self,
        member: DeleteTopic,
        where: str,
        observed: ObservedState | None,
        policy: ClusterPolicy,
    ) -> list[str]:
        return missing_topics([member.topic], f"{where}.topic", observed)

    def risk(self, member: DeleteTopic, observed: ObservedState | None) -> Assessment:
        seen = observed.topic(member.topic) if observed else None
        size = f"its {seen.partitions} partitions and " if seen and seen.exists else ""
        return Assessment(
            Risk.CRITICAL,
            ["deletes a topic"],
            [
                f"deleting topic {member.topic} destroys {size}every record in it; recreating "
                "the topic brings back an empty one"
            ],
        )

    def assess_undo(
        self, member: DeleteTopic, live: ObservedState, policy: ClusterPolicy
    ) -> Assessment:
        """Undoing a CreateTopic deletes whatever the topic holds by now."""
        found = self.assess(member, live, policy)
        return Assessment(
            found.risk, [*found.reasons, _holds(member.topic, live)], found.irreversible
        )

    def stages(self, member: DeleteTopic, canary: int, batch_size: int) -> list[Stage]:
        return [Stage(name="apply", steps=[make_step("delete-topic", member, irreversible=True)])]

    def undo(self, undo_id: str, member: DeleteTopic, snapshot: ObservedState | None) -> Inverse:
        return Inverse(None, [f"topic {member.topic} and its records cannot be brought back"])

    def gate_topics(self, member: DeleteTopic) -> list[str]:
        return []

    async def snapshot(self, ports: StepPorts, member: DeleteTopic, now: datetime) -> ObservedState:
        kafka = ports.kafka
        topic = await kafka.observe_topic(
            member.topic, CONTEXT_KEYS, every_override=True, count_records=True
        )
        return ObservedState(
            captured_at=now,
            brokers=await kafka.broker_count(),
            topics=[topic],
            consumers_of_topics=await kafka.consumers_of([member.topic]),
        )

    async def apply(
        self, ports: StepPorts, member: DeleteTopic, snapshot: ObservedState | None
    ) -> ApplyResult:
        """Already applied when the topic does not exist."""
        if await ports.kafka.find_topic(member.topic) is None:
            return self.result(member, False, [f"topic {member.topic} does not exist"])
        if not await ports.kafka.remove_topic(member.topic):
            return self.result(member, False, [f"topic {member.topic} was deleted meanwhile"])
        return self.result(member, True, [f"deleted topic {member.topic}"])

    def strimzi_topic_edit(
        self, member: DeleteTopic, topic: str, spec: Mapping[str, Any]
    ) -> ResourceEdit:
        return topic_deleted_edit()


def _holds(topic: str, live: ObservedState) -> str:
    seen = live.topic(topic)
    if seen is None or seen.records is None:
        return f"how many records topic {topic} holds was not read; assume it holds data"
    if seen.records == 0:
        return f"topic {topic} holds no records"
    return f"topic {topic} holds {seen.records} records that the deletion destroys"


KIND = DeleteTopicKind()
