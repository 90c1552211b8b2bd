"""An in-memory Kafka cluster behind the real port, for operator and MCP tests.

It answers the primitive calls as a Kafka broker would (the same errors for the same
mistakes), so :class:`FakeKafka` runs the same service code as the real adapter and the
contract suite in ``tests/kafka`` holds both to one behaviour. Tests drive traffic and
faults through :class:`FakeCluster`: produce, join a group, take a partition offline,
shrink an ISR, or make the next calls fail.
"""

from collections.abc import Callable
from datetime import datetime

from pydantic.alias_generators import to_snake

from kcr.kafka.backend import ClusterMetadata
from kcr.kafka.errors import (
    ConflictError,
    GroupNotEmptyError,
    InvalidRequestError,
    UnavailableError,
)
from kcr.kafka.fake_acls import selected
from kcr.kafka.fake_replicas import FakeReplicas
from kcr.kafka.fake_state import (
    DEFAULT_TOPIC_CONFIGS,
    FakeGroup,
    FakeTopic,
)
from kcr.kafka.readmodel import (
    ACTIVE_GROUP_STATES,
    AclFilter,
    Capabilities,
    CommittedOffset,
    ConfigEntry,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    PartitionInfo,
    PartitionOffsets,
    Reassignment,
    TopicConfigs,
    TopicInfo,
    TopicPartition,
    internal_topic,
)
from kcr.kafka.service import KafkaService, utc_now
from kcr.model import AclBinding, ConfigSource, GroupState, PartitionOffset
from kcr.model.topic_configs import TOPIC_CONFIGS


