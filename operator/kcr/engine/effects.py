"""A transition: the next status, the one thing to do next, and the Events to post."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kcr.model import Change, HealthGates, KafkaChangeRequestStatus, Step


@dataclass(frozen=True)
class TakeSnapshot:
    """Read the live state the change depends on, and the health baseline, then decide."""

    change: Change


@dataclass(frozen=True)
class SampleLag:
    stage: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class RunStep:
    """Apply one step. The status that comes with it already says the step is Running."""

    step: Step
    rollback: bool = False


@dataclass(frozen=True)
class CheckGate:
    stage: str
    gates: HealthGates
    topics: tuple[str, ...]
    lag_groups: tuple[str, ...] = ()
    lag_baseline: tuple[tuple[str, int], ...] = ()
    max_lag_growth: int | None = None
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


Effect = TakeSnapshot | SampleLag | RunStep | CheckGate | Wait | Next | Finish


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
