"""Strimzi owns some topics and users: refuse at review, and check again before each write.

The engine asks for the cluster's KafkaTopics and KafkaUsers (``ReadStrimzi``) for the
review and right before each step's write, and decides on the answer: a KafkaTopic created
after approval stops the change before its next write, with nothing written around
Strimzi. A request waiting in a bake or at a gate lists nothing.
"""

from typing import Any

from kcr.engine.context import Context
from kcr.engine.effects import Finish, ReadStrimzi, Transition, Wait
from kcr.engine.observations import StrimziRead
from kcr.engine.reasons import Reason
from kcr.model import KafkaClusterSpec, ObservedState, Phase, Step, StepState
from kcr.model.kinds import ChangeKind
from kcr.model.strimzi import StrimziResources
from kcr.policy.strimzi import (
    Refusal,
    strimzi_may_own,
    strimzi_refusals,
    user_operator_warnings,
)
from kcr.policy.strimzi_users import UserState


def strimzi_managed(cluster: KafkaClusterSpec | None) -> bool:
    return (
        cluster is not None
        and cluster.managed_by is not None
        and (cluster.managed_by.strimzi is not None)
    )


def listed(
    ctx: Context, kind: ChangeKind, member: Any, doing: str
) -> StrimziResources | Transition | None:
    """None when Strimzi does not manage the cluster or could own nothing ``member`` writes;
    its resources when they were listed for this decision; otherwise the transition that
    lists them (or waits for them)."""
    if not strimzi_managed(ctx.observed.cluster) or not strimzi_may_own(kind, member):
        return None
    answer = ctx.observed.answer
    if not isinstance(answer, StrimziRead):
        return ctx.finish(ReadStrimzi())
    if answer.resources is None:
        return wait_for_strimzi(ctx, doing, answer.problem)
    return answer.resources


def wait_for_strimzi(ctx: Context, doing: str, problem: str) -> Transition:
    ctx.note(
        Reason.CLUSTER_UNAVAILABLE,
        f"Strimzi manages this cluster, so its KafkaTopics and KafkaUsers must be read "
        f"{doing}: {problem or 'they were not read'}; waiting for them",
    )
    return ctx.finish(Wait(ctx.now + ctx.observed.settings.cluster_retry))


def refused_at_review(ctx: Context, refusals: list[Refusal]) -> Transition:
    message = "managed by Strimzi: " + "\n".join(
        f"spec.change: {refusal.explain()}" for refusal in refusals
    )
    ctx.move(Phase.INVALID, Reason.MANAGED_BY_STRIMZI, message)
    return ctx.finish(Finish())


def review_warnings(ctx: Context, resources: StrimziResources | None) -> list[str]:
    """A warning per principal the change writes for that the User Operator would strip."""
    change = ctx.spec.change
    states = user_states(ctx.spec.observed)
    return user_operator_warnings(change.kind, change.member, resources, states, complete=False)


def user_states(observed: ObservedState | None) -> dict[str, UserState]:
    """What the draft's snapshot saw of each principal: the bindings the change names, and
    the quotas of the users it sets alone."""
    if observed is None:
        return {}
    principals = {b.principal for b in observed.acls} | {
        f"User:{q.user}" for q in observed.client_quotas if q.user and q.client_id is None
    }
    return {
        principal: UserState(
            acls=tuple(b for b in observed.acls if b.principal == principal),
            quotas=next(
                (
                    q.values
                    for q in observed.client_quotas
                    if q.client_id is None and f"User:{q.user}" == principal
                ),
                {},
            ),
        )
        for principal in principals
    }


def guard_step(ctx: Context, step: Step, *, rollback: bool) -> Transition | None:
    """None when ``step`` may write now; else the read, the wait or the stop before it."""
    operation = step.operation
    found = listed(ctx, operation.kind, operation.member, f"before {step.id} writes")
    if found is None:
        return None
    if isinstance(found, Transition):
        return found
    refusals = strimzi_refusals(operation.kind, operation.member, found)
    if not refusals:
        return None
    step.state = StepState.FAILED
    step.finished_at = ctx.now
    step.result = "not run: managed by Strimzi"
    shown = "\n".join(refusal.explain() for refusal in refusals)
    message = (
        f"{'rollback ' if rollback else ''}step {step.id} was not run and nothing was written: "
        f"Strimzi started managing what it changes after approval; no rollback is attempted "
        f"around Strimzi either. {shown}"
    )
    phase = Phase.ROLLBACK_FAILED if rollback else Phase.FAILED
    ctx.move(phase, Reason.MANAGED_BY_STRIMZI, message)
    return ctx.finish(Finish())
