"""The working state of one decision: a copy of the status the engine edits, and its Events.

Every phase change goes through :meth:`Context.move`, so status, history, the ``Ready``
condition and the Event always say the same thing with the same reason.
"""

from dataclasses import dataclass, field
from datetime import datetime

from kcr.engine.effects import Effect, Event, EventType, Transition
from kcr.engine.observations import Observations
from kcr.engine.reasons import Reason
from kcr.engine.resource import ChangeRequestView
from kcr.model import (
    Condition,
    ConditionStatus,
    HistoryEntry,
    KafkaChangeRequestSpec,
    KafkaChangeRequestStatus,
    Phase,
)
from kcr.model.conditions import set_condition
from kcr.model.request import append_history
from kcr.policy.authority import TERMINAL_PHASES

READY = "Ready"
VALIDATED = "Validated"
APPROVED = "Approved"
EVENT_MESSAGE_LIMIT = 1024
HISTORY_MESSAGE_LIMIT = 4096
STATUS_MESSAGE_LIMIT = 32768
RESULT_LIMIT = 4096

WARNINGS = frozenset(
    {
        Reason.VALIDATION_FAILED,
        Reason.CLUSTER_UNAVAILABLE,
        Reason.APPROVAL_REFUSED,
        Reason.EXPIRED,
        Reason.ABORTED,
        Reason.STALE_PLAN,
        Reason.PLAN_MISMATCH,
        Reason.STEP_RETRYING,
        Reason.STEP_FAILED,
        Reason.GATE_FAILED,
        Reason.ROLLBACK_REFUSED,
        Reason.ROLLBACK_STALE,
        Reason.ROLLBACK_FAILED,
        Reason.ROLLBACK_ABORTED,
        Reason.FAILED,
    }
)


def clip(text: str, limit: int) -> str:
    """Status fields have a maximum length; a long message keeps its start and says so."""
    if len(text) <= limit:
        return text
    marker = " … (shortened)"
    return text[: limit - len(marker)] + marker


@dataclass
class Context:
    resource: ChangeRequestView
    observed: Observations
    now: datetime
    status: KafkaChangeRequestStatus
    events: list[Event] = field(default_factory=list)
    consumed: list[str] = field(default_factory=list)
    reason: str = ""

    @classmethod
    def start(cls, resource: ChangeRequestView, observed: Observations, now: datetime) -> "Context":
        return cls(resource, observed, now, resource.status.model_copy(deep=True))

    @property
    def spec(self) -> KafkaChangeRequestSpec:
        if self.resource.spec is None:
            raise ValueError("the spec did not parse; only validation may run")
        return self.resource.spec

    def move(self, phase: Phase, reason: Reason, message: str) -> None:
        """Enter ``phase`` (or record a new reason in the same one) with one Event."""
        self.status.phase = phase
        self.status.message = clip(message, STATUS_MESSAGE_LIMIT)
        self.status.observed_generation = self.resource.generation
        self.status.history = append_history(
            self.status.history,
            HistoryEntry(
                at=self.now,
                phase=phase,
                reason=reason,
                message=clip(message, HISTORY_MESSAGE_LIMIT),
            ),
        )
        self.condition(READY, self.ready_state(), reason, message)
        self.event(reason, message)
        self.reason = reason

    def condition(self, kind: str, status: ConditionStatus, reason: Reason, message: str) -> bool:
        """Set a condition; True when it changed (so callers post an Event only then)."""
        old = next((c for c in self.status.conditions if c.type == kind), None)
        new = Condition(
            type=kind,
            status=status,
            reason=reason,
            message=clip(message, STATUS_MESSAGE_LIMIT),
            last_transition_time=self.now,
            observed_generation=self.resource.generation,
        )
        self.status.conditions = set_condition(self.status.conditions, new)
        return old is None or (old.status, old.reason, old.message) != (
            new.status,
            new.reason,
            new.message,
        )

    def note(
        self,
        reason: Reason,
        message: str,
        kind: str = READY,
        state: ConditionStatus | None = None,
    ) -> None:
        """Say something new without changing phase: a condition, the message, one Event.

        Repeating the same news changes nothing, so a waiting request posts no Event storm.
        """
        if self.condition(kind, state or self.ready_state(), reason, message):
            self.status.message = clip(message, STATUS_MESSAGE_LIMIT)
            self.event(reason, message)
            self.reason = reason

    def ready_state(self) -> ConditionStatus:
        if self.status.phase is Phase.SUCCEEDED:
            return ConditionStatus.TRUE
        if self.status.phase in TERMINAL_PHASES:
            return ConditionStatus.FALSE
        return ConditionStatus.UNKNOWN

    def event(self, reason: Reason, message: str) -> None:
        kind = EventType.WARNING if reason in WARNINGS else EventType.NORMAL
        self.events.append(Event(kind, reason, clip(message, EVENT_MESSAGE_LIMIT)))

    def consume(self, annotation: str) -> None:
        if annotation in self.resource.annotations and annotation not in self.consumed:
            self.consumed.append(annotation)

    def finish(self, effect: Effect) -> Transition:
        return Transition(
            status=self.status,
            effect=effect,
            events=tuple(self.events),
            consumed=tuple(self.consumed),
            reason=self.reason,
        )
