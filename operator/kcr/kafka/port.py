"""The Kafka port: everything the operator and the MCP server may ask of a Kafka cluster.

Async on purpose. The operator runs in kopf's asyncio loop and the MCP server is async;
confluent-kafka's admin calls return futures, which the adapter awaits with
``asyncio.wrap_future`` under a deadline, so no call blocks the loop and none waits for
ever. Every method may raise the typed errors of :mod:`kcr.kafka.errors`; nothing else
escapes (a ``KafkaTimeoutError`` or ``UnavailableError`` is retriable, the rest are not).

Two implementations keep the same contract (``tests/kafka``): the confluent-kafka adapter
(:func:`kcr.kafka.connect.open_kafka`) and the in-memory :class:`kcr.kafka.fake.FakeKafka`.

Writes are primitives that return once the cluster shows them; each change kind compares
before it writes (:mod:`kcr.kinds`). The replica and quota writes compare too, against
the reads a kind would use, and say what they sent (``WriteResult``): a repeat sends
nothing. Topic, group and ACL arguments are lists, never a bare string.
"""

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from kcr.kafka.offsets import OffsetReset
from kcr.kafka.quota_model import ClientQuota, ClientQuotaFilter, QuotaAlteration
from kcr.kafka.readmodel import (
    AclFilter,
    Capabilities,
    ClusterOverview,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    HotPartitionRule,
    LagReport,
    PartitionOffsets,
    ReassignmentReport,
    TopicConfigs,
    TopicInfo,
    TopicPartition,
)
from kcr.kafka.replica_model import (
    Election,
    ElectionResult,
    ReplicaLogSize,
    ReplicationThrottles,
    TopicThrottle,
)
from kcr.kafka.results import ProbeVerdict, WriteResult
from kcr.model import (
    AclBinding,
    ConsumerPositions,
    GroupState,
    ObservedGroup,
    ObservedState,
    ObservedTopic,
    PartitionOffset,
)

DEFAULT_GROUP_STATES = (GroupState.STABLE, GroupState.EMPTY)