class FakeCluster(FakeReplicas):
    """The backend: Kafka's primitive calls answered from the state."""

    async def close(self) -> None:
        self.closed = True

    async def capabilities(self) -> Capabilities:
        self._enter("capabilities")
        reasons = {
            feature: f"the fake cluster was built without {feature}"
            for feature, on in self._supports.items()
            if not on
        }
        return Capabilities.model_validate(
            {to_snake(feature): on for feature, on in self._supports.items()} | {"reasons": reasons}
        )

    async def metadata(self, topics: list[str] | None = None) -> ClusterMetadata:
        self._enter("metadata")
        for name in topics or []:
            self._check_topic_name(name)
        names = sorted(self.topics) if topics is None else [t for t in topics if t in self.topics]
        return ClusterMetadata(
            cluster_id=self.cluster_id,
            controller_id=self.brokers[0].id,
            brokers=list(self.brokers),
            topics=[self._describe(name) for name in names],
        )

    def _describe(self, name: str) -> TopicInfo:
        topic = self.topics[name]
        return TopicInfo(
            name=name,
            internal=internal_topic(name, flagged=topic.internal),
            partitions=[
                PartitionInfo(partition=i, leader=p.leader, replicas=p.replicas, isr=p.isr)
                for i, p in enumerate(topic.partitions)
            ],
        )

    async def topic_configs(self, topics: list[str]) -> list[TopicConfigs]:
        self._enter("topic_configs")
        result = []
        for name in topics:
            overrides = self._topic(name).overrides
            entries = {
                key: ConfigEntry(value=value, source=ConfigSource.DEFAULT)
                for key, value in DEFAULT_TOPIC_CONFIGS.items()
            }
            entries |= self.broker_configs
            entries |= {
                key: ConfigEntry(value=value, source=ConfigSource.TOPIC_OVERRIDE)
                for key, value in overrides.items()
            }
            result.append(TopicConfigs(topic=name, configs=dict(sorted(entries.items()))))
        return result

    async def list_groups(self) -> list[GroupListing]:
        self._enter("list_groups")
        return [GroupListing(group=name, state=g.state) for name, g in sorted(self.groups.items())]

    async def describe_groups(self, groups: list[str]) -> list[GroupDescription]:
        self._enter("describe_groups")
        now = self._clock()
        result = []
        for name in groups:
            found = self.groups.get(name)
            if found is None:
                result.append(
                    GroupDescription(
                        group=name, exists=False, state=GroupState.DEAD, observed_at=now
                    )
                )
                continue
            result.append(
                GroupDescription(
                    group=name,
                    state=found.state,
                    assignor="range" if found.members else None,
                    coordinator=self.brokers[0].id,
                    generation=found.generation,
                    members=sorted(found.members.values(), key=lambda m: m.member_id),
                    observed_at=now,
                )
            )
        return result

    async def committed(
        self, groups: list[str], partitions: list[TopicPartition] | None = None
    ) -> list[GroupOffsets]:
        self._enter("committed")
        result = []
        for name in groups:
            offsets = self.groups[name].committed if name in self.groups else {}
            if partitions is None:
                rows = [
                    CommittedOffset(topic=t, partition=p, offset=o)
                    for (t, p), o in sorted(offsets.items())
                ]
            else:
                rows = [
                    CommittedOffset(
                        topic=tp.topic,
                        partition=tp.partition,
                        offset=offsets.get((tp.topic, tp.partition)),
                    )
                    for tp in partitions
                ]
            result.append(GroupOffsets(group=name, offsets=rows))
        return result

    async def log_offsets(self, partitions: list[TopicPartition]) -> list[PartitionOffsets]:
        self._enter("log_offsets")
        result = []
        for tp in partitions:
            found = self._partition(tp.topic, tp.partition)
            if found.leader is None:
                raise UnavailableError(
                    f"{tp.topic}/{tp.partition} has no leader", code="LEADER_NOT_AVAILABLE"
                )
            result.append(
                PartitionOffsets(
                    topic=tp.topic,
                    partition=tp.partition,
                    earliest=found.log_start,
                    latest=found.log_end,
                )
            )
        return result

    async def offsets_for_timestamp(
        self, partitions: list[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        self._enter("offsets_for_timestamp")
        result: dict[TopicPartition, int | None] = {}
        for tp in partitions:
            found = self._partition(tp.topic, tp.partition)
            index = next((i for i, t in enumerate(found.timestamps) if t >= timestamp_ms), None)
            result[tp] = None if index is None else found.log_start + index
        return result

    async def list_reassignments(self, topics: list[str] | None) -> list[Reassignment]:
        self._enter("list_reassignments")
        found = [r for r in self.moving.values() if topics is None or r.topic in topics]
        return sorted(found, key=lambda r: (r.topic, r.partition))

    async def describe_acls(self, acl_filter: AclFilter) -> list[AclBinding]:
        self._enter("describe_acls")
        self._unsupported("describeAcls", "DescribeAcls")
        return [b for b in self.acls if selected(acl_filter, b)]

    async def create_topic(
        self, topic: str, partitions: int, replication_factor: int, configs: dict[str, str]
    ) -> None:
        self._enter("create_topic")
        if topic in self.topics:
            raise ConflictError(f"Topic '{topic}' already exists.", code="TOPIC_ALREADY_EXISTS")
        if replication_factor > len(self.brokers):
            raise InvalidRequestError(
                f"create topic {topic}: Unable to replicate the partition {replication_factor} "
                f"time(s): The target replication factor of {replication_factor} cannot be "
                f"reached because only {len(self.brokers)} broker(s) are registered or some "
                "brokers have all their log directories cordoned. (INVALID_REPLICATION_FACTOR)",
                code="INVALID_REPLICATION_FACTOR",
            )
        if partitions < 1:
            raise InvalidRequestError(
                "Number of partitions must be larger than 0.", code="INVALID_PARTITIONS"
            )
        self._check_configs(configs)
        self.topics[topic] = FakeTopic(
            partitions=[self._new_partition(i, replication_factor) for i in range(partitions)],
            overrides=dict(configs),
        )

    async def create_partitions(self, topic: str, total: int) -> None:
        self._enter("create_partitions")
        self._unsupported("createPartitions", "CreatePartitions")
        found = self._topic(topic)
        current = len(found.partitions)
        if total <= current:
            raise InvalidRequestError(
                f"Topic currently has {current} partitions, which is higher than or equal to "
                f"the requested {total}.",
                code="INVALID_PARTITIONS",
            )
        factor = len(found.partitions[0].replicas)
        found.partitions += [self._new_partition(i, factor) for i in range(current, total)]

    async def alter_topic_config(self, topic: str, set_: dict[str, str], delete: list[str]) -> None:
        self._enter("alter_topic_config")
        found = self._topic(topic)
        self._check_configs(set_)
        for key in delete:
            if key not in TOPIC_CONFIGS:
                raise InvalidRequestError(
                    f"Unknown topic config name: {key}", code="INVALID_CONFIG"
                )
        found.overrides.update(set_)
        for key in delete:
            found.overrides.pop(key, None)

    async def commit_offsets(self, group: str, offsets: list[PartitionOffset]) -> None:
        self._enter("commit_offsets")
        found = self.groups.get(group)
        if found is not None and (found.members or found.state in ACTIVE_GROUP_STATES):
            raise GroupNotEmptyError(
                f"group {group} has active members; the broker rejects offsets committed from "
                "outside the group (UNKNOWN_MEMBER_ID)",
                group=group,
                members=len(found.members) or None,
            )
        for offset in offsets:
            self._partition(offset.topic, offset.partition)
        target = self.groups.setdefault(group, FakeGroup())
        target.committed.update({(o.topic, o.partition): o.offset for o in offsets})

    async def create_acls(self, bindings: list[AclBinding]) -> None:
        self._enter("create_acls")
        self._unsupported("createAcls", "CreateAcls")
        known = {b.key() for b in self.acls}
        self.acls += [b for b in bindings if b.key() not in known]

    async def delete_acls(self, bindings: list[AclBinding]) -> None:
        self._enter("delete_acls")
        self._unsupported("deleteAcls", "DeleteAcls")
        gone = {b.key() for b in bindings}
        self.acls = [b for b in self.acls if b.key() not in gone]

    async def delete_topic(self, topic: str) -> None:
        self._enter("delete_topic")
        self._topic(topic)
        del self.topics[topic]
        for group in self.groups.values():
            group.committed = {k: v for k, v in group.committed.items() if k[0] != topic}


class FakeKafka(KafkaService):
    """The port over a :class:`FakeCluster`; ``fake.cluster`` holds the knobs."""

    def __init__(
        self, cluster: FakeCluster | None = None, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.cluster = cluster or FakeCluster(clock=clock)
        super().__init__(self.cluster, clock=clock)
