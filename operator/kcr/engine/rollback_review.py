"""Succeeded → AwaitingRollbackApproval → RollingBack | Stale: a rollback after success is
a change of its own.

It writes to Kafka after the change was done and reviewed, so it is reviewed again: its
plan, its own risk from the live state and a hash are shown, someone other than the person
who asked for it approves that hash, and the live state is read again before the first
undo write. When that state is no longer what the change left, undoing it would overwrite
a later change, so the request goes Stale and nothing is written.
"""

from kcr.engine.claims import blocked_message
from kcr.engine.context import Context
from kcr.engine.effects import Finish, TakeSnapshot, Transition, Wait
from kcr.engine.observations import Snapshot, SnapshotFailed
from kcr.engine.reasons import Reason
from kcr.engine.rollback import begin_rollback, cannot_undo
from kcr.engine.rollback_approval import (
    review_rollback,
    rollback_verdict,
    undo_steps,
    window_closes,
    window_problem,
)
from kcr.engine.signals import (
    ABORT,
    ROLLBACK,
    ROLLBACK_APPROVED_BY,
    ROLLBACK_APPROVED_HASH,
    ROLLBACK_REQUESTED_BY,
    ROLLBACK_REVIEW,
)
from kcr.engine.staleness import moved_since_success
from kcr.engine.validation import wait_for_cluster
from kcr.model import Approval, ClusterPolicy, ObservedState, Phase, RollbackReview
from kcr.model.request import MAX_APPROVALS


def after_success(ctx: Context) -> Transition:
    """Succeeded: ``kcr.dev/rollback=requested`` opens a review of the rollback."""
    signals = ctx.resource.signals
    if not signals.rollback_requested:
        return ctx.finish(Finish())
    problem = request_problem(ctx)
    if problem:
        return refuse(ctx, problem)
    cluster = ctx.observed.cluster
    if cluster is None:
        return wait_for_cluster(ctx)
    problem = window_problem(ctx.status, cluster.policy, ctx.now)
    if problem:
        return refuse(ctx, problem)
    if ctx.observed.blockers:
        # What a later change is writing to the same resource is not yet what it leaves.
        ctx.note(Reason.BLOCKED, "rollback " + blocked_message(ctx.observed.blockers))
        return ctx.finish(Wait(ctx.now + ctx.observed.settings.retry_delay))
    live = live_state(ctx)
    if not isinstance(live, ObservedState):
        return live
    moved = moved_since(ctx, live)
    if moved is not None:
        return moved
    asker = signals.rollback_requested_by
    review = review_rollback(ctx.status, live, cluster.policy, asker, ctx.now)
    ctx.status.rollback_review = review
    ctx.consume(ROLLBACK)
    ctx.move(Phase.AWAITING_ROLLBACK_APPROVAL, Reason.ROLLBACK_REQUESTED, ask(ctx, review))
    return ctx.finish(Wait(window_closes(ctx.status, cluster.policy)))


def request_problem(ctx: Context) -> str:
    """Why this rollback request cannot be reviewed at all; empty when it can."""
    if not ctx.resource.signals.rollback_requested_by:
        return (
            f"{ROLLBACK}=requested needs {ROLLBACK_REQUESTED_BY}=<your user name>: the "
            "person who asks may not approve, so kcr must know who asked "
            "(kubectl kcr rollback sets both)"
        )
    if not undo_steps(ctx.status):
        stays = cannot_undo(ctx) or ["no rollback step was planned"]
        return "nothing can be rolled back: " + "; ".join(stays)
    if ctx.status.post_change is None:
        return (
            "the live state this change left was not recorded when it succeeded, so a "
            "rollback cannot show that it overwrites nothing newer; draft the reverse change "
            "as a new request"
        )
    return ""


