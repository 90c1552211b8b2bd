"""The fake cluster's replica moves, log dirs, elections, broker configs and client quotas.

Each call follows Kafka's own rules as its controller and brokers state them
(``ReplicationControlManager``, ``ClientQuotaControlManager``, ``ClientQuotasImage``),
transcribed here, with Kafka's messages, so the contract suite can hold the fake and a
real cluster to the same answers.
"""

from kcr.kafka.errors import (
    InvalidRequestError,
    KafkaPortError,
    NotFoundError,
    raise_together,
)
from kcr.kafka.fake_state import RECORD_BYTES, ClusterState
from kcr.kafka.quota_model import (
    ClientQuota,
    ClientQuotaFilter,
    QuotaAlteration,
    QuotaEntityType,
    QuotaMatch,
    entity_label,
)
from kcr.kafka.readmodel import ConfigEntry, TopicPartition
from kcr.kafka.replica_model import (
    FOLLOWER_THROTTLE_RATE,
    FOLLOWER_THROTTLED_REPLICAS,
    LEADER_THROTTLE_RATE,
    Election,
    ElectionOutcome,
    ElectionResult,
    ReplicaLogSize,
)
from kcr.model import ConfigSource

# What a broker reports for a replication rate nobody set: Long.MAX_VALUE, source Default.
BROKER_DEFAULTS = {LEADER_THROTTLE_RATE: str(2**63 - 1), FOLLOWER_THROTTLE_RATE: str(2**63 - 1)}
# QuotaConfig.userAndClientQuotaConfigs: whole numbers (LONG) or any positive DOUBLE.
QUOTA_KEY_TYPES = {
    "producer_byte_rate": "LONG",
    "consumer_byte_rate": "LONG",
    "request_percentage": "DOUBLE",
    "controller_mutation_rate": "DOUBLE",
}
NO_LEADER = {
    Election.PREFERRED: (
        "PREFERRED_LEADER_NOT_AVAILABLE",
        "The preferred leader was not available.",
    ),
    Election.UNCLEAN: (
        "ELIGIBLE_LEADERS_NOT_AVAILABLE",
        "Eligible topic partition leaders are not available.",
    ),
}


def _refusal(action: str, code: str, message: str) -> KafkaPortError:
    """A broker's per-partition or per-entity refusal, worded as the adapter words it."""
    text = f"{action}: {message} ({code})"
    if code == "UNKNOWN_TOPIC_OR_PART":
        return NotFoundError(
            f"{text}; the partition does not exist",
            resource="partition",
            name=action.rpartition(" ")[2],
            code=code,
        )
    return InvalidRequestError(text, code=code)


