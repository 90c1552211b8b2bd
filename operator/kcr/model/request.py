"""KafkaChangeRequest: a drafted Kafka change, its review, and the record of its execution."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from kcr.model.base import KubeModel, MutableKubeModel
from kcr.model.change import Change
from kcr.model.cluster import HealthGates
from kcr.model.conditions import Condition
from kcr.model.names import GroupId, KubeName, Principal, TopicName
from kcr.model.observed import ObservedState
from kcr.model.operation import Operation
from kcr.model.progress import MAX_PROGRESS_GROUPS, ConsumerPositions, GroupProgress
from kcr.model.risk import Risk

HISTORY_LIMIT = 50
MAX_EVIDENCE = 50
# Bounds the API server needs to estimate the cost of the CEL rules on every step:
# a plan has at most one stage per topic and at most ``batchSize`` (≤ 100) steps a stage.
MAX_STAGES = 100
MAX_STEPS_PER_STAGE = 100
MAX_ROLLBACK_STEPS = 200
MAX_BLAST_RADIUS_ITEMS = 1000
MAX_CONDITIONS = 20
MAX_APPROVALS = 50
HASH_MAX_LENGTH = 128
# Type:PatternType:Name with the longest type and pattern spellings and a 255-character name.
ACL_RESOURCE_MAX_LENGTH = 300


class Channel(StrEnum):
    MCP = "mcp"
    KUBECTL = "kubectl"
    GITOPS = "gitops"


class RequestedBy(KubeModel):
    """Who asked; set by the MCP server from the authenticated caller, never by the model."""

    principal: Annotated[str, Field(min_length=1, max_length=512)]
    tenant: Annotated[str, Field(max_length=128)] = ""
    channel: Channel
    correlation_id: Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9._:-]*$")] = ""


MAX_REQUEST_TEXT = 8192


class EvidenceKind(StrEnum):
    METADATA = "Metadata"
    CONFIG = "Config"
    LAG = "Lag"
    CONSUMER_GROUP = "ConsumerGroup"
    METRIC = "Metric"
    DEPLOYMENT = "Deployment"
    RUNBOOK = "Runbook"
    ACL = "Acl"
    CONNECTOR = "Connector"
    SCHEMA = "Schema"


class TimeWindow(KubeModel):
    """The span a claim rests on: a rate over samples, a metric range, or one moment
    (``start == end``) for a value read once. Without it a reviewer cannot tell whether
    two claims can be compared."""

    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> "TimeWindow":
        if self.end < self.start:
            raise ValueError("timeWindow.end is before timeWindow.start")
        return self

    @classmethod
    def at(cls, moment: datetime) -> "TimeWindow":
        return cls(start=moment, end=moment)


class Evidence(KubeModel):
    kind: EvidenceKind
    source: Annotated[str, Field(min_length=1, max_length=256, description="Where it was read")]
    query: Annotated[str, Field(max_length=2048)] = ""
    time_window: TimeWindow = Field(description="When the observation holds, a moment or a span")
    observed_value: Annotated[str, Field(max_length=4096)]
    captured_at: datetime


class FailurePolicy(StrEnum):
    ROLLBACK = "Rollback"
    PAUSE = "Pause"


class Rollout(KubeModel):
    canary: Annotated[int, Field(ge=1, le=100, description="Targets in the first stage")] = 1
    batch_size: Annotated[int, Field(ge=1, le=100, description="Targets per later stage")] = 10
    bake_seconds: Annotated[int, Field(ge=0, le=86_400, description="Wait before each gate")] = 30
    gates: HealthGates | None = Field(
        default=None, description="Health gates; the cluster's defaultGates when unset"
    )
    on_failure: FailurePolicy = FailurePolicy.ROLLBACK


class KafkaChangeRequestSpec(KubeModel):
    cluster: KubeName = Field(description="Name of a KafkaCluster in this namespace")
    change: Change
    requested_by: RequestedBy
    reason: Annotated[str, Field(min_length=1, max_length=4096)]
    evidence: Annotated[list[Evidence], Field(max_length=MAX_EVIDENCE)] = Field(
        default_factory=list
    )
    observed: ObservedState | None = Field(
        default=None, description="The live state the draft was based on"
    )
    rollout: Rollout = Field(default_factory=Rollout)
    request_text: Annotated[str, Field(max_length=MAX_REQUEST_TEXT)] | None = Field(
        default=None,
        description="The user's request as they wrote it, kept for reviewers: untrusted "
        "text that nothing interprets",
    )
    approval_ttl_seconds: Annotated[int, Field(ge=60, le=30 * 86_400)] = 7 * 86_400


class Phase(StrEnum):
    PENDING = "Pending"
    AWAITING_APPROVAL = "AwaitingApproval"
    APPROVED = "Approved"
    EXECUTING = "Executing"
    PAUSED = "Paused"
    SUCCEEDED = "Succeeded"
    INVALID = "Invalid"
    REJECTED = "Rejected"
    EXPIRED = "Expired"
    STALE = "Stale"
    FAILED = "Failed"
    AWAITING_ROLLBACK_APPROVAL = "AwaitingRollbackApproval"
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"
    ROLLBACK_FAILED = "RollbackFailed"


class BlastRadius(KubeModel):
    topics: Annotated[list[TopicName], Field(max_length=MAX_BLAST_RADIUS_ITEMS)] = Field(
        default_factory=list
    )
    partitions: Annotated[int, Field(ge=0)] = 0
    consumer_groups: Annotated[list[GroupId], Field(max_length=MAX_BLAST_RADIUS_ITEMS)] = Field(
        default_factory=list
    )
    principals: Annotated[list[Principal], Field(max_length=MAX_BLAST_RADIUS_ITEMS)] = Field(
        default_factory=list
    )
    acl_resources: Annotated[
        list[Annotated[str, Field(max_length=ACL_RESOURCE_MAX_LENGTH)]],
        Field(max_length=MAX_BLAST_RADIUS_ITEMS),
    ] = Field(
        default_factory=list,
        description=(
            "ACL resource patterns the change binds, as Type:PatternType:Name "
            "(Topic:Literal:*, Group:Prefixed:billing-); patterns, not names"
        ),
    )

    def describe(self) -> str:
        """One line for people reviewing in a terminal."""
        return (
            f"topics {', '.join(self.topics) or '-'}; {self.partitions} partitions; "
            f"groups {', '.join(self.consumer_groups) or '-'}; "
            f"principals {', '.join(self.principals) or '-'}"
            + (f"; ACL patterns {', '.join(self.acl_resources)}" if self.acl_resources else "")
        )


class StepState(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    ROLLED_BACK = "RolledBack"


class Step(MutableKubeModel):
    id: Annotated[str, Field(min_length=1, max_length=128)]
    description: Annotated[str, Field(max_length=1024)]
    operation: Operation
    idempotence_key: Annotated[str, Field(min_length=1, max_length=1024)]
    irreversible: bool = False
    timeout_seconds: Annotated[int, Field(ge=1, le=7 * 86_400)] | None = Field(
        default=None,
        description="How long the step may keep answering 'not yet' (a replica move it waits "
        "for) or retriable errors; the operator's step timeout when unset",
    )
    undoes: Annotated[str, Field(max_length=128)] = Field(
        default="", description="On a rollback step: the id of the forward step it reverses"
    )
    state: StepState = StepState.PENDING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: Annotated[str, Field(max_length=4096)] = ""


class Stage(MutableKubeModel):
    name: Annotated[str, Field(min_length=1, max_length=63)]
    steps: Annotated[list[Step], Field(max_length=MAX_STEPS_PER_STAGE)]
    gate_state: StepState = StepState.PENDING
    gate_result: Annotated[str, Field(max_length=4096)] = ""
    bake_started_at: datetime | None = Field(
        default=None, description="When the stage's steps were done and its bake time began"
    )
    bake_positions: ConsumerPositions | None = Field(
        default=None, description="The judged consumer groups' positions when the bake began"
    )
    progress: Annotated[list[GroupProgress], Field(max_length=MAX_PROGRESS_GROUPS)] = Field(
        default_factory=list,
        description="The consumer progress gate's verdict on each group, with its numbers",
    )


class Plan(MutableKubeModel):
    stages: Annotated[list[Stage], Field(max_length=MAX_STAGES)] = Field(default_factory=list)
    hash: Annotated[str, Field(max_length=HASH_MAX_LENGTH)] = Field(
        default="", description="sha256 of the stages and steps, without state"
    )


class RollbackPlan(MutableKubeModel):
    reversible: bool
    steps: Annotated[list[Step], Field(max_length=MAX_ROLLBACK_STEPS)] = Field(default_factory=list)
    irreversible_reasons: Annotated[
        list[Annotated[str, Field(max_length=1024)]], Field(max_length=MAX_ROLLBACK_STEPS)
    ] = Field(default_factory=list, description="What cannot be undone, in plain words")


class HealthBaseline(KubeModel):
    """Cluster health read with the snapshot: the gates compare against it, not against zero."""

    captured_at: datetime
    under_replicated_partitions: Annotated[int, Field(ge=0)] | None = None
    consumer_positions: Annotated[list[ConsumerPositions], Field(max_length=2)] = Field(
        default_factory=list,
        description="The watched groups' positions at the start and the end of the window "
        "measured before the first write",
    )


class Approval(KubeModel):
    user: Annotated[str, Field(min_length=1, max_length=256)]
    at: datetime
    spec_hash: Annotated[str, Field(max_length=HASH_MAX_LENGTH)]
    plan_hash: Annotated[str, Field(max_length=HASH_MAX_LENGTH)]
    signed: bool = Field(
        default=False,
        description="Proven by the approver's SSH signature over the spec hash, carried in git",
    )
    cluster_policy_hash: Annotated[str, Field(max_length=HASH_MAX_LENGTH)] = Field(
        default="", description="status.clusterPolicy.hash when the approval counted"
    )


class ClusterPolicyRecord(KubeModel):
    """The KafkaCluster policy a review, and the approvals given on it, were made under."""

    hash: Annotated[str, Field(max_length=HASH_MAX_LENGTH)]
    fields: Annotated[
        dict[
            Annotated[str, Field(max_length=128)],
            Annotated[str, Field(max_length=HASH_MAX_LENGTH)],
        ],
        Field(max_length=64, description="Governing field path → digest of its value"),
    ] = Field(default_factory=dict)


class RollbackReview(MutableKubeModel):
    """A rollback asked for after Succeeded: a Kafka write of its own, reviewed like a change.

    Its risk comes from its own steps against the live state read when it was asked for,
    and approvals count only for ``hash``, from people other than ``requestedBy``.
    """

    requested_by: Annotated[str, Field(min_length=1, max_length=256)] = Field(
        description="Who asked for the rollback (kcr.dev/rollback-requested-by)"
    )
    requested_at: datetime
    steps: Annotated[
        list[Annotated[str, Field(max_length=128)]], Field(max_length=MAX_ROLLBACK_STEPS)
    ] = Field(default_factory=list, description="Ids of the status.rollbackPlan steps it runs")
    risk: Risk
    risk_reasons: Annotated[
        list[Annotated[str, Field(max_length=1024)]], Field(max_length=MAX_ROLLBACK_STEPS)
    ] = Field(default_factory=list)
    required_approvals: Annotated[int, Field(ge=1, le=5)]
    hash: Annotated[str, Field(max_length=HASH_MAX_LENGTH)] = Field(
        description="sha256 of the steps, the risk and the request; kcr.dev/rollback-approved-hash"
    )
    approvals: Annotated[list[Approval], Field(max_length=MAX_APPROVALS)] = Field(
        default_factory=list
    )


class HistoryEntry(KubeModel):
    at: datetime
    phase: Phase
    reason: Annotated[str, Field(max_length=1024)]
    message: Annotated[str, Field(max_length=4096)] = ""


class DataMovement(KubeModel):
    """What a change moves between brokers: "which actions move data?", answered per plan."""

    bytes: Annotated[int, Field(ge=0)] | None = Field(
        default=0, description="Bytes copied between brokers; null when they could not be read"
    )
    seconds: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="How long the copy takes at the replication throttle"
    )
    summary: Annotated[str, Field(max_length=1024)] = Field(
        default="no records move", description="The movement in words, for reviewers"
    )

    def describe(self) -> str:
        if self.bytes is None:
            return self.summary
        took = f", about {self.seconds}s at the throttle" if self.seconds is not None else ""
        return f"{self.bytes} bytes{took}: {self.summary}"


class KafkaChangeRequestStatus(MutableKubeModel):
    phase: Phase = Phase.PENDING
    conditions: Annotated[list[Condition], Field(max_length=MAX_CONDITIONS)] = Field(
        default_factory=list
    )
    observed_generation: int | None = None
    risk: Risk | None = None
    irreversible: bool = False
    blast_radius: BlastRadius | None = None
    data_movement: DataMovement | None = None
    spec_hash: Annotated[str, Field(max_length=HASH_MAX_LENGTH)] | None = None
    plan: Plan | None = None
    snapshot: ObservedState | None = None
    baseline: HealthBaseline | None = None
    rollback_plan: RollbackPlan | None = None
    succeeded_at: datetime | None = Field(
        default=None,
        description="When every step and gate was done; a rollback window runs from it",
    )
    post_change: ObservedState | None = Field(
        default=None,
        description="The live state the change left, read when it succeeded; a later rollback "
        "is Stale when the live state no longer equals it",
    )
    rollback_review: RollbackReview | None = None
    rollback_cause: Annotated[str, Field(max_length=4096)] = Field(
        default="",
        description="Why the running or last rollback began (a failed step or gate, an abort, "
        "a request); set when a rollback begins, and named when it fails",
    )
    approvals: Annotated[list[Approval], Field(max_length=MAX_APPROVALS)] = Field(
        default_factory=list
    )
    approved_by: Annotated[str, Field(max_length=1024)] = Field(
        default="", description="Comma list of accepted approvers, for the printer column"
    )
    cluster_policy: ClusterPolicyRecord | None = None
    voided_signatures: Annotated[
        list[Annotated[str, Field(max_length=HASH_MAX_LENGTH)]],
        Field(
            max_length=MAX_APPROVALS,
            description="sha256 of signed approvals given under an earlier cluster policy",
        ),
    ] = Field(default_factory=list)
    history: Annotated[list[HistoryEntry], Field(max_length=HISTORY_LIMIT)] = Field(
        default_factory=list
    )
    message: Annotated[str, Field(max_length=32768)] = ""
    change_type: Annotated[str, Field(max_length=64)] = Field(
        default="", description="Copy of spec.change.type for kubectl"
    )
    target: Annotated[str, Field(max_length=1024)] = Field(
        default="", description="One-line target for kubectl"
    )


def append_history(history: list[HistoryEntry], entry: HistoryEntry) -> list[HistoryEntry]:
    """Keep the newest ``HISTORY_LIMIT`` entries: the audit trail must stay bounded."""
    return [*history, entry][-HISTORY_LIMIT:]


class ObjectMeta(KubeModel):
    model_config = KubeModel.model_config | {"extra": "allow"}

    name: KubeName
    namespace: str | None = None
    annotations: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)


class KafkaChangeRequest(KubeModel):
    api_version: str = "kcr.dev/v1alpha1"
    kind: str = "KafkaChangeRequest"
    metadata: ObjectMeta
    spec: KafkaChangeRequestSpec
    status: KafkaChangeRequestStatus | None = None
