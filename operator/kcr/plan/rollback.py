"""The rollback plan: for each forward step, the step that reverses it, from a snapshot.

Shown at approval time from ``spec.observed`` and recomputed from ``status.snapshot``
before the first write. What cannot be reversed is said, never silently skipped.
"""

from pydantic import ValidationError

from kcr.model import (
    AclBinding,
    AlterAcls,
    AlterTopicConfig,
    ConfigSource,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    ObservedState,
    OffsetTarget,
    PartitionOffset,
    Plan,
    ResetConsumerGroupOffsets,
    RollbackPlan,
    ScaleDeployment,
    Step,
    explain,
)
from kcr.plan.stages import all_steps
from kcr.plan.steps import make_step
from kcr.policy.data_loss import config_data_risks

Inverse = tuple[Step | None, list[str]]


def build_rollback(plan: Plan, snapshot: ObservedState | None) -> RollbackPlan:
    steps: list[Step] = []
    reasons: list[str] = []
    for step in reversed(all_steps(plan)):
        inverse, why = _inverse(step, snapshot)
        reasons += why
        if inverse is not None:
            inverse.undoes = step.id
            steps.append(inverse)
    hard_stops = [s for s in all_steps(plan) if s.irreversible]
    return RollbackPlan(
        reversible=not hard_stops and not reasons, steps=steps, irreversible_reasons=reasons
    )


def _inverse(step: Step, snapshot: ObservedState | None) -> Inverse:
    member = step.operation.member
    undo_id = f"undo-{step.id}"
    if isinstance(member, CreateTopic):
        return make_step(undo_id, DeleteTopic(topic=member.topic)), []
    if isinstance(member, IncreasePartitions):
        return None, [
            f"partitions added to {member.topic} cannot be removed; a rollback leaves "
            f"{member.partitions} partitions"
        ]
    if isinstance(member, DeleteTopic):
        return None, [f"topic {member.topic} and its records cannot be brought back"]
    if isinstance(member, AlterTopicConfig):
        return _restore_configs(undo_id, member, snapshot)
    if isinstance(member, ResetConsumerGroupOffsets):
        return _restore_offsets(undo_id, member, snapshot)
    if isinstance(member, AlterAcls):
        return _reverse_acls(undo_id, member, snapshot)
    assert isinstance(member, ScaleDeployment)
    back = None if member.replicas == 0 else 0
    return make_step(undo_id, member.model_copy(update={"replicas": back})), []


def _restore_configs(
    undo_id: str, member: AlterTopicConfig, snapshot: ObservedState | None
) -> Inverse:
    topic = member.topics[0]
    seen = snapshot.topic(topic) if snapshot else None
    if seen is None:
        return None, [
            f"the previous configuration of {topic} was not observed, so it cannot be restored"
        ]
    restore: dict[str, str] = {}
    drop: list[str] = []
    for key in [*member.set, *member.delete]:
        before = seen.configs.get(key)
        if before is not None and before.source is ConfigSource.TOPIC_OVERRIDE:
            if before.value is None:
                return None, [f"{key} on {topic} is sensitive; its old value cannot be restored"]
            restore[key] = before.value
        elif key in member.set:
            drop.append(key)
    losses = config_data_risks(member, topic, snapshot)
    if not restore and not drop:
        return None, losses
    try:
        inverse = AlterTopicConfig(
            topics=[topic], set=restore, delete=drop, allow_unknown_keys=True
        )
    except ValidationError as error:
        # Someone set a value kcr would not write itself: say so, never crash the review.
        return None, [
            *losses,
            f"the previous configuration of {topic} cannot be restored automatically "
            f"({'; '.join(explain(error))}); restore it by hand",
        ]
    return make_step(undo_id, inverse), losses


def _restore_offsets(
    undo_id: str, member: ResetConsumerGroupOffsets, snapshot: ObservedState | None
) -> Inverse:
    seen = snapshot.group(member.group) if snapshot else None
    wanted = set(member.topics)
    previous = [
        PartitionOffset(topic=p.topic, partition=p.partition, offset=p.committed)
        for p in (seen.partitions if seen else [])
        if p.topic in wanted and p.committed is not None and p.committed >= 0
    ]
    if not previous:
        return None, [
            f"group {member.group} had no committed offsets on {', '.join(member.topics)}; "
            "Kafka cannot un-commit the new ones"
        ]
    restore = ResetConsumerGroupOffsets(
        group=member.group,
        topics=sorted({p.topic for p in previous}),
        to=OffsetTarget(offsets=previous),
    )
    note = [
        f"messages group {member.group} processed after the reset stay processed; the rollback "
        "restores the old offsets, not the side effects"
    ]
    return make_step(undo_id, restore), note


def _reverse_acls(undo_id: str, member: AlterAcls, snapshot: ObservedState | None) -> Inverse:
    existing = {b.key() for b in (snapshot.acls if snapshot else [])}
    remove = [b for b in member.add if b.key() not in existing]
    add: list[AclBinding] = [b for b in member.remove if b.key() in existing]
    if snapshot is None and member.remove:
        add = list(member.remove)
    if not add and not remove:
        return None, []
    return make_step(undo_id, AlterAcls(add=add, remove=remove)), []
