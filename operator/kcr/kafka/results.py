"""What a write or a health probe tells its caller: the outcome and the numbers behind it."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kcr.model import PartitionOffset
from kcr.model.base import KubeModel


class ApplyOutcome(StrEnum):
    APPLIED = "Applied"
    ALREADY_APPLIED = "AlreadyApplied"


class ApplyResult(KubeModel):
    """Compare-then-apply: ``AlreadyApplied`` means the live state matched and nothing was sent."""

    operation: str = Field(description="The kind of the step: CreateTopic, AlterAcls")
    target: str
    outcome: ApplyOutcome
    details: list[str] = Field(default_factory=list, description="What was (or was not) done")
    offsets: list[PartitionOffset] = Field(
        default_factory=list, description="Offset resets: the concrete offsets committed"
    )

    @property
    def applied(self) -> bool:
        return self.outcome is ApplyOutcome.APPLIED


class WriteResult(KubeModel):
    """A primitive write's outcome (throttles, moves, quotas), free of any change kind: the
    kind that called it folds it into its own step result."""

    outcome: ApplyOutcome
    details: list[str] = Field(default_factory=list, description="What was (or was not) done")

    @property
    def applied(self) -> bool:
        return self.outcome is ApplyOutcome.APPLIED

    @classmethod
    def of(cls, sent: bool, details: list[str]) -> "WriteResult":
        outcome = ApplyOutcome.APPLIED if sent else ApplyOutcome.ALREADY_APPLIED
        return cls(outcome=outcome, details=details)


class ProbeKind(StrEnum):
    OFFLINE_PARTITIONS = "OfflinePartitions"
    UNDER_REPLICATED = "UnderReplicatedPartitions"
    MIN_INSYNC = "MinInSyncReplicas"
    GROUP_STATE = "ConsumerGroupState"


class Measurement(KubeModel):
    """One number a verdict rests on, with the limit it was held against."""

    subject: Annotated[str, Field(description="What was measured: cluster, topic, topic/partition")]
    value: int
    limit: int | None = None
    limit_source: str | None = Field(
        default=None,
        description="Where the limit came from: the topic's configuration or an assumed default",
    )
    passed: bool


class ProbeVerdict(KubeModel):
    probe: ProbeKind
    passed: bool
    message: str = Field(description="One sentence for status.message and Events")
    observed_at: datetime
    measurements: list[Measurement] = Field(default_factory=list)

    def value(self, subject: str) -> int | None:
        found = next((m for m in self.measurements if m.subject == subject), None)
        return found.value if found else None
