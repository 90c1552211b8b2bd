"""The pure phase machine of a KafkaChangeRequest: ``decide(resource, observations, now)``."""

import kcr.kinds  # noqa: F401  (registers the built-in change kinds)
from kcr.engine.claims import claims, describe_claim
from kcr.engine.decide import decide, needs_operator
from kcr.engine.effects import (
    CheckGate,
    Effect,
    Event,
    EventType,
    Finish,
    Next,
    ProgressCheck,
    ReadStrimzi,
    RunStep,
    SampleProgress,
    TakeSnapshot,
    Transition,
    Wait,
)
from kcr.engine.observations import (
    Answer,
    Blocker,
    CheckResult,
    DeploymentLabels,
    EngineSettings,
    GateCheck,
    GateReport,
    Observations,
    ProgressRead,
    Snapshot,
    SnapshotFailed,
    StepOutcome,
    StrimziRead,
)
from kcr.engine.reasons import Reason
from kcr.engine.resource import ChangeRequestView, StatusUnreadableError
from kcr.engine.signals import Signals, read_signals
from kcr.engine.staleness import plan_facts, stale_differences

__all__ = [
    "Answer",
    "Blocker",
    "ChangeRequestView",
    "CheckGate",
    "CheckResult",
    "DeploymentLabels",
    "Effect",
    "EngineSettings",
    "Event",
    "EventType",
    "Finish",
    "GateCheck",
    "GateReport",
    "Next",
    "Observations",
    "ProgressCheck",
    "ProgressRead",
    "ReadStrimzi",
    "Reason",
    "RunStep",
    "SampleProgress",
    "Signals",
    "Snapshot",
    "SnapshotFailed",
    "StatusUnreadableError",
    "StepOutcome",
    "StrimziRead",
    "TakeSnapshot",
    "Transition",
    "Wait",
    "claims",
    "decide",
    "describe_claim",
    "needs_operator",
    "plan_facts",
    "read_signals",
    "stale_differences",
]
