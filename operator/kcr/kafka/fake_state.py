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
    # Bytes an adding replica has copied so far, while a move is held in progress.
    copied: dict[int, int] = field(default_factory=dict)

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
        "log_dirs",
        "alter_reassignments",
        "elect_leaders",
        "broker_config_entries",
        "alter_broker_config",
        "describe_client_quotas",
        "alter_client_quotas",
    }
)
RECORD_BYTES = 100  # what one produced record adds to a replica's log on disk


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
        describe_log_dirs: bool = True,
        alter_partition_reassignments: bool = True,
        elect_leaders: bool = True,
        describe_client_quotas: bool = True,
        alter_client_quotas: bool = True,
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
            "describeLogDirs": describe_log_dirs,
            "alterPartitionReassignments": alter_partition_reassignments,
            "electLeaders": elect_leaders,
            "describeClientQuotas": describe_client_quotas,
            "alterClientQuotas": alter_client_quotas,
        }
        # Each broker's own dynamic configuration (as kafka-configs --entity-name sets it).
        self.broker_overrides: dict[int, dict[str, str]] = {b.id: {} for b in self.brokers}
        # Client quotas by entity: the (type, name) pairs, a null name for a default.
        self.quotas: dict[frozenset[tuple[str, str | None]], dict[str, float]] = {}
        # A move of a partition with data takes time; held moves wait for finish_moves().
        self.hold_moves = False
        # Topic keys whose value the brokers give (server.properties, or a cluster-wide dynamic
        # default), as DescribeConfigs reports them for a topic without an override.
        self.broker_configs = dict(broker_configs or {})
        self._faults: dict[str, Fault] = {}
        self._clock = clock

    # --- knobs for tests ------------------------------------------------------------------

    def reassign(self, topic: str, partition: int, target: list[int]) -> Reassignment:
        """Start moving a partition's replicas to ``target``; it stays in progress, as a
        throttled move of a large partition does on a real cluster.

        As Kafka's controller does (PartitionReassignmentReplicas): the partition's replicas
        become the target followed by those it removes; the adding ones are not in the ISR
        until they catch up.
        """
        found = self._partition(topic, partition)
        current = found.replicas
        removing = sorted(set(current) - set(target))
        moving = Reassignment(
            topic=topic,
            partition=partition,
            replicas=[*target, *removing],
            adding=sorted(set(target) - set(current)),
            removing=removing,
        )
        found.replicas = list(moving.replicas)
        self.moving[topic, partition] = moving
        return moving

    def copy(self, topic: str, partition: int, broker: int, size: int) -> None:
        """An adding replica of a held move has copied ``size`` bytes so far."""
        self._partition(topic, partition).copied[broker] = size

    def finish_moves(self, only: list[tuple[str, int]] | None = None) -> None:
        """Held moves (all, or ``only`` these) complete: the adding replicas caught up and
        joined the ISR, the removed ones are gone, a removed leader handed over."""
        for (topic, partition), move in sorted(self.moving.items()):
            if only is not None and (topic, partition) not in only:
                continue
            found = self._partition(topic, partition)
            found.replicas = move.target
            found.isr = list(move.target)
            found.copied = {}
            if found.leader not in move.target:
                found.leader = move.target[0]
            del self.moving[topic, partition]

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
