"""Pending → Invalid or AwaitingApproval: the review a person approves, computed once.

Everything shown for review comes from :func:`kcr.plan.review_spec`, the same function
``kcr validate`` and the MCP preview call, so what a person previews is what is enforced.
"""

from dataclasses import replace

from kcr.engine.context import APPROVED, VALIDATED, Context
from kcr.engine.effects import Finish, Next, Transition, Wait
from kcr.engine.reasons import Reason
from kcr.engine.signals import APPROVED_BY, APPROVED_SPEC_HASH
from kcr.engine.strimzi import listed, refused_at_review, review_warnings
from kcr.model import (
    ClusterPolicyRecord,
    ConditionStatus,
    KafkaClusterSpec,
    Phase,
)
from kcr.plan import Review, review_spec, spec_hash
from kcr.policy.cluster_policy import policy_digests, policy_hash
from kcr.policy.strimzi import strimzi_refusals


def validate(ctx: Context, reason: Reason = Reason.VALIDATED, why: str = "") -> Transition:
    """Review the spec under the cluster's policy; ``why`` says what sent it back here."""
    if ctx.resource.spec is None:
        return invalid(ctx, list(ctx.resource.spec_errors))
    cluster = ctx.observed.cluster
    if cluster is None:
        return wait_for_cluster(ctx)
    change = ctx.spec.change
    scaled = ctx.observed.scaled_deployment
    scales = change.kind.deployment(change.member) is not None
    if scales and scaled is None:
        return wait_for_deployment(ctx)
    strimzi = listed(ctx, change.kind, change.member, "for the review")
    if isinstance(strimzi, Transition):
        return strimzi
    refusals = strimzi_refusals(change.kind, change.member, strimzi)
    if refusals:
        return refused_at_review(ctx, refusals)
    review = review_spec(ctx.spec, cluster.policy, ctx.now, storage=cluster.storage)
    review = replace(review, warnings=[*review.warnings, *review_warnings(ctx, strimzi)])
    problems = [*review.violations, *gate_problems(ctx, cluster)]
    if scales and scaled is not None:
        owners = list(cluster.ownership)
        scope = change.kind.deployment_problem(change.member, scaled.labels, owners)
        problems += [scope] if scope else []
    if problems:
        return invalid(ctx, problems)
    record_review(ctx, review, cluster)
    passed = "spec and cluster policy checks passed"
    ctx.condition(VALIDATED, ConditionStatus.TRUE, Reason.VALIDATED, passed)
    how = approval_instructions(ctx, review)
    waiting = Reason.AWAITING_APPROVAL if reason is Reason.VALIDATED else reason
    ctx.condition(APPROVED, ConditionStatus.FALSE, waiting, f"{why}{how}")
    ctx.move(Phase.AWAITING_APPROVAL, reason, f"{why}{summary(review)}. {how}")
    return ctx.finish(Next())


def invalid(ctx: Context, problems: list[str]) -> Transition:
    message = "invalid: " + "; ".join(problems)
    ctx.condition(VALIDATED, ConditionStatus.FALSE, Reason.VALIDATION_FAILED, message)
    ctx.move(Phase.INVALID, Reason.VALIDATION_FAILED, message)
    return ctx.finish(Finish())


def gate_problems(ctx: Context, cluster: KafkaClusterSpec) -> list[str]:
    gates = ctx.spec.rollout.gates
    if gates is not None and gates.promql and cluster.prometheus_url is None:
        return [
            f"spec.rollout.gates.promql: KafkaCluster {ctx.spec.cluster} has no "
            "spec.prometheusUrl, so PromQL gates cannot be evaluated"
        ]
    return []


def record_review(ctx: Context, review: Review, cluster: KafkaClusterSpec) -> None:
    status = ctx.status
    digests = policy_digests(cluster)
    status.cluster_policy = ClusterPolicyRecord(hash=policy_hash(digests), fields=digests)
    status.risk = review.risk
    status.irreversible = bool(review.irreversible)
    status.blast_radius = review.blast_radius
    status.data_movement = review.data_movement
    status.spec_hash = review.spec_hash
    status.plan = review.plan
    status.rollback_plan = review.rollback
    status.approvals = []
    status.approved_by = ""
    status.change_type = str(ctx.spec.change.type)
    status.target = ctx.spec.change.target()


def summary(review: Review) -> str:
    parts = [f"risk {review.risk}: {'; '.join(review.risk_reasons)}"]
    if review.irreversible:
        parts.append("cannot be undone: " + "; ".join(review.irreversible))
    steps = sum(len(stage.steps) for stage in review.plan.stages)
    parts.append(f"{steps} step(s) in {len(review.plan.stages)} stage(s)")
    if review.warnings:
        parts.append("warnings: " + "; ".join(review.warnings))
    return "; ".join(parts)


def approval_instructions(ctx: Context, review: Review) -> str:
    return (
        f"needs {review.required_approvals} approval(s) by people other than "
        f"{ctx.spec.requested_by.principal}; review status.plan and status.rollbackPlan, then "
        f"approve with: kubectl annotate kcr {ctx.resource.name} -n {ctx.resource.namespace} "
        f"{APPROVED_BY}=<your name> {APPROVED_SPEC_HASH}={review.spec_hash}"
    )


def wait_for_cluster(ctx: Context) -> Transition:
    problem = ctx.observed.cluster_problem or f"KafkaCluster {ctx.spec.cluster} was not found"
    ctx.note(Reason.CLUSTER_UNAVAILABLE, f"{problem}; waiting for it")
    return ctx.finish(Wait(ctx.now + ctx.observed.settings.cluster_retry))


def wait_for_deployment(ctx: Context) -> Transition:
    problem = ctx.observed.scaled_deployment_problem or "it was not read yet"
    ctx.note(
        Reason.DEPLOYMENT_UNAVAILABLE,
        f"the Deployment this reset scales must be checked to consume its group: {problem}; "
        "waiting for it",
    )
    return ctx.finish(Wait(ctx.now + ctx.observed.settings.cluster_retry))


def spec_changed(ctx: Context) -> bool:
    """``spec`` is immutable by a CEL rule; a cluster without it must not slip a change by."""
    return (
        ctx.status.spec_hash is not None
        and ctx.resource.spec is not None
        and spec_hash(ctx.resource.spec) != ctx.status.spec_hash
    )


def restart_review(ctx: Context) -> Transition:
    """A changed spec is a new draft: its review and every approval start again."""
    ctx.status.approvals = []
    ctx.status.approved_by = ""
    ctx.move(
        Phase.PENDING,
        Reason.SPEC_CHANGED,
        "spec changed after review; earlier approvals no longer count and it is reviewed again",
    )
    return ctx.finish(Next())
