"""What the operator read or did since the last decision: the engine's only inputs.

``answer`` is the operator's reply to the effect the engine asked for in its previous
transition (a snapshot, consumer positions, a gate report, a step outcome), handed in
exactly once; the engine matches on its type, so no reply can be read as another.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from kcr.model import (
    ConsumerPositions,
    GroupProgress,
    HealthBaseline,
    KafkaClusterSpec,
    ObservedState,
    Phase,
)
from kcr.model.strimzi import StrimziResources
from kcr.policy.signatures import AllowedSigners


@dataclass(frozen=True)
class EngineSettings:
    step_timeout: timedelta = timedelta(minutes=5)
    """How long a step may keep failing with retriable errors (or wait for an empty group)."""
    retry_delay: timedelta = timedelta(seconds=5)
    cluster_retry: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class Blocker:
    """Another request that is changing one of the same Kafka resources right now."""

    request: str
    phase: Phase
    resources: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    state: ObservedState
    baseline: HealthBaseline


@dataclass(frozen=True)
class SnapshotFailed:
    """The snapshot asked for could not be taken; the request waits and asks again."""

    problem: str


@dataclass(frozen=True)
class ProgressRead:
    """The answer to :class:`~kcr.engine.effects.SampleProgress` for the same ``stage``."""

    stage: str | None
    positions: ConsumerPositions


class GateCheck(StrEnum):
    OFFLINE_PARTITIONS = "OfflinePartitions"
    UNDER_REPLICATED = "UnderReplicatedPartitions"
    MIN_INSYNC = "MinInSyncReplicas"
    CONSUMER_PROGRESS = "ConsumerProgress"
    PROMQL = "PromQL"


@dataclass(frozen=True)
class CheckResult:
    check: GateCheck
    passed: bool
    message: str
    conclusive: bool = True
    """False when the check could not be made (broker or Prometheus unreachable): a
    question without an answer is asked again, not taken for a failed gate."""


@dataclass(frozen=True)
class GateReport:
    stage: str
    checks: tuple[CheckResult, ...]
    progress: tuple[GroupProgress, ...] = ()
    """The consumer progress check's verdict on each group, recorded on the stage."""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def inconclusive(self) -> bool:
        """Nothing failed, but some check could not be made."""
        return not self.passed and all(c.passed or not c.conclusive for c in self.checks)


@dataclass(frozen=True)
class StepOutcome:
    step_id: str
    rollback: bool
    succeeded: bool
    result: str
    finished_at: datetime
    retriable: bool = False
    """Not done yet but may be soon (broker unavailable, group not empty yet)."""


@dataclass(frozen=True)
class StrimziRead:
    """The KafkaTopics and KafkaUsers of a Strimzi-managed cluster, listed just now."""

    resources: StrimziResources | None
    problem: str = ""
    """Why they could not be read; nothing is reviewed or written until they are."""


Answer = Snapshot | SnapshotFailed | ProgressRead | GateReport | StepOutcome | StrimziRead
"""The reply to one effect: TakeSnapshot, SampleProgress, CheckGate, RunStep or ReadStrimzi."""


@dataclass(frozen=True)
class DeploymentLabels:
    """The labels of the Deployment an offset reset scales, read for its review: they say
    which consumer group it runs."""

    labels: Mapping[str, str] | None
    """None when no such Deployment exists."""


@dataclass(frozen=True)
class Observations:
    cluster: KafkaClusterSpec | None = None
    cluster_problem: str = ""
    """Why ``cluster`` is missing: not found, or not a valid KafkaCluster."""
    allowed_signers: AllowedSigners | None = None
    """Whose SSH signatures prove an approval carried in git; None when there is no list."""
    allowed_signers_problem: str = ""
    """Why ``allowed_signers`` is missing: not configured, unreadable or invalid."""
    blockers: tuple[Blocker, ...] = ()
    settings: EngineSettings = field(default_factory=EngineSettings)
    scaled_deployment: DeploymentLabels | None = None
    scaled_deployment_problem: str = ""
    """Why the scaled Deployment could not be read; the review waits and asks again."""
    answer: Answer | None = None
    """The reply to the previous transition's effect; None when there was none (a wait, or
    an effect that could not even be tried and is asked for again)."""
