"""The risk of a rollback asked for after Succeeded, from its own steps and the live state.

A rollback is a Kafka write like any other: undoing a CreateTopic deletes the topic and
whatever it holds by now, and restoring an older retention can delete records. So each
undo step is weighed by the same rules as a change of its kind, against what the topic
holds today rather than what it held when the change ran.
"""

from kcr.model import (
    Change,
    ClusterPolicy,
    DeleteTopic,
    ObservedState,
    Risk,
    ScaleDeployment,
    Step,
)
from kcr.policy.risk import Assessment, assess


def assess_rollback(steps: list[Step], live: ObservedState, policy: ClusterPolicy) -> Assessment:
    risk = Risk.LOW
    reasons: list[str] = []
    irreversible: list[str] = []
    for step in steps:
        member = step.operation.member
        if isinstance(member, ScaleDeployment):
            reasons.append(f"{step.id}: {step.description}")
            continue
        found = assess(Change.of(member), live, policy)
        risk = max(risk, found.risk, key=lambda r: r.rank)
        reasons += [f"{step.id}: {reason}" for reason in found.reasons]
        irreversible += found.irreversible
        if isinstance(member, DeleteTopic):
            reasons.append(f"{step.id}: {_holds(member.topic, live)}")
    return Assessment(risk=risk, reasons=reasons, irreversible=irreversible)


def _holds(topic: str, live: ObservedState) -> str:
    seen = live.topic(topic)
    if seen is None or seen.records is None:
        return f"how many records topic {topic} holds was not read; assume it holds data"
    if seen.records == 0:
        return f"topic {topic} holds no records"
    return f"topic {topic} holds {seen.records} records that the deletion destroys"
