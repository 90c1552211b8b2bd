"""Building single steps: an operation, a readable description and an idempotence key."""

from kcr.model import KINDS, Operation, Step
from kcr.model.base import KubeModel
from kcr.plan.hashing import operation_hash


def make_step(step_id: str, member: KubeModel, *, irreversible: bool = False) -> Step:
    kind = KINDS.of(member)
    operation = Operation.of(member)
    return Step(
        id=step_id,
        description=kind.describe(member),
        operation=operation,
        idempotence_key=f"{kind.name}:{kind.target(member)}:{operation_hash(operation)[:16]}",
        irreversible=irreversible,
    )
