"""A transition: the next status, the one thing to do next, and the Events to post."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kcr.model import (
    Change,
    ConsumerPositions,
    ConsumerProgressGate,
    HealthGates,
    KafkaChangeRequestStatus,
    Step,
)


@dataclass(frozen=True)
class TakeSnapshot:
    """Read the live state the change depends on, and the health baseline, then decide."""

    change: Change


@dataclass(frozen=True)
class SampleProgress:
    """Read the groups' positions: for the baseline before the first write (``stage`` None)
    or when ``stage``'s bake begins."""

    stage: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True)
class ProgressCheck:
    """What the consumer progress gate compares: two positions before the first write, one
    when the bake began, and the positions the operator reads now."""

    gate: ConsumerProgressGate
    groups: tuple[str, ...]
    baseline: tuple[ConsumerPositions, ...]
    bake_start: ConsumerPositions


@dataclass(frozen=True)
class RunStep:
    """Apply one step. The status that comes with it already says the step is Running."""

    step: Step
    rollback: bool = False


@dataclass(frozen=True)
class ReadStrimzi:
    """List the cluster's KafkaTopics and KafkaUsers, then decide: asked for the review and
    right before each write on a Strimzi-managed cluster, never while a change waits."""


@dataclass(frozen=True)
class CheckGate:
    stage: str
    gates: HealthGates
    topics: tuple[str, ...]
    progress: ProgressCheck | None = None
    under_replicated_baseline: int | None = None
    prometheus_url: str | None = None


@dataclass(frozen=True)
class Wait:
    """Nothing to do until ``until`` (or until the request or the cluster changes)."""

    until: datetime | None = None


@dataclass(frozen=True)
class Next:
    """Decide again at once: the new status may allow the next move."""


@dataclass(frozen=True)
class Finish:
    """The request needs nothing more from the operator."""


Effect = TakeSnapshot | SampleProgress | RunStep | ReadStrimzi | CheckGate | Wait | Next | Finish


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True)
class Event:
    type: EventType
    reason: str
    message: str


@dataclass(frozen=True)
class Transition:
    status: KafkaChangeRequestStatus
    effect: Effect
    events: tuple[Event, ...] = ()
    consumed: tuple[str, ...] = ()
    """Annotations acted upon; the operator removes them after writing ``status``."""
    reason: str = ""