@runtime_checkable
class KafkaPort(Protocol):
    # --- lifecycle and capabilities -------------------------------------------------------

    async def close(self) -> None:
        """Release the client; later calls raise ``UnavailableError``."""
        ...

    async def capabilities(self) -> Capabilities:
        """Which optional APIs (CreatePartitions, ACLs) the cluster serves, found by asking."""
        ...

    # --- metadata -------------------------------------------------------------------------

    async def cluster_overview(self) -> ClusterOverview:
        """Cluster id, brokers, controller, and partition health counts in one read."""
        ...

    async def list_topics(self, *, include_internal: bool = False) -> list[TopicInfo]:
        """All topics with partitions, leaders, replicas and ISR, sorted by name."""
        ...

    async def describe_topics(self, topics: list[str]) -> list[TopicInfo]:
        """The named topics in the given order; ``NotFoundError`` names the first missing one."""
        ...

    async def topic_configs(self, topics: list[str]) -> list[TopicConfigs]:
        """Effective configuration of each topic, every entry with its source."""
        ...

    # --- consumer groups and offsets --------------------------------------------------------

    async def list_consumer_groups(self) -> list[GroupListing]:
        """Every group the cluster knows, sorted by id."""
        ...

    async def describe_consumer_groups(self, groups: list[str]) -> list[GroupDescription]:
        """State, members (client id, host, assignments); unknown groups have ``exists=False``."""
        ...

    async def committed_offsets(
        self, groups: list[str], *, topics: list[str] | None = None
    ) -> list[GroupOffsets]:
        """Committed offsets of many groups, fetched concurrently.

        Without ``topics``: every partition the group committed. With ``topics``: every
        partition of those topics, ``offset`` null where the group has no commit.
        """
        ...

    async def log_offsets(self, partitions: list[TopicPartition]) -> list[PartitionOffsets]:
        """Earliest and latest offsets, one ListOffsets round per leader for all partitions."""
        ...

    async def lag_report(
        self,
        groups: list[str] | None = None,
        *,
        topics: list[str] | None = None,
        rule: HotPartitionRule | None = None,
        describe_groups: bool = True,
    ) -> LagReport:
        """Lag per partition, topic and group, hot partitions flagged; ``None`` = all groups.

        Round trips do not grow with the partition count: one ListGroups (if needed), one
        OffsetFetch per coordinator (per group on brokers without KIP-709), all at once, one
        ListOffsets per leader for earliest and latest.
        """
        ...

    async def resolve_offsets(
        self, reset: OffsetReset, *, snapshot: ObservedState | None = None
    ) -> list[PartitionOffset]:
        """The concrete offsets a reset would commit, for every partition of its topics.

        Earliest, latest and timestamp come from the log; shift-by moves the committed
        offset (from ``snapshot`` when given, so a retried reset lands on the same
        offsets), clamped to the log; explicit offsets are checked against the log.
        """
        ...

    async def reassignments(self, topics: list[str] | None = None) -> ReassignmentReport:
        """Partitions whose replicas are moving now, of the named topics (all when None),
        with the bytes each move has left to copy where the cluster reports its log dirs."""
        ...

    # --- ACLs ---------------------------------------------------------------------------

    async def describe_acls(self, acl_filter: AclFilter) -> list[AclBinding]:
        """Bindings matching the filter (pattern ``Match`` finds every binding that applies)."""
        ...

    # --- snapshot reads -------------------------------------------------------------------

    async def find_topic(self, name: str) -> TopicInfo | None:
        """The topic's metadata, or None when it does not exist."""
        ...

    async def broker_count(self) -> int: ...

    async def observe_topic(
        self,
        name: str,
        keys: Sequence[str],
        *,
        every_override: bool = False,
        count_records: bool = False,
    ) -> ObservedTopic:
        """Partitions, replication and the named config keys with their sources, secrets
        left out; ``every_override`` adds every topic override, ``count_records`` the
        records it holds (where deleting the topic is on the table)."""
        ...

    async def colliding_topics(self, name: str) -> list[ObservedTopic]:
        """Existing topics Kafka would refuse ``name`` beside ('.' and '_' collide)."""
        ...

    async def observe_group(self, group: str, topics: list[str]) -> ObservedGroup:
        """State, member count, committed and log offsets of the group on ``topics``."""
        ...

    async def consumers_of(self, topics: list[str]) -> list[str]:
        """Groups with a committed offset on any of ``topics``."""
        ...

    async def existing_acls(self, bindings: list[AclBinding]) -> list[AclBinding]:
        """Those of ``bindings`` the cluster holds, each looked up exactly."""
        ...

    # --- writes: each returns once a read shows it ----------------------------------------------

    async def add_topic(
        self, name: str, partitions: int, replication_factor: int, configs: dict[str, str]
    ) -> None:
        """``ConflictError`` (code TOPIC_ALREADY_EXISTS) when the topic exists."""
        ...

    async def add_partitions(self, topic: str, total: int) -> None:
        """Grow ``topic`` to ``total`` partitions."""
        ...

    async def set_topic_config(self, topic: str, values: dict[str, str], delete: list[str]) -> None:
        """Incremental: set ``values`` and remove the overrides of ``delete``."""
        ...

    async def commit_offsets(self, group: str, offsets: list[PartitionOffset]) -> None:
        """Commit for an empty group; the broker refuses while it has members."""
        ...

    async def change_acls(self, add: list[AclBinding], remove: list[AclBinding]) -> None:
        """Create ``add`` and delete ``remove``, returning once DescribeAcls shows both."""
        ...

    async def remove_topic(self, name: str) -> bool:
        """Delete the topic; False when it did not exist."""
        ...

    # --- replicas: moves, elections, throttles -------------------------------------------------

    async def log_dir_sizes(self, topics: list[str]) -> list[ReplicaLogSize]:
        """Bytes of every replica of the topics on every broker (DescribeLogDirs)."""
        ...

    async def alter_reassignments(
        self, targets: dict[TopicPartition, list[int] | None]
    ) -> WriteResult:
        """Start moving each partition to its broker list (first = preferred leader), or cancel
        its move (None). Already on the target, already moving there, or nothing to cancel:
        not sent. Kafka's refusals (an unknown or repeated broker) raise
        ``InvalidRequestError`` naming every refused partition."""
        ...

    async def elect_leaders(
        self,
        partitions: list[TopicPartition] | None = None,
        *,
        election: Election = Election.PREFERRED,
    ) -> list[ElectionResult]:
        """Each partition's result; ``NotNeeded`` (already led so) is success, ``Failed`` says
        Kafka's reason. None elects wherever needed, and lists only those partitions."""
        ...

    async def replication_throttles(
        self, topics: list[str], *, brokers: list[int] | None = None
    ) -> ReplicationThrottles:
        """The rates set on each broker (all when None) and the topics' throttled replicas."""
        ...

    async def set_replication_throttle(
        self, rate: int, *, brokers: list[int], topics: list[TopicThrottle]
    ) -> WriteResult:
        """Both rates (bytes/s) on each broker and each topic's non-null replica lists; see
        :func:`kcr.kafka.throttles.move_throttle` for the lists a move needs."""
        ...

    async def remove_replication_throttle(
        self, *, brokers: list[int], topics: list[str]
    ) -> WriteResult:
        """Both rates off each broker and both replica lists off each topic."""
        ...

    # --- client quotas --------------------------------------------------------------------

    async def describe_client_quotas(
        self, quota_filter: ClientQuotaFilter | None = None
    ) -> list[ClientQuota]:
        """Quotas of the entities the filter matches (every one when None), by entity."""
        ...

    async def alter_client_quotas(self, alterations: list[QuotaAlteration]) -> WriteResult:
        """Set (a value) or remove (null) each entity's keys; the others stay as they are."""
        ...

    # --- health probes ---------------------------------------------------------------------

    async def probe_offline_partitions(self, topics: list[str] | None = None) -> ProbeVerdict:
        """Passes when no partition (of ``topics``, or of the cluster) lacks a leader."""
        ...

    async def probe_under_replicated(
        self, topics: list[str] | None = None, *, baseline: int | None = None
    ) -> ProbeVerdict:
        """Passes when the URP count is not above ``baseline`` (zero when not given)."""
        ...

    async def probe_min_insync(self, topics: list[str]) -> ProbeVerdict:
        """Passes when every partition's ISR is at least the topic's min.insync.replicas."""
        ...

    async def probe_group_state(
        self,
        groups: list[str],
        *,
        allowed: tuple[GroupState, ...] = DEFAULT_GROUP_STATES,
        max_members: int | None = None,
    ) -> ProbeVerdict:
        """Passes when each group is in an allowed state and (if given) has few enough members.

        ``max_members=0`` is the test for "the group is empty" before an offset reset: a
        group with listed members fails it, and so does one in an active state (Stable,
        rebalancing) whose members the broker does not list, as tansu does.
        """
        ...

    async def consumer_positions(self, groups: list[str]) -> ConsumerPositions:
        """Each group's committed and log-end offsets, summed over the partitions it has
        committed on, read at one moment; a group without commits is left out.

        Two readings say how fast a group read and how fast records arrived in between:
        what the consumer progress gate compares before the change and during its bake.
        """
        ...
