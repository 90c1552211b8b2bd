"""What the health gate after a stage checks, and how its verdict reads in status.

The gates are the request's ``spec.rollout.gates`` or, when unset, the cluster policy's
``defaultGates``. The consumer progress check watches the groups the change affects and
those the gate names. An offset reset that scales a Deployment back up watches its group
even when no gate asks (with the default settings, when its bake is long enough to
measure in), once its consumers run again: before that they are stopped on purpose.
"""

from kcr.engine.context import Context
from kcr.engine.effects import CheckGate, ProgressCheck
from kcr.engine.observations import GateReport
from kcr.model import (
    ConsumerProgressGate,
    DeleteTopic,
    HealthGates,
    OperationType,
    ResetConsumerGroupOffsets,
    Stage,
)
from kcr.model.progress import MAX_PROGRESS_GROUPS, MIN_PROGRESS_BAKE_SECONDS
from kcr.policy import affected_topics, blast_radius

RESTART_GATE = ConsumerProgressGate()


def gates_of(ctx: Context) -> HealthGates:
    if ctx.spec.rollout.gates is not None:
        return ctx.spec.rollout.gates
    if ctx.observed.cluster is not None:
        return ctx.observed.cluster.policy.default_gates
    return HealthGates()


def restarts_consumers(stage: Stage) -> bool:
    """The stage scales a Deployment back to the replicas it had: consumers start again."""
    return any(
        s.operation.type is OperationType.SCALE_DEPLOYMENT
        and s.operation.scale_deployment is not None
        and s.operation.scale_deployment.replicas is None
        for s in stage.steps
    )


def progress_gate(ctx: Context) -> ConsumerProgressGate | None:
    gate = gates_of(ctx).consumer_progress
    member = ctx.spec.change.member
    if gate is None and isinstance(member, ResetConsumerGroupOffsets):
        measurable = ctx.spec.rollout.bake_seconds >= MIN_PROGRESS_BAKE_SECONDS
        return RESTART_GATE if member.scale_deployment and measurable else None
    return gate


def watched_groups(ctx: Context) -> tuple[str, ...]:
    """The groups whose progress is measured before the first write.

    A group that never committed is watched too: it is absent from every reading, so it is
    not judged, rather than failing every gate as a lag bound would.
    """
    gate = progress_gate(ctx)
    if gate is None:
        return ()
    radius = blast_radius(ctx.spec.change, ctx.status.snapshot).consumer_groups
    return tuple(sorted({*radius, *gate.groups}))[:MAX_PROGRESS_GROUPS]


def judged_groups(ctx: Context, stage: Stage) -> tuple[str, ...]:
    """The watched groups judged after ``stage``: not a reset group its consumers left."""
    groups = watched_groups(ctx)
    member = ctx.spec.change.member
    if isinstance(member, ResetConsumerGroupOffsets) and not restarts_consumers(stage):
        return tuple(g for g in groups if g != member.group)
    return groups


def progress_check(ctx: Context, stage: Stage) -> ProgressCheck | None:
    gate = progress_gate(ctx)
    groups = judged_groups(ctx, stage)
    if gate is None or not groups or stage.bake_positions is None:
        return None
    baseline = ctx.status.baseline
    taken = tuple(baseline.consumer_positions) if baseline else ()
    return ProgressCheck(gate, groups, taken, stage.bake_positions)


def check_gate(ctx: Context, stage: Stage) -> CheckGate:
    member = ctx.spec.change.member
    topics = () if isinstance(member, DeleteTopic) else tuple(affected_topics(ctx.spec.change))
    baseline = ctx.status.baseline
    cluster = ctx.observed.cluster
    return CheckGate(
        stage=stage.name,
        gates=gates_of(ctx),
        topics=topics,
        progress=progress_check(ctx, stage),
        under_replicated_baseline=baseline.under_replicated_partitions if baseline else None,
        prometheus_url=cluster.prometheus_url if cluster else None,
    )


def describe(report: GateReport) -> str:
    if not report.checks:
        return "no automatic checks configured"
    return "; ".join(
        f"{c.check}: {'ok' if c.passed else 'FAILED'} ({c.message})" for c in report.checks
    )
