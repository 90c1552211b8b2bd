"""AwaitingApproval → Approved | Rejected | Expired, and the binding every approval carries.

An approval counts only for the spec hash in ``status.specHash``, never from the
requester, and only once enough people gave it for the risk. The plan hash shown at that
moment is recorded with each approval, and :func:`approved_plan_problem` holds every
later write to it.
"""

from datetime import datetime, timedelta

from kcr.engine.cluster_policy import policy_changes, review_again
from kcr.engine.context import APPROVED, Context, clip
from kcr.engine.effects import Finish, Next, Transition, Wait
from kcr.engine.reasons import Reason
from kcr.engine.signals import ABORT, ROLLBACK
from kcr.engine.signed import signature_verdict
from kcr.engine.validation import restart_review, spec_changed, wait_for_cluster
from kcr.model import (
    Approval,
    ConditionStatus,
    KafkaChangeRequestSpec,
    KafkaChangeRequestStatus,
    KafkaClusterSpec,
    Phase,
    Risk,
)
from kcr.model.request import MAX_APPROVALS
from kcr.plan import build_plan, plan_hash, spec_hash
from kcr.policy import evaluate_approvals
from kcr.policy.approvals import ApprovalVerdict
from kcr.policy.authority import Action, phase_refusal

APPROVED_BY_LIMIT = 1024


def await_approval(ctx: Context) -> Transition:
    cluster = before_execution(ctx)
    if not isinstance(cluster, KafkaClusterSpec):
        return cluster
    signals = ctx.resource.signals
    verdict = current_verdict(ctx, cluster)
    if verdict.satisfied:
        return approve(ctx, verdict)
    deadline = approval_deadline(ctx)
    if ctx.now >= deadline:
        ttl = ctx.spec.approval_ttl_seconds
        ctx.condition(APPROVED, ConditionStatus.FALSE, Reason.EXPIRED, f"not approved in {ttl}s")
        ctx.move(
            Phase.EXPIRED,
            Reason.EXPIRED,
            f"not approved within approvalTtlSeconds={ttl} (by {deadline.isoformat()}); "
            "nothing was changed; draft it again if it is still needed",
        )
        return ctx.finish(Finish())
    if signals.approvers or signals.signed_approvals:
        reason = (
            Reason.APPROVAL_REFUSED
            if verdict.refused
            else Reason.SIGNATURE_UNVERIFIED
            if verdict.unverified
            else Reason.INSUFFICIENT_APPROVALS
        )
        ctx.note(reason, verdict.message, kind=APPROVED, state=ConditionStatus.FALSE)
    return ctx.finish(Wait(deadline))


def current_verdict(ctx: Context, cluster: KafkaClusterSpec) -> ApprovalVerdict:
    """What the approval annotations say right now about this spec and its risk."""
    signals = ctx.resource.signals
    signatures = signature_verdict(ctx)
    return evaluate_approvals(
        approvers=list(signals.approvers),
        approved_spec_hash=signals.approved_spec_hash,
        spec_hash=ctx.status.spec_hash or "",
        requester=ctx.spec.requested_by.principal,
        risk=ctx.status.risk or Risk.CRITICAL,
        policy=cluster.policy,
        signed=signatures.verified,
        unverified=signatures.failed,
    )


def withdrawn(ctx: Context, cluster: KafkaClusterSpec) -> Transition | None:
    """Approved but not started: approvers who take their names back are obeyed."""
    verdict = current_verdict(ctx, cluster)
    if verdict.satisfied:
        return None
    ctx.status.approvals = []
    ctx.status.approved_by = ""
    message = f"approval withdrawn before execution ({verdict.message}); nothing was changed"
    ctx.condition(APPROVED, ConditionStatus.FALSE, Reason.APPROVAL_WITHDRAWN, message)
    ctx.move(Phase.AWAITING_APPROVAL, Reason.APPROVAL_WITHDRAWN, message)
    return ctx.finish(Next())


