"""The state an in-memory fake cluster keeps: topics, partitions with their logs, groups."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kcr.kafka.errors import (
    InvalidRequestError,
    KafkaPortError,
    NotFoundError,
    UnavailableError,
    UnsupportedByBrokerError,
)
from kcr.kafka.readmodel import Broker, ConfigEntry, GroupMember, Reassignment, TopicPartition
from kcr.kafka.service import utc_now
from kcr.kafka.settings import ClientSettings
from kcr.model import AclBinding, GroupState
from kcr.model.topic_configs import TOPIC_CONFIGS, check_config_value

# What a Kafka 3.x/4.x broker reports for a topic without overrides (source Default).
DEFAULT_TOPIC_CONFIGS = {
    "cleanup.policy": "delete",
    "compression.type": "producer",
    "delete.retention.ms": "86400000",
    "max.message.bytes": "1048588",
    "min.insync.replicas": "1",
    "retention.bytes": "-1",
    "retention.ms": "604800000",
    "segment.bytes": "1073741824",
    "segment.ms": "604800000",
    "unclean.leader.election.enable": "false",
}


@dataclass
class FakePartition:
    leader: int | None
    replicas: list[int]
    isr: list[int]
    log_start: int = 0
    timestamps: list[int] = field(default_factory=list, repr=False)

    @property
    def log_end(self) -> int:
        return self.log_start + len(self.timestamps)


@dataclass
class FakeTopic:
    partitions: list[FakePartition]
    overrides: dict[str, str] = field(default_factory=dict)
    internal: bool = False


@dataclass
class FakeGroup:
    committed: dict[tuple[str, int], int] = field(default_factory=dict)
    members: dict[str, GroupMember] = field(default_factory=dict)
    generation: int = 0
    forced_state: GroupState | None = None

    @property
    def state(self) -> GroupState:
        if self.forced_state is not None:
            return self.forced_state
        return GroupState.STABLE if self.members else GroupState.EMPTY


@dataclass
class Fault:
    error: KafkaPortError
    times: int


PRIMITIVES = frozenset(
    {
        "capabilities",
        "metadata",
        "topic_configs",
        "list_groups",
        "describe_groups",
        "committed",
        "log_offsets",
        "offsets_for_timestamp",
        "describe_acls",
        "list_reassignments",
        "create_topic",
        "create_partitions",
        "alter_topic_config",
        "commit_offsets",
        "create_acls",
        "delete_acls",
        "delete_topic",
    }
)


class ClusterState:
    """What a fake cluster holds, and the knobs tests turn: traffic, faults, missing APIs,
    and topic settings that come from the brokers rather than from Kafka's defaults."""

    def __init__(
        self,
        *,
        brokers: int = 3,
        cluster_id: str = "fake-cluster",
        create_partitions: bool = True,
        describe_acls: bool = True,
        create_acls: bool = True,
        delete_acls: bool = True,
        broker_configs: dict[str, ConfigEntry] | None = None,
        clock: Callable[[], datetime] = utc_now,
        settings: ClientSettings | None = None,
    ) -> None:
        self.settings = settings or ClientSettings()
        self.brokers = [Broker(id=i, host=f"broker-{i}.fake", port=9092) for i in range(brokers)]
        self.cluster_id = cluster_id
        self.topics: dict[str, FakeTopic] = {}
        self.groups: dict[str, FakeGroup] = {}
        self.acls: list[AclBinding] = []
        self.moving: dict[tuple[str, int], Reassignment] = {}
        self.calls: Counter[str] = Counter()
        self.closed = False
        self._supports = {
            "createPartitions": create_partitions,
            "describeAcls": describe_acls,
            "createAcls": create_acls,
            "deleteAcls": delete_acls,
        }
        # Topic keys whose value the brokers give (server.properties, or a cluster-wide dynamic
        # default), as DescribeConfigs reports them for a topic without an override.
        self.broker_configs = dict(broker_configs or {})
        self._faults: dict[str, Fault] = {}
        self._clock = clock

    # --- knobs for tests ------------------------------------------------------------------

    def reassign(self, topic: str, partition: int, target: list[int]) -> Reassignment:
        """Start moving a partition's replicas to ``target``; it stays in progress, as a
        throttled move of a large partition does on a real cluster."""
        current = self._topic(topic).partitions[partition].replicas
        moving = Reassignment(
            topic=topic,
            partition=partition,
            replicas=list(dict.fromkeys([*target, *current])),
            adding=[b for b in target if b not in current],
            removing=[b for b in current if b not in target],
        )
        self.moving[topic, partition] = moving
        return moving

    def fail(self, call: str, error: KafkaPortError, *, times: int = 1) -> None:
        """The next ``times`` calls of the primitive ``call`` raise ``error``."""
        if call not in PRIMITIVES:
            raise ValueError(
                f"{call!r} is not a primitive of the fake cluster; use one of "
                + ", ".join(sorted(PRIMITIVES))
            )
        self._faults[call] = Fault(error, times)

    def produce(
        self, topic: str, partition: int, count: int = 1, *, timestamp_ms: int | None = None
    ) -> None:
        stamp = timestamp_ms if timestamp_ms is not None else int(self._clock().timestamp() * 1000)
        self._partition(topic, partition).timestamps.extend([stamp] * count)

    def truncate(self, topic: str, partition: int, log_start: int) -> None:
        """What retention does: records before ``log_start`` are gone."""
        found = self._partition(topic, partition)
        drop = max(0, min(log_start, found.log_end) - found.log_start)
        del found.timestamps[:drop]
        found.log_start += drop

    def join(
        self,
        group: str,
        member_id: str,
        *,
        client_id: str = "",
        host: str = "/127.0.0.1",
        assignments: list[TopicPartition] | None = None,
    ) -> None:
        found = self.groups.setdefault(group, FakeGroup())
        found.members[member_id] = GroupMember(
            member_id=member_id,
            client_id=client_id or member_id,
            host=host,
            assignments=assignments or [],
        )
        found.generation += 1

    def leave(self, group: str, member_id: str) -> None:
        found = self.groups[group]
        del found.members[member_id]
        found.generation += 1

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """A member's own commit (allowed while the group is active, unlike an admin's)."""
        for topic, partition in offsets:
            self._partition(topic, partition)
        self.groups.setdefault(group, FakeGroup()).committed.update(offsets)

    def set_group_state(self, group: str, state: GroupState | None) -> None:
        self.groups.setdefault(group, FakeGroup()).forced_state = state

    def take_offline(self, topic: str, partition: int) -> None:
        """The partition loses its leader: nobody can read or write it."""
        self._partition(topic, partition).leader = None

    def set_leader(self, topic: str, partition: int, leader: int) -> None:
        self._partition(topic, partition).leader = leader

    def set_isr(self, topic: str, partition: int, isr: list[int]) -> None:
        """A shorter ISR than the replica list under-replicates the partition."""
        self._partition(topic, partition).isr = list(isr)

    # --- helpers --------------------------------------------------------------------------------

    def _enter(self, call: str) -> None:
        self.calls[call] += 1
        if self.closed:
            raise UnavailableError("the Kafka client is closed")
        fault = self._faults.get(call)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                del self._faults[call]
            raise fault.error

    def _topic(self, name: str) -> FakeTopic:
        self._check_topic_name(name)
        found = self.topics.get(name)
        if found is None:
            raise NotFoundError(
                f"topic {name} does not exist",
                resource="topic",
                name=name,
                code="UNKNOWN_TOPIC_OR_PART",
            )
        return found

    def _partition(self, topic: str, partition: int) -> FakePartition:
        partitions = self._topic(topic).partitions
        if not 0 <= partition < len(partitions):
            raise NotFoundError(
                f"partition {partition} of topic {topic} does not exist",
                resource="partition",
                name=f"{topic}/{partition}",
                code="UNKNOWN_TOPIC_OR_PART",
            )
        return partitions[partition]

    def _new_partition(self, index: int, replication_factor: int) -> FakePartition:
        ids = [b.id for b in self.brokers]
        replicas = [ids[(index + r) % len(ids)] for r in range(replication_factor)]
        return FakePartition(leader=replicas[0], replicas=replicas, isr=list(replicas))

    def _unsupported(self, feature: str, api: str) -> None:
        """Refused before sending, as the adapter refuses an API the broker does not serve."""
        if not self._supports[feature]:
            raise UnsupportedByBrokerError(
                f"{api} is not available on this cluster: the fake cluster was built without "
                f"{feature}; kcr did not send it",
                feature=feature,
            )

    @staticmethod
    def _check_topic_name(name: str) -> None:
        """Refused before sending, as confluent-kafka does; the message names the rule."""
        if not name:
            raise InvalidRequestError(
                "the Kafka client refused the request (a topic name cannot be empty); "
                "nothing was sent"
            )

    @staticmethod
    def _check_configs(values: dict[str, str]) -> None:
        for key, value in values.items():
            if key not in TOPIC_CONFIGS:
                raise InvalidRequestError(
                    f"Unknown topic config name: {key}", code="INVALID_CONFIG"
                )
            try:
                check_config_value(key, value)
            except ValueError as error:
                raise InvalidRequestError(str(error), code="INVALID_CONFIG") from None
