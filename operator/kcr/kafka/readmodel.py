"""What the Kafka port reads, as pydantic values that serialise as evidence.

Camel-case like the rest of kcr, so a read can be pasted into ``spec.evidence`` or returned
by an MCP tool unchanged. Derived numbers (offline, under-replicated, counts) are fields,
recomputed on validation, so they appear in JSON and can never disagree with the raw data.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator
from pydantic.alias_generators import to_snake

from kcr.model import AclOperation, AclPermission, AclResourceType, ConfigSource, GroupState
from kcr.model.base import KubeModel

NO_LEADER = -1
# States in which a group has members, whether or not the broker lists them.
ACTIVE_GROUP_STATES = frozenset(
    {GroupState.STABLE, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE}
)


class Broker(KubeModel):
    id: int
    host: str
    port: Annotated[int, Field(ge=0, le=65535)]
    rack: str | None = None


class ClusterOverview(KubeModel):
    cluster_id: str | None = None
    controller_id: int | None = Field(default=None, description="Null when the broker hides it")
    brokers: list[Broker] = Field(default_factory=list)
    topics: Annotated[int, Field(ge=0)] = 0
    partitions: Annotated[int, Field(ge=0)] = 0
    offline_partitions: Annotated[int, Field(ge=0)] = 0
    under_replicated_partitions: Annotated[int, Field(ge=0)] = 0
    observed_at: datetime


class PartitionInfo(KubeModel):
    partition: Annotated[int, Field(ge=0)]
    leader: int | None = Field(default=None, description="Broker id; null when offline")
    replicas: list[int] = Field(default_factory=list)
    isr: list[int] = Field(default_factory=list, description="In-sync replicas")
    offline: bool = Field(default=False, description="No leader: nobody can read or write")
    under_replicated: bool = Field(default=False, description="ISR smaller than replicas")

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        if isinstance(data, dict):
            leader = data.get("leader")
            replicas = data.get("replicas") or []
            isr = data.get("isr") or []
            data = {**data}
            data.pop("underReplicated", None)
            data["leader"] = None if leader is None or leader == NO_LEADER else leader
            data["offline"] = data["leader"] is None
            data["under_replicated"] = len(isr) < len(replicas)
        return data


def internal_topic(name: str, *, flagged: bool = False) -> bool:
    """Kafka reserves the ``__`` prefix for its own topics and flags some of them.

    A Metadata listing carries no flag and a description does; the prefix covers both, so
    a topic is classed the same whichever read found it.
    """
    return flagged or name.startswith("__")


class TopicInfo(KubeModel):
    name: str
    internal: bool = False
    partitions: list[PartitionInfo] = Field(default_factory=list)
    replication_factor: Annotated[int, Field(ge=0)] = 0
    offline_partitions: Annotated[int, Field(ge=0)] = 0
    under_replicated_partitions: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in _TOPIC_DERIVED}
            parts = [
                p if isinstance(p, PartitionInfo) else PartitionInfo.model_validate(p)
                for p in data.get("partitions") or []
            ]
            data["partitions"] = sorted(parts, key=lambda p: p.partition)
            data["replication_factor"] = max((len(p.replicas) for p in parts), default=0)
            data["offline_partitions"] = sum(p.offline for p in parts)
            data["under_replicated_partitions"] = sum(p.under_replicated for p in parts)
        return data

    @property
    def partition_count(self) -> int:
        return len(self.partitions)


_TOPIC_DERIVED = {
    "replicationFactor",
    "replication_factor",
    "offlinePartitions",
    "offline_partitions",
    "underReplicatedPartitions",
    "under_replicated_partitions",
}


class ConfigEntry(KubeModel):
    value: str | None = Field(default=None, description="Null when the broker marks it sensitive")
    source: ConfigSource = ConfigSource.UNKNOWN
    sensitive: bool = False
    read_only: bool = False


class TopicConfigs(KubeModel):
    topic: str
    configs: dict[str, ConfigEntry] = Field(default_factory=dict)

    def value(self, key: str) -> str | None:
        entry = self.configs.get(key)
        return entry.value if entry else None

    def overrides(self) -> dict[str, ConfigEntry]:
        """The keys set on the topic itself, the ones a config change or rollback touches."""
        return {k: e for k, e in self.configs.items() if e.source is ConfigSource.TOPIC_OVERRIDE}


class TopicPartition(KubeModel):
    topic: str
    partition: Annotated[int, Field(ge=0)]


class Reassignment(KubeModel):
    """A partition whose replicas are moving (ListPartitionReassignments): the replication
    traffic competes with producers and consumers until it ends."""

    topic: str
    partition: Annotated[int, Field(ge=0)]
    replicas: list[int] = Field(description="The full replica set while it moves")
    adding: list[int] = Field(default_factory=list, description="Brokers receiving a copy")
    removing: list[int] = Field(default_factory=list, description="Brokers giving theirs up")
    bytes_left: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Bytes the adding brokers still have to copy, from the log dir sizes; "
        "null when the cluster does not report them",
    )

    @property
    def target(self) -> list[int]:
        """The replicas the partition will have when the move ends (Kafka lists them first)."""
        return [b for b in self.replicas if b not in self.removing]


class ReassignmentReport(KubeModel):
    reassignments: list[Reassignment]
    bytes_left: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Sum over the moves; null when any is unknown"
    )
    observed_at: datetime


class GroupListing(KubeModel):
    group: str
    state: GroupState = GroupState.UNKNOWN
    simple: bool = Field(default=False, description="Commits offsets without group membership")


class GroupMember(KubeModel):
    member_id: str
    client_id: str = ""
    host: str = ""
    group_instance_id: str | None = None
    assignments: list[TopicPartition] = Field(default_factory=list)


class GroupDescription(KubeModel):
    group: str
    exists: bool = Field(
        default=True, description="False when the broker knows no such group (state Dead)"
    )
    state: GroupState = GroupState.UNKNOWN
    assignor: str | None = None
    coordinator: int | None = None
    generation: int | None = Field(default=None, description="Null when the client hides it")
    members: list[GroupMember] = Field(default_factory=list)
    observed_at: datetime

    @property
    def active(self) -> bool:
        """Members listed, or a state only a group with members has.

        Some brokers (tansu) describe a Stable group without listing its members, so an
        empty member list alone does not prove the group is empty.
        """
        return bool(self.members) or self.state in ACTIVE_GROUP_STATES


class CommittedOffset(KubeModel):
    topic: str
    partition: Annotated[int, Field(ge=0)]
    offset: int | None = Field(default=None, description="Null when the group never committed")


class GroupOffsets(KubeModel):
    group: str
    offsets: list[CommittedOffset] = Field(default_factory=list)


class PartitionOffsets(KubeModel):
    topic: str
    partition: Annotated[int, Field(ge=0)]
    earliest: Annotated[int, Field(ge=0, description="Log start offset")]
    latest: Annotated[int, Field(ge=0, description="Log end offset (high watermark)")]


class HotPartitionRule(KubeModel):
    """A partition is hot when its lag is at least ``factor`` times the mean of its siblings'.

    Siblings are the other partitions of the same topic in the same group; a topic needs at
    least two partitions with committed offsets, and the lag must reach ``minLag``.
    """

    factor: Annotated[float, Field(ge=1.0, le=1000.0)] = 3.0
    min_lag: Annotated[int, Field(ge=1)] = 100


class PartitionLag(KubeModel):
    topic: str
    partition: Annotated[int, Field(ge=0)]
    committed: int | None = None
    log_start: Annotated[int, Field(ge=0)] = 0
    log_end: Annotated[int, Field(ge=0)] = 0
    lag: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Log end minus committed; null without a commit"
    )
    hot: bool = False


class TopicLag(KubeModel):
    topic: str
    total_lag: Annotated[int, Field(ge=0)] = 0
    max_lag: Annotated[int, Field(ge=0)] = 0
    partitions: list[PartitionLag] = Field(default_factory=list)


class GroupLag(KubeModel):
    group: str
    state: GroupState = GroupState.UNKNOWN
    members: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Null when the report skipped group descriptions"
    )
    total_lag: Annotated[int, Field(ge=0)] = 0
    topics: list[TopicLag] = Field(default_factory=list)


class HotPartition(KubeModel):
    group: str
    topic: str
    partition: Annotated[int, Field(ge=0)]
    lag: Annotated[int, Field(ge=0)]
    siblings_mean_lag: Annotated[float, Field(ge=0)]


class LagReport(KubeModel):
    observed_at: datetime
    rule: HotPartitionRule = Field(default_factory=HotPartitionRule)
    total_lag: Annotated[int, Field(ge=0)] = 0
    partitions: Annotated[int, Field(ge=0, description="Partition rows in the report")] = 0
    groups: list[GroupLag] = Field(default_factory=list)
    hot_partitions: list[HotPartition] = Field(default_factory=list, description="Hottest first")

    def group(self, group: str) -> GroupLag | None:
        return next((g for g in self.groups if g.group == group), None)


class AclPatternFilter(StrEnum):
    """How a filter's resource name matches bindings (Kafka's PatternType for filters)."""

    ANY = "Any"
    MATCH = "Match"  # every binding that applies to the name: literal, '*' and prefixes
    LITERAL = "Literal"
    PREFIXED = "Prefixed"


class AclFilter(KubeModel):
    """Null fields match anything, as in Kafka's AclBindingFilter."""

    resource_type: AclResourceType | None = None
    resource_name: str | None = None
    pattern_type: AclPatternFilter = AclPatternFilter.ANY
    principal: str | None = None
    host: str | None = None
    operation: AclOperation | None = None
    permission: AclPermission | None = None


OPTIONAL_FEATURES = frozenset(
    {
        "createPartitions",
        "describeAcls",
        "createAcls",
        "deleteAcls",
        "describeLogDirs",
        "alterPartitionReassignments",
        "electLeaders",
        "describeClientQuotas",
        "alterClientQuotas",
    }
)


class Capabilities(KubeModel):
    """What the connected cluster can do, found by asking it, with the reason for each no.

    One flag per optional Kafka API, so a broker that serves some of the ACL APIs (reading
    bindings but not writing them) is used for what it serves.
    """

    create_partitions: bool = True
    describe_acls: bool = True
    create_acls: bool = True
    delete_acls: bool = True
    describe_log_dirs: bool = True
    alter_partition_reassignments: bool = True
    elect_leaders: bool = True
    describe_client_quotas: bool = True
    alter_client_quotas: bool = True
    reasons: dict[str, str] = Field(
        default_factory=dict,
        description="Feature (createPartitions, describeAcls, ...) → why it is unavailable",
    )

    def serves(self, feature: str) -> bool:
        """``feature`` by its camelCase name, as in ``reasons``."""
        return bool(getattr(self, to_snake(feature)))

    def reason(self, feature: str) -> str:
        return self.reasons.get(feature, "")
