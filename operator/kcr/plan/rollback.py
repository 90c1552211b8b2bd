"""The rollback plan: for each forward step, the step that reverses it, from a snapshot.

Shown at approval time from ``spec.observed`` and recomputed from ``status.snapshot``
before the first write. What cannot be reversed is said, never silently skipped.
"""

from kcr.model import KINDS, ObservedState, Plan, RollbackPlan, Step
from kcr.plan.stages import all_steps


def build_rollback(plan: Plan, snapshot: ObservedState | None) -> RollbackPlan:
    steps: list[Step] = []
    reasons: list[str] = []
    for step in reversed(all_steps(plan)):
        inverse = KINDS.named(step.operation.type).inverse(step, snapshot)
        reasons += inverse.reasons
        if inverse.step is not None:
            inverse.step.undoes = step.id
            steps.append(inverse.step)
    hard_stops = [s for s in all_steps(plan) if s.irreversible]
    return RollbackPlan(
        reversible=not hard_stops and not reasons, steps=steps, irreversible_reasons=reasons
    )