def await_rollback_approval(ctx: Context) -> Transition:
    """AwaitingRollbackApproval: approvals for the review's hash, then a fresh read."""
    review = ctx.status.rollback_review
    signals = ctx.resource.signals
    if review is None:
        return withdraw(ctx, Reason.ROLLBACK_REFUSED, "status.rollbackReview is missing")
    if signals.rollback_requested:
        ctx.consume(ROLLBACK)  # already under review
    if signals.abort:
        ctx.consume(ABORT)
        return withdraw(ctx, Reason.ROLLBACK_WITHDRAWN, f"rollback withdrawn with {ABORT}")
    cluster = ctx.observed.cluster
    if cluster is None:
        return wait_for_cluster(ctx)
    problem = window_problem(ctx.status, cluster.policy, ctx.now)
    if problem:
        return withdraw(ctx, Reason.ROLLBACK_REFUSED, f"rollback refused: {problem}")
    verdict = rollback_verdict(review, signals)
    if not verdict.satisfied:
        if signals.rollback_approvers:
            reason = Reason.APPROVAL_REFUSED if verdict.refused else Reason.INSUFFICIENT_APPROVALS
            ctx.note(reason, f"rollback: {verdict.message}")
        return ctx.finish(Wait(window_closes(ctx.status, cluster.policy)))
    if ctx.observed.blockers:
        ctx.note(Reason.BLOCKED, "rollback approved; " + blocked_message(ctx.observed.blockers))
        return ctx.finish(Wait(ctx.now + ctx.observed.settings.retry_delay))
    live = live_state(ctx)
    if not isinstance(live, ObservedState):
        return live
    moved = moved_since(ctx, live)
    if moved is not None:
        return moved
    fresh = review_rollback(
        ctx.status, live, cluster.policy, review.requested_by, review.requested_at
    )
    if (fresh.risk, fresh.hash) != (review.risk, review.hash):
        return review_again(ctx, review, fresh, cluster.policy)
    review.approvals = [
        Approval(user=user, at=ctx.now, spec_hash=ctx.status.spec_hash or "", plan_hash=review.hash)
        for user in verdict.accepted[:MAX_APPROVALS]
    ]
    for key in ROLLBACK_REVIEW:
        ctx.consume(key)
    approvers = ", ".join(verdict.accepted)
    return begin_rollback(
        ctx,
        Reason.ROLLBACK_APPROVED,
        f"rollback asked for by {review.requested_by} and approved by {approvers} for "
        f"rollback plan {review.hash[:12]}; the live state still equals what the change left",
    )


def live_state(ctx: Context) -> ObservedState | Transition:
    """The state read for this decision, or the transition that asks for it."""
    match ctx.observed.answer:
        case Snapshot(state=state):
            return state
        case SnapshotFailed(problem=problem):
            ctx.note(Reason.CLUSTER_UNAVAILABLE, f"rollback: {problem}")
            return ctx.finish(Wait(ctx.now + ctx.observed.settings.retry_delay))
        case _:
            return ctx.finish(TakeSnapshot(ctx.spec.change))


def moved_since(ctx: Context, live: ObservedState) -> Transition | None:
    left = ctx.status.post_change
    assert left is not None  # request_problem refused a request without it
    moved = moved_since_success(ctx.spec, left, live)
    if not moved:
        return None
    for key in ROLLBACK_REVIEW:
        ctx.consume(key)
    ctx.move(
        Phase.STALE,
        Reason.ROLLBACK_STALE,
        "the live state is no longer what the change left, so the rollback would overwrite "
        "a later change and nothing was written; the change stays applied; draft what is "
        "needed now as a new request: " + "; ".join(moved),
    )
    return ctx.finish(Finish())


def refuse(ctx: Context, problem: str) -> Transition:
    """Succeeded stays Succeeded: the request's annotations go, its reason is said."""
    for key in ROLLBACK_REVIEW:
        ctx.consume(key)
    ctx.note(Reason.ROLLBACK_REFUSED, f"rollback refused: {problem}")
    return ctx.finish(Finish())


def withdraw(ctx: Context, reason: Reason, message: str) -> Transition:
    for key in ROLLBACK_REVIEW:
        ctx.consume(key)
    ctx.status.rollback_review = None
    ctx.move(Phase.SUCCEEDED, reason, f"{message}; nothing was changed")
    return ctx.finish(Finish())


def review_again(
    ctx: Context, old: RollbackReview, fresh: RollbackReview, policy: ClusterPolicy
) -> Transition:
    ctx.status.rollback_review = fresh
    for key in (ROLLBACK_APPROVED_BY, ROLLBACK_APPROVED_HASH):
        ctx.consume(key)
    ctx.move(
        Phase.AWAITING_ROLLBACK_APPROVAL,
        Reason.ROLLBACK_REQUESTED,
        f"the rollback's risk moved from {old.risk} to {fresh.risk} since its review; "
        + ask(ctx, fresh),
    )
    return ctx.finish(Wait(window_closes(ctx.status, policy)))


def ask(ctx: Context, review: RollbackReview) -> str:
    plan = ctx.status.rollback_plan
    described = [s.description for s in (plan.steps if plan else []) if s.id in review.steps]
    stays = cannot_undo(ctx)
    note = f"; cannot be undone: {'; '.join(stays)}" if stays else ""
    return (
        f"rollback asked for by {review.requested_by}: {'; '.join(described)}; risk "
        f"{review.risk} ({'; '.join(review.risk_reasons)}){note}; it needs "
        f"{review.required_approvals} approval(s) from people other than "
        f"{review.requested_by}, bound to rollback plan {review.hash}: "
        f"kubectl kcr approve-rollback {ctx.resource.name} -n {ctx.resource.namespace}"
    )
