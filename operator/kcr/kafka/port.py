"""The Kafka port: everything the operator and the MCP server may ask of a Kafka cluster.

Async on purpose. The operator runs in kopf's asyncio loop and the MCP server is async;
confluent-kafka's admin calls return futures, which the adapter awaits with
``asyncio.wrap_future`` under a deadline, so no call blocks the loop and none waits for
ever. Every method may raise the typed errors of :mod:`kcr.kafka.errors`; nothing else
escapes (a ``KafkaTimeoutError`` or ``UnavailableError`` is retriable, the rest are not).

Two implementations keep the same contract (``tests/kafka``): the confluent-kafka adapter
(:func:`kcr.kafka.connect.open_kafka`) and the in-memory :class:`kcr.kafka.fake.FakeKafka`.

Writes compare before they apply: repeating one returns ``AlreadyApplied`` and sends
nothing. Topic, group and ACL arguments are lists, never a bare string.
"""

from typing import Protocol, runtime_checkable

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
from kcr.kafka.results import ApplyResult, ProbeVerdict
from kcr.model import (
    AclBinding,
    AlterAcls,
    AlterTopicConfig,
    Change,
    ChangeMember,
    ConsumerPositions,
    CreateTopic,
    DeleteTopic,
    GroupState,
    IncreasePartitions,
    ObservedState,
    Operation,
    PartitionOffset,
    ResetConsumerGroupOffsets,
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

        Round trips do not grow with the partition count: one ListGroups (if needed), all
        OffsetFetch requests at once, one ListOffsets per leader for earliest and latest.
        """
        ...

    async def resolve_offsets(
        self, reset: ResetConsumerGroupOffsets, *, snapshot: ObservedState | None = None
    ) -> list[PartitionOffset]:
        """The concrete offsets a reset would commit, for every partition of its topics.

        Earliest, latest and timestamp come from the log; shift-by moves the committed
        offset (from ``snapshot`` when given, so a retried reset lands on the same
        offsets), clamped to the log; explicit offsets are checked against the log.
        """
        ...

    async def reassignments(self, topics: list[str] | None = None) -> ReassignmentReport:
        """Partitions whose replicas are moving now, of the named topics (all when None)."""
        ...

    # --- ACLs ---------------------------------------------------------------------------

    async def describe_acls(self, acl_filter: AclFilter) -> list[AclBinding]:
        """Bindings matching the filter (pattern ``Match`` finds every binding that applies)."""
        ...

    # --- writes (compare, then apply) ----------------------------------------------------

    async def apply(
        self, operation: Operation | ChangeMember, *, snapshot: ObservedState | None = None
    ) -> ApplyResult:
        """Dispatch one step's operation; a Deployment scale is not Kafka's and is refused."""
        ...

    async def create_topic(self, change: CreateTopic) -> ApplyResult:
        """Already applied when the topic exists with the same partitions, replication and
        configs; ``ConflictError`` when it exists with different ones."""
        ...

    async def increase_partitions(self, change: IncreasePartitions) -> ApplyResult:
        """Already applied at the target count; ``ConflictError`` when the topic has more."""
        ...

    async def alter_topic_config(self, change: AlterTopicConfig) -> ApplyResult:
        """Incremental: sets keys whose override differs, deletes overrides that exist."""
        ...

    async def reset_consumer_group_offsets(
        self, change: ResetConsumerGroupOffsets, *, snapshot: ObservedState | None = None
    ) -> ApplyResult:
        """``GroupNotEmptyError`` when the group has members, listed or implied by its state
        (Stable or rebalancing); otherwise resolves the target and commits what differs."""
        ...

    async def alter_acls(self, change: AlterAcls) -> ApplyResult:
        """Creates the missing bindings of ``add``, deletes the existing ones of ``remove``."""
        ...

    async def delete_topic(self, change: DeleteTopic) -> ApplyResult:
        """Already applied when the topic does not exist."""
        ...

    # --- snapshot ---------------------------------------------------------------------------

    async def snapshot(self, change: Change | ChangeMember) -> ObservedState:
        """Exactly the live state the change's rollback and stale check need.

        CreateTopic: whether the topic exists (and its shape). IncreasePartitions and
        DeleteTopic: partitions, replication, topic overrides, groups consuming it.
        AlterTopicConfig: touched keys and retention with their sources, consumers.
        ResetConsumerGroupOffsets: group state, members, committed and log offsets.
        AlterAcls: the existing bindings among those the change names.
        """
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