def before_execution(ctx: Context) -> Transition | KafkaClusterSpec:
    """What AwaitingApproval and Approved check first; the cluster when nothing stops them."""
    if spec_changed(ctx):
        return restart_review(ctx)
    stopped = stop_before_execution(ctx)
    if stopped is not None:
        return stopped
    cluster = ctx.observed.cluster
    if cluster is None:
        return wait_for_cluster(ctx)
    changed = policy_changes(ctx, cluster)
    if changed:
        return review_again(ctx, changed)
    return cluster


def stop_before_execution(ctx: Context) -> Transition | None:
    """``rejected-by`` or ``abort`` before the first write: nothing was changed."""
    signals = ctx.resource.signals
    if signals.rejected_by:
        message = f"rejected by {signals.rejected_by}; nothing was changed"
        ctx.condition(APPROVED, ConditionStatus.FALSE, Reason.REJECTED, message)
        ctx.move(Phase.REJECTED, Reason.REJECTED, message)
        return ctx.finish(Finish())
    if signals.abort:
        ctx.consume(ABORT)
        message = "aborted with kcr.dev/abort before execution; nothing was changed"
        ctx.move(Phase.REJECTED, Reason.ABORTED, message)
        return ctx.finish(Finish())
    if signals.rollback_requested:
        ctx.consume(ROLLBACK)
        refusal = phase_refusal(Action.ROLLBACK, ctx.status.phase, ctx.resource.name)
        ctx.note(
            Reason.ROLLBACK_REFUSED, f"{ROLLBACK}=requested refused: {refusal}; nothing to undo"
        )
    return None


def approve(ctx: Context, verdict: ApprovalVerdict) -> Transition:
    plan = ctx.status.plan
    if plan is None or plan.hash != plan_hash(plan) or plan.hash != build_plan(ctx.spec).hash:
        ctx.move(
            Phase.PENDING,
            Reason.PLAN_MISMATCH,
            "status.plan is not the plan built from spec; it is reviewed again before any "
            "approval counts",
        )
        return ctx.finish(Next())
    ctx.status.approvals = [
        Approval(
            user=user,
            at=ctx.now,
            spec_hash=ctx.status.spec_hash or "",
            plan_hash=plan.hash,
            signed=user in verdict.signed,
            cluster_policy_hash=ctx.status.cluster_policy.hash if ctx.status.cluster_policy else "",
        )
        for user in verdict.accepted[:MAX_APPROVALS]
    ]
    ctx.status.approved_by = clip(", ".join(verdict.accepted), APPROVED_BY_LIMIT)
    message = (
        f"approved by {ctx.status.approved_by} for spec {ctx.status.spec_hash or ''} "
        f"and plan {plan.hash}"
    )
    ctx.condition(APPROVED, ConditionStatus.TRUE, Reason.APPROVED, message)
    ctx.move(Phase.APPROVED, Reason.APPROVED, message)
    return ctx.finish(Next())


def approval_deadline(ctx: Context) -> datetime:
    """The TTL runs from creation (or, without a creation time, from the review)."""
    start = ctx.resource.created_at or next(
        (h.at for h in ctx.status.history if h.phase is Phase.AWAITING_APPROVAL), ctx.now
    )
    return start + timedelta(seconds=ctx.spec.approval_ttl_seconds)


def approved_plan_problem(status: KafkaChangeRequestStatus, spec: KafkaChangeRequestSpec) -> str:
    """Why the plan in status may not run; empty when every approval saw exactly this plan."""
    plan = status.plan
    if plan is None:
        return "status.plan is missing"
    if plan.hash != plan_hash(plan):
        return "status.plan was edited after review (its hash no longer matches its steps)"
    if plan.hash != build_plan(spec).hash:
        return "status.plan is not the plan built from spec"
    if status.spec_hash != spec_hash(spec):
        return "spec changed after it was approved"
    if not status.approvals:
        return "no approval is recorded in status.approvals"
    for approval in status.approvals:
        if approval.plan_hash != plan.hash or approval.spec_hash != status.spec_hash:
            return f"the approval by {approval.user} was given for another spec or plan"
    return ""
