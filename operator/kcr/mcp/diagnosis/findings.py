"""What a diagnosis is made of: findings, their kinds and severities, and the facts.

Pure values; :mod:`kcr.mcp.diagnosis.engine` ranks the findings the detectors produce.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from kcr.kafka import (
    ClientQuota,
    GroupLag,
    LagReport,
    ReassignmentReport,
    ReplicaLogSize,
    TopicConfigs,
    TopicInfo,
)
from kcr.mcp.access import Verdict
from kcr.mcp.broker_metrics import (
    DEFAULT_LOG_DIR_MOUNTPOINT,
    MetricFamily,
    MetricRange,
    Mountpoint,
)
from kcr.mcp.cluster import OwnerInfo
from kcr.mcp.connect import ConnectReport
from kcr.mcp.incidents import IncidentLibrary, IncidentRef
from kcr.mcp.sampler import GroupSample, RebalanceEvent
from kcr.mcp.schemas import SchemaCompatibility, SchemaHistory
from kcr.mcp.workloads import Workload
from kcr.model import (
    AclOperation,
    AclResourceType,
    Change,
    Evidence,
    EvidenceKind,
    Ownership,
    TimeWindow,
)
from kcr.model.base import KubeModel
from kcr.policy.strimzi_drift import DriftRow


class FindingKind(StrEnum):
    OFFLINE_PARTITIONS = "OfflinePartitions"
    LAG_BEYOND_RETENTION = "LagBeyondRetention"
    UNDER_REPLICATED = "UnderReplicated"
    HOT_PARTITION = "HotPartition"
    LAG_AFTER_ROLLOUT = "LagAfterRollout"
    STUCK_CONSUMER = "StuckConsumer"
    REBALANCE_STORM = "RebalanceStorm"
    NO_ACTIVE_CONSUMER = "NoActiveConsumer"
    SLOW_CONSUMER = "SlowConsumer"
    LEADER_SKEW = "LeaderSkew"
    REASSIGNMENT_IN_PROGRESS = "ReassignmentInProgress"
    CONNECTOR_TASK_FAILED = "ConnectorTaskFailed"
    THROUGHPUT_SPIKE = "ThroughputSpike"
    QUOTA_PRESSURE = "QuotaPressure"
    SLOW_BROKER = "SlowBroker"
    DISK_PRESSURE = "DiskPressure"
    SCHEMA_CHANGED = "SchemaChanged"
    SCHEMA_INCOMPATIBLE = "SchemaIncompatible"
    ACCESS_DENIED = "AccessDenied"
    STRIMZI_DRIFT = "StrimziDrift"


class Severity(StrEnum):
    CRITICAL = "Critical"
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"


class RunbookRef(KubeModel):
    runbook: str
    section: str
    title: str


class Proposal(KubeModel):
    """The Kafka change a finding calls for: its ``change`` holds the draft tool's arguments
    (``draft_<snake_case of change.type>``). A finding whose fix is not a Kafka change (a
    consumer to repair, a producer to correct) carries none."""

    change: Change
    reason: str = Field(description="Why this change answers the finding, for the draft")


class Finding(KubeModel):
    rank: int = 0
    kind: FindingKind
    severity: Severity
    score: float = Field(description="Higher needs a person sooner; findings are sorted by it")
    subject: str = Field(description="What it is about: topic/partition, group/<id>, broker")
    summary: str
    evidence: list[Evidence]
    runbook: RunbookRef | None = None
    topic: str | None = Field(default=None, description="The topic it is about, if one")
    group: str | None = Field(default=None, description="The consumer group it is about, if one")
    owner: OwnerInfo | None = Field(
        default=None, description="The team the ownership map names for its group or topic"
    )
    past_incidents: list[IncidentRef] = Field(
        default_factory=list, description="Past incidents on the same topic or of this kind"
    )
    proposal: Proposal | None = Field(
        default=None,
        description="The Kafka change to draft for it, or none when the fix is not a Kafka change",
    )


class Thresholds(KubeModel):
    storm_rebalances: int = 3
    storm_window_minutes: int = 10
    rollout_window_minutes: int = 120
    leader_skew_ratio: float = 1.5
    retention_risk_fraction: float = 0.8
    stuck_after_seconds: float = 60.0
    metrics_window_minutes: int = 15
    log_dir_mountpoint: Mountpoint = DEFAULT_LOG_DIR_MOUNTPOINT
    disk_pressure_used_fraction: float = Field(
        default=0.85,
        gt=0.0,
        le=1.0,
        description="A broker whose log dir filesystem is this full (or more) is under pressure",
    )
    hot_partition_bytes_factor: float = Field(
        default=3.0,
        gt=1.0,
        description="A partition holding this many times its siblings' mean bytes is hot",
    )
    hot_partition_min_bytes: int = Field(
        default=1 << 20,
        ge=0,
        description="Below this size no partition is called hot, whatever its siblings hold",
    )


# Where to read next, per finding: a runbook name and its section.
RUNBOOK_SECTIONS: Mapping[FindingKind, tuple[str, str]] = {
    FindingKind.OFFLINE_PARTITIONS: ("offline-partitions", "diagnose"),
    FindingKind.LAG_BEYOND_RETENTION: ("retention", "lag-older-than-retention"),
    FindingKind.UNDER_REPLICATED: ("under-replicated-partitions", "diagnose"),
    FindingKind.HOT_PARTITION: ("consumer-lag", "hot-partitions"),
    FindingKind.LAG_AFTER_ROLLOUT: ("consumer-lag", "lag-after-a-rollout"),
    FindingKind.STUCK_CONSUMER: ("consumer-lag", "slow-or-stuck-consumers"),
    FindingKind.REBALANCE_STORM: ("rebalance-storms", "diagnose"),
    FindingKind.NO_ACTIVE_CONSUMER: ("consumer-lag", "slow-or-stuck-consumers"),
    FindingKind.SLOW_CONSUMER: ("consumer-lag", "slow-or-stuck-consumers"),
    FindingKind.LEADER_SKEW: ("disk-pressure", "diagnose"),
    FindingKind.REASSIGNMENT_IN_PROGRESS: ("reassignments", "diagnose"),
    FindingKind.CONNECTOR_TASK_FAILED: ("connectors", "failed-tasks"),
    FindingKind.THROUGHPUT_SPIKE: ("broker-metrics", "throughput-spike"),
    FindingKind.QUOTA_PRESSURE: ("broker-metrics", "quota-pressure"),
    FindingKind.SLOW_BROKER: ("broker-metrics", "slow-broker"),
    FindingKind.DISK_PRESSURE: ("disk-pressure", "diagnose"),
    FindingKind.SCHEMA_CHANGED: ("consumer-lag", "lag-after-a-rollout"),
    FindingKind.SCHEMA_INCOMPATIBLE: ("schema-registry", "incompatible-schema"),
    FindingKind.ACCESS_DENIED: ("authorization-failures", "diagnose"),
    FindingKind.STRIMZI_DRIFT: ("strimzi", "drift"),
}


@dataclass(frozen=True)
class Facts:
    cluster: str
    now: datetime
    topics: list[TopicInfo]
    topics_observed_at: datetime
    brokers: list[int]
    configs: Mapping[str, TopicConfigs] = field(default_factory=dict)
    lag: LagReport | None = None
    history: Mapping[str, list[GroupSample]] = field(default_factory=dict)
    rebalances: Mapping[str, list[RebalanceEvent]] = field(default_factory=dict)
    # Consumer group → the workloads that consume for it.
    workloads: Mapping[str, list[Workload]] = field(default_factory=dict)
    runbooks: Mapping[FindingKind, RunbookRef] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    ownership: tuple[Ownership, ...] = ()
    # Replica moves on the topics in question; None when they could not be read.
    reassignments: ReassignmentReport | None = None
    # Kafka Connect's connectors and tasks; None when no Connect is configured or readable.
    connect: ConnectReport | None = None
    # Broker metric ranges from Prometheus, by family; empty without a Prometheus.
    metrics: Mapping[MetricFamily, MetricRange] = field(default_factory=dict)
    incidents: IncidentLibrary = field(default_factory=IncidentLibrary)
    # Schema versions of the topics in question, by topic.
    schemas: Mapping[str, SchemaHistory] = field(default_factory=dict)
    # Access questions asked with the diagnosis (a client the broker refuses), answered.
    access: tuple["AccessCheck", ...] = ()
    # A producer's schema asked about with the diagnosis, as the registry judged it.
    schema_checks: tuple[SchemaCompatibility, ...] = ()
    # The log size of each replica of the topics in question (DescribeLogDirs); None unread.
    log_sizes: "LogSizes | None" = None
    # Client quotas the caller may see, read when the brokers throttle someone; None unread.
    quotas: "QuotaReading | None" = None
    # Where Kafka differs from the Strimzi resources managing the topics (and the principal)
    # in question; read at ``strimzi_observed_at`` (None: not read, or no Strimzi).
    strimzi_drift: tuple[DriftRow, ...] = ()
    strimzi_observed_at: datetime | None = None
    strimzi_source: str = ""


@dataclass(frozen=True)
class LogSizes:
    """Bytes on disk per replica, as the brokers reported them at one moment."""

    replicas: tuple[ReplicaLogSize, ...]
    observed_at: datetime
    source: str


@dataclass(frozen=True)
class QuotaReading:
    """Client quotas as DescribeClientQuotas returned them at one moment."""

    quotas: tuple[ClientQuota, ...]
    observed_at: datetime
    source: str


@dataclass(frozen=True)
class AccessCheck:
    """May ``principal`` do ``operation`` on a topic or group, as the ACLs read say."""

    principal: str
    operation: AclOperation
    resource_type: AclResourceType
    resource_name: str
    verdict: Verdict
    observed_at: datetime
    source: str


# Consumer-side findings (hot, stuck, idle, slow, storms, rollouts) rank by a base for their
# nature plus the records at stake, and stay below replication and data-loss findings.
CONSUMER_CEILING = 79.0
RECORDS_WEIGHT = 3.0
MAX_RECORDS_BONUS = 15.0


def consumer_score(base: float, records: int, extra: float = 0.0) -> float:
    """``base`` plus 3 points per tenfold records at stake (at most 15), plus ``extra``:
    a consumer issue with far more records waiting outranks a smaller one of another kind."""
    bonus = min(MAX_RECORDS_BONUS, RECORDS_WEIGHT * math.log10(1 + max(records, 0)))
    return round(min(CONSUMER_CEILING, base + bonus + extra), 2)


def source(facts: Facts, what: str) -> str:
    return f"kafka/{facts.cluster}: {what}"


def metadata_evidence(facts: Facts, query: str, value: str) -> Evidence:
    return Evidence(
        kind=EvidenceKind.METADATA,
        source=source(facts, "Metadata"),
        query=query,
        observed_value=value[:4096],
        time_window=TimeWindow.at(facts.topics_observed_at),
        captured_at=facts.topics_observed_at,
    )


def lag_evidence(facts: Facts, report: LagReport, query: str, value: str) -> Evidence:
    return Evidence(
        kind=EvidenceKind.LAG,
        source=source(facts, "OffsetFetch + ListOffsets"),
        query=query,
        observed_value=value[:4096],
        time_window=TimeWindow.at(report.observed_at),
        captured_at=report.observed_at,
    )


def group_rows(facts: Facts) -> list[GroupLag]:
    return facts.lag.groups if facts.lag else []
