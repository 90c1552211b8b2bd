"""Building single steps: an operation, a readable description and an idempotence key."""

from kcr.model import (
    AlterAcls,
    AlterTopicConfig,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    Operation,
    OperationMember,
    ResetConsumerGroupOffsets,
    ScaleDeployment,
    Step,
)
from kcr.plan.hashing import operation_hash


def make_step(step_id: str, member: OperationMember, *, irreversible: bool = False) -> Step:
    operation = Operation.of(member)
    return Step(
        id=step_id,
        description=describe(member),
        operation=operation,
        idempotence_key=f"{operation.type}:{target_of(member)}:{operation_hash(operation)[:16]}",
        irreversible=irreversible,
    )


def target_of(member: OperationMember) -> str:
    if isinstance(member, AlterTopicConfig):
        return "topic/" + ",".join(member.topics)
    if isinstance(member, ResetConsumerGroupOffsets):
        return f"group/{member.group}"
    if isinstance(member, AlterAcls):
        return "acl/" + ",".join(sorted({b.principal for b in [*member.add, *member.remove]}))
    if isinstance(member, ScaleDeployment):
        return f"deployment/{member.namespace}/{member.name}"
    return f"topic/{member.topic}"


def describe(member: OperationMember) -> str:
    """One sentence a reviewer reads in the plan table."""
    if isinstance(member, CreateTopic):
        extra = f" with {len(member.configs)} configs" if member.configs else ""
        return (
            f"create topic {member.topic} with {member.partitions} partitions, "
            f"replication factor {member.replication_factor}{extra}"
        )
    if isinstance(member, IncreasePartitions):
        return f"increase partitions of {member.topic} to {member.partitions}"
    if isinstance(member, AlterTopicConfig):
        changes = [f"{k}={v}" for k, v in member.set.items()]
        changes += [f"remove {k} override" for k in member.delete]
        return f"on {', '.join(member.topics)}: {'; '.join(changes)}"
    if isinstance(member, ResetConsumerGroupOffsets):
        return (
            f"reset offsets of group {member.group} on {', '.join(member.topics)} to "
            f"{member.to.describe()}"
        )
    if isinstance(member, AlterAcls):
        return "; ".join(
            [f"add {b.key()}" for b in member.add] + [f"remove {b.key()}" for b in member.remove]
        )
    if isinstance(member, ScaleDeployment):
        to = (
            "the replicas it had before"
            if member.replicas is None
            else f"{member.replicas} replicas"
        )
        return f"scale deployment {member.namespace}/{member.name} to {to}"
    assert isinstance(member, DeleteTopic)
    return f"delete topic {member.topic} and all its data"
