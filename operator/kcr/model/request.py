"""KafkaChangeRequest: a drafted Kafka change, its review, and the record of its execution."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kcr.model.base import KubeModel, MutableKubeModel
from kcr.model.change import Change
from kcr.model.cluster import HealthGates
from kcr.model.conditions import Condition
from kcr.model.names import GroupId, KubeName, Principal, TopicName
from kcr.model.observed import ObservedState
from kcr.model.operation import Operation
from kcr.model.risk import Risk

HISTORY_LIMIT = 50
MAX_EVIDENCE = 50


class Channel(StrEnum):
    MCP = "mcp"
    KUBECTL = "kubectl"
    GITOPS = "gitops"


class RequestedBy(KubeModel):
    """Who asked; set by the MCP server from the authenticated caller, never by the model."""

    principal: Annotated[str, Field(min_length=1, max_length=256)]
    tenant: Annotated[str, Field(max_length=128)] = ""
    channel: Channel
    correlation_id: Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9._:-]*$")] = ""


class EvidenceKind(StrEnum):
    METADATA = "Metadata"
    CONFIG = "Config"
    LAG = "Lag"
    CONSUMER_GROUP = "ConsumerGroup"
    METRIC = "Metric"
    DEPLOYMENT = "Deployment"
    RUNBOOK = "Runbook"
    ACL = "Acl"


class TimeWindow(KubeModel):
    start: datetime
    end: datetime


class Evidence(KubeModel):
    kind: EvidenceKind
    source: Annotated[str, Field(min_length=1, max_length=256, description="Where it was read")]
    query: Annotated[str, Field(max_length=2048)] = ""
    time_window: TimeWindow | None = None
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
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"
    ROLLBACK_FAILED = "RollbackFailed"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_PHASES


TERMINAL_PHASES = frozenset(
    {
        Phase.INVALID,
        Phase.REJECTED,
        Phase.EXPIRED,
        Phase.STALE,
        Phase.FAILED,
        Phase.ROLLED_BACK,
        Phase.ROLLBACK_FAILED,
    }
)


class BlastRadius(KubeModel):
    topics: list[TopicName] = Field(default_factory=list)
    partitions: Annotated[int, Field(ge=0)] = 0
    consumer_groups: list[GroupId] = Field(default_factory=list)
    principals: list[Principal] = Field(default_factory=list)


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
    undoes: Annotated[str, Field(max_length=128)] = Field(
        default="", description="On a rollback step: the id of the forward step it reverses"
    )
    state: StepState = StepState.PENDING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: Annotated[str, Field(max_length=4096)] = ""


class Stage(MutableKubeModel):
    name: Annotated[str, Field(min_length=1, max_length=63)]
    steps: list[Step]
    gate_state: StepState = StepState.PENDING
    gate_result: Annotated[str, Field(max_length=4096)] = ""


class Plan(MutableKubeModel):
    stages: list[Stage] = Field(default_factory=list)
    hash: str = Field(default="", description="sha256 of the stages and steps, without state")


class RollbackPlan(MutableKubeModel):
    reversible: bool
    steps: list[Step] = Field(default_factory=list)
    irreversible_reasons: list[str] = Field(
        default_factory=list, description="What cannot be undone, in plain words"
    )


class Approval(KubeModel):
    user: Annotated[str, Field(min_length=1, max_length=256)]
    at: datetime
    spec_hash: str
    plan_hash: str


class HistoryEntry(KubeModel):
    at: datetime
    phase: Phase
    reason: str
    message: Annotated[str, Field(max_length=4096)] = ""


class KafkaChangeRequestStatus(MutableKubeModel):
    phase: Phase = Phase.PENDING
    conditions: list[Condition] = Field(default_factory=list)
    observed_generation: int | None = None
    risk: Risk | None = None
    irreversible: bool = False
    blast_radius: BlastRadius | None = None
    spec_hash: str | None = None
    plan: Plan | None = None
    snapshot: ObservedState | None = None
    rollback_plan: RollbackPlan | None = None
    approvals: list[Approval] = Field(default_factory=list)
    approved_by: Annotated[str, Field(max_length=1024)] = Field(
        default="", description="Comma list of accepted approvers, for the printer column"
    )
    history: Annotated[list[HistoryEntry], Field(max_length=HISTORY_LIMIT)] = Field(
        default_factory=list
    )
    message: Annotated[str, Field(max_length=32768)] = ""
    change_type: str = Field(default="", description="Copy of spec.change.type for kubectl")
    target: str = Field(default="", description="One-line target for kubectl")


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