class FakeReplicas(ClusterState):
    # --- log dirs -------------------------------------------------------------------------

    async def log_dirs(
        self, partitions: dict[str, list[int]], brokers: list[int]
    ) -> list[ReplicaLogSize]:
        self._enter("log_dirs")
        self._unsupported("describeLogDirs", "DescribeLogDirs")
        found = []
        for name, ids in sorted(partitions.items()):
            topic = self.topics.get(name)
            for index in sorted(ids):
                if topic is None or not 0 <= index < len(topic.partitions):
                    continue  # a broker lists only the replicas it holds
                held = topic.partitions[index]
                found += [
                    ReplicaLogSize(
                        topic=name,
                        partition=index,
                        broker=broker,
                        log_dir=f"/var/lib/kafka/broker-{broker}",
                        size=self._size_on(name, index, broker),
                    )
                    for broker in brokers
                    if broker in held.replicas
                ]
        return found

    def _size_on(self, topic: str, partition: int, broker: int) -> int:
        """A full copy, or what an adding replica of a held move has copied so far."""
        held = self._partition(topic, partition)
        move = self.moving.get((topic, partition))
        if move is not None and broker in move.adding:
            return held.copied.get(broker, 0)
        return (held.log_end - held.log_start) * RECORD_BYTES

    # --- reassignments ------------------------------------------------------------------------

    async def alter_reassignments(self, targets: dict[TopicPartition, list[int] | None]) -> None:
        self._enter("alter_reassignments")
        self._unsupported("alterPartitionReassignments", "AlterPartitionReassignments")
        failures = []
        for tp, target in targets.items():
            action = f"move {tp.topic}/{tp.partition}"
            problem = self._reassignment_problem(tp, target)
            if problem is not None:
                failures.append(_refusal(action, *problem))
            elif target is None:
                self._cancel(tp)
            else:
                self._move(tp, target)
        raise_together(failures)

    def _reassignment_problem(
        self, tp: TopicPartition, target: list[int] | None
    ) -> tuple[str, str] | None:
        """ReplicationControlManager.alterPartitionReassignment's refusals, in its order."""
        topic = self.topics.get(tp.topic)
        if topic is None:
            return "UNKNOWN_TOPIC_OR_PART", f"Unable to find a topic named {tp.topic}."
        if not 0 <= tp.partition < len(topic.partitions):
            return "UNKNOWN_TOPIC_OR_PART", f"Unable to find partition {tp.topic}:{tp.partition}."
        if target is None:
            if (tp.topic, tp.partition) not in self.moving:
                return "NO_REASSIGNMENT_IN_PROGRESS", "No partition reassignment is in progress."
            return None
        prefix = "The manual partition assignment includes"
        if not target:
            return "INVALID_REPLICA_ASSIGNMENT", f"{prefix} an empty replica list."
        registered = {b.id for b in self.brokers}
        previous = None
        for broker in sorted(target):
            if broker not in registered:
                return (
                    "INVALID_REPLICA_ASSIGNMENT",
                    f"{prefix} broker {broker}, but no such broker is registered.",
                )
            if broker == previous:
                return "INVALID_REPLICA_ASSIGNMENT", f"{prefix} the broker {broker} more than once."
            previous = broker
        return None

    def _move(self, tp: TopicPartition, target: list[int]) -> None:
        """A move that copies nothing (a new order, fewer replicas) completes at once; one
        that copies data is held while throttled (or while ``hold_moves``), as a throttled
        move of a large partition runs for a long time on a real cluster."""
        found = self._partition(tp.topic, tp.partition)
        self.moving.pop((tp.topic, tp.partition), None)
        if found.replicas == target:
            return
        move = self.reassign(tp.topic, tp.partition, target)
        held = self.hold_moves or self._throttled(tp, move.adding)
        if not held or set(target) <= set(found.isr):
            self.finish_moves([(tp.topic, tp.partition)])

    def _throttled(self, tp: TopicPartition, adding: list[int]) -> bool:
        """Data to copy, to adding replicas the topic lists as throttled followers, on
        brokers with a follower rate."""
        found = self._partition(tp.topic, tp.partition)
        listed = self.topics[tp.topic].overrides.get(FOLLOWER_THROTTLED_REPLICAS, "")
        pairs = listed.split(",")
        return found.log_end > found.log_start and any(
            (listed == "*" or f"{tp.partition}:{b}" in pairs)
            and FOLLOWER_THROTTLE_RATE in self.broker_overrides.get(b, {})
            for b in adding
        )

    def _cancel(self, tp: TopicPartition) -> None:
        """PartitionReassignmentRevert: the original replicas back, the adding ones gone."""
        move = self.moving.pop((tp.topic, tp.partition))
        found = self._partition(tp.topic, tp.partition)
        found.replicas = [b for b in move.replicas if b not in move.adding]
        found.isr = [b for b in found.isr if b not in move.adding]
        found.copied = {}
        if found.leader not in found.replicas:
            found.leader = found.isr[0] if found.isr else None

    # --- leader elections -------------------------------------------------------------------

    async def elect_leaders(
        self, election: Election, partitions: list[TopicPartition] | None
    ) -> list[ElectionResult]:
        """Electing every partition leaves out those whose leader is already the wanted one."""
        self._enter("elect_leaders")
        self._unsupported("electLeaders", "ElectLeaders")
        every = partitions is None
        asked = partitions or [
            TopicPartition(topic=name, partition=i)
            for name, topic in sorted(self.topics.items())
            for i in range(len(topic.partitions))
        ]
        results = [self._elect(election, tp) for tp in asked]
        return [r for r in results if not (every and r.outcome is ElectionOutcome.NOT_NEEDED)]

    def _elect(self, election: Election, tp: TopicPartition) -> ElectionResult:
        def result(
            outcome: ElectionOutcome, code: str | None = None, message: str = ""
        ) -> ElectionResult:
            return ElectionResult(
                topic=tp.topic,
                partition=tp.partition,
                outcome=outcome,
                code=code,
                message=message or None,
            )

        topic = self.topics.get(tp.topic)
        if topic is None or not 0 <= tp.partition < len(topic.partitions):
            missing = tp.topic if topic is None else f"{tp.topic}-{tp.partition}"
            return result(
                ElectionOutcome.FAILED, "UNKNOWN_TOPIC_OR_PART", f"No such topic as {missing}"
            )
        found = topic.partitions[tp.partition]
        wanted = found.replicas[0] if election is Election.PREFERRED else found.leader
        if found.leader is not None and found.leader == wanted:
            return result(
                ElectionOutcome.NOT_NEEDED,
                "ELECTION_NOT_NEEDED",
                "Leader election not needed for topic partition.",
            )
        candidates = [found.replicas[0]] if election is Election.PREFERRED else found.replicas
        elected = next((b for b in candidates if b in found.isr), None)
        if elected is None:
            return result(ElectionOutcome.FAILED, *NO_LEADER[election])
        found.leader = elected
        return result(ElectionOutcome.ELECTED)

    # --- broker configs -----------------------------------------------------------------------

    async def broker_config_entries(
        self, brokers: list[int], keys: list[str]
    ) -> dict[int, dict[str, ConfigEntry]]:
        self._enter("broker_config_entries")
        result = {}
        for broker in brokers:
            overrides = self.broker_overrides[broker]
            entries = {}
            for key in keys:
                if key in overrides:
                    entries[key] = ConfigEntry(
                        value=overrides[key], source=ConfigSource.BROKER_OVERRIDE
                    )
                elif key in BROKER_DEFAULTS:
                    entries[key] = ConfigEntry(
                        value=BROKER_DEFAULTS[key], source=ConfigSource.DEFAULT
                    )
            result[broker] = entries
        return result

    async def alter_broker_config(
        self, broker: int, set_: dict[str, str], delete: list[str]
    ) -> None:
        self._enter("alter_broker_config")
        for key in [*set_, *delete]:
            if key not in BROKER_DEFAULTS:
                raise InvalidRequestError(
                    f"alter the configuration of broker {broker}: the fake cluster keeps only "
                    f"the replication rates, not {key} (INVALID_CONFIG)",
                    code="INVALID_CONFIG",
                )
        overrides = self.broker_overrides[broker]
        overrides.update(set_)
        for key in delete:
            overrides.pop(key, None)

    # --- client quotas --------------------------------------------------------------------------

    async def describe_client_quotas(self, quota_filter: ClientQuotaFilter) -> list[ClientQuota]:
        """ClientQuotasImage.describe: exact and default components, then type matches."""
        self._enter("describe_client_quotas")
        self._unsupported("describeClientQuotas", "DescribeClientQuotas")
        exact: dict[str, str | None] = {}
        typed: set[str] = set()
        for component in quota_filter.components:
            kind = component.entity_type.value
            if kind in exact or kind in typed:
                raise InvalidRequestError(
                    f"describe client quotas: Entity type {kind} cannot appear more than once "
                    "in the filter. (INVALID_REQUEST)",
                    code="INVALID_REQUEST",
                )
            if component.match is QuotaMatch.ANY:
                typed.add(kind)
            else:
                exact[kind] = component.name
        found = []
        for key, values in self.quotas.items():
            entity = dict(key)
            if quota_filter.strict and len(entity) != len(exact) + len(typed):
                continue
            if any(k not in entity or entity[k] != v for k, v in exact.items()):
                continue
            if any(k not in entity for k in typed):
                continue
            found.append(
                ClientQuota(
                    entity={QuotaEntityType(k): v for k, v in entity.items()},
                    values=dict(sorted(values.items())),
                )
            )
        return found

    async def alter_client_quotas(self, alterations: list[QuotaAlteration]) -> None:
        """ClientQuotaControlManager: each entity on its own; a refused one changes nothing."""
        self._enter("alter_client_quotas")
        self._unsupported("alterClientQuotas", "AlterClientQuotas")
        failures = []
        for alteration in alterations:
            label = entity_label(alteration.entity)
            problem = next(
                (
                    p
                    for key, value in alteration.values.items()
                    if value is not None
                    for p in [_quota_value_problem(key.value, value)]
                    if p is not None
                ),
                None,
            )
            if problem is not None:
                failures.append(
                    _refusal(f"alter the client quotas of {label}", "INVALID_REQUEST", problem)
                )
                continue
            key = frozenset((k.value, v) for k, v in alteration.entity.items())
            current = self.quotas.setdefault(key, {})
            for quota, value in alteration.values.items():
                if value is None:
                    current.pop(quota.value, None)
                else:
                    current[quota.value] = value
            if not current:
                del self.quotas[key]
        raise_together(failures)


def _quota_value_problem(key: str, value: float) -> str | None:
    """ClientQuotaControlManager.validateQuotaKeyValue, in its order."""
    kind = QUOTA_KEY_TYPES.get(key)
    if kind is None:
        return f"Invalid configuration key {key}"
    if value <= 0.0:
        return f"Quota {key} must be greater than 0"
    if kind == "LONG" and abs(value % 1.0) > 1e-6:
        return f"{key} cannot be a fractional value."
    return None
