"""Strimzi owns some topics and users: refuse at review, and check again before each write.

The operator reads the cluster's KafkaTopics and KafkaUsers into ``observed.strimzi`` for
the review and before every decision that may run a step, so a KafkaTopic created after
approval stops the change before its next write, with nothing written around Strimzi.
"""

from kcr.engine.context import Context
from kcr.engine.effects import Finish, Transition, Wait
from kcr.engine.reasons import Reason
from kcr.model import KafkaClusterSpec, Phase, Step, StepState
from kcr.policy.strimzi import Refusal, strimzi_refusals


def strimzi_managed(cluster: KafkaClusterSpec | None) -> bool:
    return (
        cluster is not None
        and cluster.managed_by is not None
        and (cluster.managed_by.strimzi is not None)
    )


def review_refusals(ctx: Context) -> list[Refusal] | None:
    """What Strimzi owns of the change; None while its resources could not be read."""
    if not strimzi_managed(ctx.observed.cluster):
        return []
    if ctx.observed.strimzi is None:
        return None
    change = ctx.spec.change
    return strimzi_refusals(change.kind, change.member, ctx.observed.strimzi)


def wait_for_strimzi(ctx: Context, doing: str) -> Transition:
    problem = ctx.observed.strimzi_problem or "they were not read yet"
    ctx.note(
        Reason.CLUSTER_UNAVAILABLE,
        f"Strimzi manages this cluster, so its KafkaTopics and KafkaUsers must be read "
        f"{doing}: {problem}; waiting for them",
    )
    return ctx.finish(Wait(ctx.now + ctx.observed.settings.cluster_retry))


def refused_at_review(ctx: Context, refusals: list[Refusal]) -> Transition:
    message = "managed by Strimzi: " + "\n".join(
        f"spec.change: {refusal.explain()}" for refusal in refusals
    )
    ctx.move(Phase.INVALID, Reason.MANAGED_BY_STRIMZI, message)
    return ctx.finish(Finish())


def guard_step(ctx: Context, step: Step, *, rollback: bool) -> Transition | None:
    """None when ``step`` may write now; else the wait or the stop that replaces it."""
    if not strimzi_managed(ctx.observed.cluster):
        return None
    if ctx.observed.strimzi is None:
        return wait_for_strimzi(ctx, f"before {step.id} writes")
    member = step.operation.member
    refusals = strimzi_refusals(step.operation.kind, member, ctx.observed.strimzi)
    if not refusals:
        return None
    step.state = StepState.FAILED
    step.finished_at = ctx.now
    step.result = "not run: managed by Strimzi"
    found = "\n".join(refusal.explain() for refusal in refusals)
    message = (
        f"{'rollback ' if rollback else ''}step {step.id} was not run and nothing was written: "
        f"Strimzi started managing what it changes after approval; no rollback is attempted "
        f"around Strimzi either. {found}"
    )
    phase = Phase.ROLLBACK_FAILED if rollback else Phase.FAILED
    ctx.move(phase, Reason.MANAGED_BY_STRIMZI, message)
    return ctx.finish(Finish())
