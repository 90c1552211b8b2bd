"""CreateTopic: a new topic with its partitions, replication and configuration.

Reversible: its rollback deletes the topic, with whatever it holds by then.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, field_validator

from kcr.kafka.errors import ConflictError
from kcr.kafka.port import KafkaPort
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import CONTEXT_KEYS, KindBase, StepPorts
from kcr.kinds.delete_topic import DeleteTopic
from kcr.model import (
    Assessment,
    BlastRadius,
    ClusterPolicy,
    Facts,
    Inverse,
    ObservedState,
    Risk,
)
from kcr.model.base import KubeModel
from kcr.model.change import (
    MAX_REPLICATION_FACTOR,
    ConfigValues,
    PartitionCount,
    check_config_values,
)
from kcr.model.names import TopicName, topic_name_warnings
from kcr.model.strimzi import ResourceEdit
from kcr.plan.steps import make_step
from kcr.policy.limits import metric_collisions, retention_floor
from kcr.policy.strimzi_specs import topic_created_edit


class CreateTopic(KubeModel):
    topic: TopicName
    partitions: PartitionCount
    replication_factor: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_REPLICATION_FACTOR,
            description="Copies of each partition; at most the number of brokers",
        ),
    ]
    allow_unknown_keys: bool = Field(
        default=False, description="Pass configuration keys kcr does not know to the broker"
    )
    configs: ConfigValues = Field(default_factory=dict)

    _configs_are_legal = field_validator("configs")(check_config_values)


class CreateTopicKind(KindBase[CreateTopic]):
    model = CreateTopic

    def describe(self, member: CreateTopic) -> str:
        extra = f" with {len(member.configs)} configs" if member.configs else ""
        return (
            f"create topic {member.topic} with {member.partitions} partitions, "
            f"replication factor {member.replication_factor}{extra}"
        )

    def blast_radius(self, member: CreateTopic, observed: ObservedState | None) -> BlastRadius:
        groups = sorted(set(observed.consumers_of_topics)) if observed else []
        return BlastRadius(
            topics=[member.topic], partitions=member.partitions, consumer_groups=groups
        )

    def limit_violations(
        self,
        member: CreateTopic,
        where: str,
        observed: ObservedState | None,
        policy: ClusterPolicy,
    ) -> list[str]:
        limits = policy.limits
        found = []
        if member.partitions > limits.max_partitions:
            found.append(
                f"{where}.partitions: {member.partitions} is above this cluster's limit of "
                f"{limits.max_partitions} partitions per topic (policy.limits.maxPartitions)"
            )
        if member.replication_factor < limits.min_replication_factor:
            found.append(
                f"{where}.replicationFactor: {member.replication_factor} is below this "
                f"cluster's minimum of {limits.min_replication_factor} "
                "(policy.limits.minReplicationFactor)"
            )
        if observed and observed.brokers and member.replication_factor > observed.brokers:
            found.append(
                f"{where}.replicationFactor: {member.replication_factor} copies need as many "
                f"brokers, and the cluster has {observed.brokers}"
            )
        min_isr = member.configs.get("min.insync.replicas")
        if min_isr is not None and int(min_isr) > member.replication_factor:
            found.append(
                f"{where}.configs['min.insync.replicas']: {min_isr} is more than the "
                f"replication factor {member.replication_factor}, so producers using "
                "acks=all could never write"
            )
        seen = observed.topic(member.topic) if observed else None
        if seen is not None and seen.exists:
            found.append(f"{where}.topic: topic {member.topic} already exists")
        found += metric_collisions(member.topic, f"{where}.topic", observed)
        found += retention_floor(member.configs, f"{where}.configs", policy)
        return found

    def risk(self, member: CreateTopic, observed: ObservedState | None) -> Assessment:
        return Assessment(Risk.LOW, ["a new topic carries no traffic yet"])

    def warnings(self, member: CreateTopic, observed: ObservedState | None) -> list[str]:
        return topic_name_warnings(member.topic)

    def plan_facts(self, member: CreateTopic, observed: ObservedState) -> Facts:
        facts = {"brokers in the cluster": str(observed.brokers)} if observed.brokers else {}
        return facts | super().plan_facts(member, observed)

    def left_facts(self, member: CreateTopic, state: ObservedState) -> Facts:
        """Brokers come and go without touching a topic; a created topic's size counts."""
        facts = super().plan_facts(member, state)
        seen = state.topic(member.topic)
        if seen is not None and seen.exists:
            facts[f"topic {seen.name}: partitions"] = str(seen.partitions)
        return facts

    def undo(self, undo_id: str, member: CreateTopic, snapshot: ObservedState | None) -> Inverse:
        return Inverse(make_step(undo_id, DeleteTopic(topic=member.topic)))

    async def snapshot(self, ports: StepPorts, member: CreateTopic, now: datetime) -> ObservedState:
        kafka = ports.kafka
        keys = [*member.configs, *CONTEXT_KEYS]
        topic = await kafka.observe_topic(member.topic, keys, count_records=True)
        return ObservedState(
            captured_at=now,
            brokers=await kafka.broker_count(),
            topics=[topic, *await kafka.colliding_topics(member.topic)],
        )

    async def apply(
        self, ports: StepPorts, member: CreateTopic, snapshot: ObservedState | None
    ) -> ApplyResult:
        """Already applied when the topic exists with the same partitions, replication and
        configs; ``ConflictError`` when it exists with different ones."""
        kafka = ports.kafka
        if await kafka.find_topic(member.topic) is not None:
            return await self._compare_existing(kafka, member)
        try:
            await kafka.add_topic(
                member.topic, member.partitions, member.replication_factor, dict(member.configs)
            )
        except ConflictError as error:
            if error.code != "TOPIC_ALREADY_EXISTS":
                raise
            return await self._compare_existing(kafka, member)  # created meanwhile
        return self.result(
            member,
            True,
            [
                f"created topic {member.topic} with {member.partitions} partitions and "
                f"replication factor {member.replication_factor}"
            ],
        )

    async def _compare_existing(self, kafka: KafkaPort, member: CreateTopic) -> ApplyResult:
        (topic,) = await kafka.describe_topics([member.topic])
        differences = []
        if topic.partition_count != member.partitions:
            differences.append(f"{topic.partition_count} partitions, not {member.partitions}")
        if topic.replication_factor != member.replication_factor:
            differences.append(
                f"replication factor {topic.replication_factor}, not {member.replication_factor}"
            )
        if member.configs:
            (configs,) = await kafka.topic_configs([member.topic])
            differences += [
                f"{key}={configs.value(key)}, not {value}"
                for key, value in member.configs.items()
                if configs.value(key) != value
            ]
        if differences:
            raise ConflictError(
                f"topic {member.topic} already exists with different settings: "
                + "; ".join(differences),
                code="TOPIC_ALREADY_EXISTS",
            )
        return self.result(member, False, [f"topic {member.topic} already exists as requested"])

    def strimzi_topic_edit(
        self, member: CreateTopic, topic: str, spec: Mapping[str, Any]
    ) -> ResourceEdit:
        return topic_created_edit(
            spec, member.partitions, member.replication_factor, member.configs
        )


KIND = CreateTopicKind()
