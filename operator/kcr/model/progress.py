"""Consumer progress: the gate's settings, where groups stood, and the verdict on each.

Gates judge the change, not the traffic. An evening peak raises lag while the consumers
read as fast as they did before; a harmful change (an ACL revoke, a new topic that a
pattern subscription cannot start on) makes a group read less than before although
records wait for it. So the gate compares how fast each group read during the bake with
how fast it read in a window before the first write, as canary analysis compares with a
baseline, and never fails a group because more records arrived.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from kcr.model.base import KubeModel
from kcr.model.names import GroupId

MAX_PROGRESS_GROUPS = 50
"""Groups judged by one request: each stage records a position and a verdict for each."""
MAX_WATCHED_GROUPS = 20
MIN_PROGRESS_BAKE_SECONDS = 5
"""A shorter bake holds too few offset commits to say how fast a group reads."""


class ConsumerProgressGate(KubeModel):
    """Each watched group must keep reading at ``minPercent`` of its pre-change rate, or of
    what there was to read when that is less; both windows should hold many offset commits
    (auto.commit.interval.ms is 5 s by default)."""

    baseline_seconds: Annotated[
        int,
        Field(
            ge=5,
            le=3600,
            description="How long the operator measures each group's reading rate before the "
            "first write",
        ),
    ] = 60
    min_percent: Annotated[
        int,
        Field(
            ge=1,
            le=100,
            description="Least share of its baseline rate a group must keep reading during "
            "the bake",
        ),
    ] = 50
    groups: Annotated[list[GroupId], Field(max_length=MAX_WATCHED_GROUPS)] = Field(
        default_factory=list,
        description="Groups judged on every change besides those it affects, such as groups "
        "that subscribe by pattern, which a new topic joins",
    )


class GroupPosition(KubeModel):
    """A group's place at one moment, summed over the partitions it has committed on."""

    group: GroupId
    committed: Annotated[int, Field(ge=0, description="Sum of the committed offsets")]
    log_end: Annotated[
        int, Field(ge=0, description="Sum of the log-end offsets of the same partitions")
    ]
    partitions: Annotated[int, Field(ge=0)]

    @property
    def lag(self) -> int:
        return max(0, self.log_end - self.committed)


class ConsumerPositions(KubeModel):
    """Several groups' positions read at one moment; a group without commits is absent."""

    observed_at: datetime
    groups: Annotated[list[GroupPosition], Field(max_length=MAX_PROGRESS_GROUPS)] = Field(
        default_factory=list
    )

    def group(self, name: str) -> GroupPosition | None:
        return next((g for g in self.groups if g.group == name), None)


class ProgressWindow(KubeModel):
    """What one group did between two positions: records it read (its committed offsets'
    advance) and records that arrived (the log end's), and its lag at both ends."""

    start: datetime
    end: datetime
    consumed: int = Field(description="Committed offsets' advance; negative when they moved back")
    arrived: int = Field(description="Log-end offsets' advance")
    lag_at_start: Annotated[int, Field(ge=0)]
    lag_at_end: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> "ProgressWindow":
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    @classmethod
    def between(
        cls, first: ConsumerPositions, last: ConsumerPositions, group: str
    ) -> "ProgressWindow | None":
        """None when the group has no commits at either end."""
        before, after = first.group(group), last.group(group)
        if before is None or after is None:
            return None
        return cls(
            start=first.observed_at,
            end=max(first.observed_at, last.observed_at),
            consumed=after.committed - before.committed,
            arrived=after.log_end - before.log_end,
            lag_at_start=before.lag,
            lag_at_end=after.lag,
        )

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def rate(self) -> float:
        """Records read a second; 0 over an empty window."""
        return self.consumed / self.seconds if self.seconds > 0 else 0.0


class ProgressVerdict(StrEnum):
    PASSED = "Passed"
    FAILED = "Failed"
    NOT_JUDGED = "NotJudged"


class GroupProgress(KubeModel):
    """The gate's verdict on one group, with the windows it compared."""

    group: GroupId
    verdict: ProgressVerdict
    baseline: ProgressWindow | None = Field(default=None, description="Before the first write")
    bake: ProgressWindow | None = Field(
        default=None, description="From the bake's start to the gate"
    )
    message: Annotated[str, Field(max_length=1024)] = ""
