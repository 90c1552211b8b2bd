"""The risk of a rollback asked for after Succeeded, from its own steps and the live state.

A rollback is a Kafka write like any other: undoing a CreateTopic deletes the topic and
whatever it holds by now, and restoring an older retention can delete records. So each
undo step is weighed by the same rules as a change of its kind, against what the topic
holds today rather than what it held when the change ran.
"""

from kcr.model import KINDS, Assessment, ClusterPolicy, ObservedState, Risk, Step


def assess_rollback(steps: list[Step], live: ObservedState, policy: ClusterPolicy) -> Assessment:
    risk = Risk.LOW
    reasons: list[str] = []
    irreversible: list[str] = []
    for step in steps:
        found = KINDS.named(step.operation.type).assess_undo(step.operation.member, live, policy)
        risk = max(risk, found.risk, key=lambda r: r.rank)
        reasons += [f"{step.id}: {reason}" for reason in found.reasons]
        irreversible += found.irreversible
    return Assessment(risk=risk, reasons=reasons, irreversible=irreversible)
