"""What the health gate after a stage checks, and how its verdict reads in status.

The gates are the request's ``spec.rollout.gates`` or, when unset, the cluster policy's
``defaultGates``. An offset reset that scales a Deployment back up also watches the
group's lag recover: its lag may not grow over the bake time. Before that the group is
stopped on purpose, so its lag is not bounded.
"""

from kcr.engine.context import Context
from kcr.engine.effects import CheckGate
from kcr.engine.observations import GateReport
from kcr.model import (
    DeleteTopic,
    HealthGates,
    OperationType,
    ResetConsumerGroupOffsets,
    Stage,
)
from kcr.policy import affected_topics, blast_radius


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


def lag_watch(ctx: Context, stage: Stage) -> tuple[tuple[str, ...], int | None]:
    """The groups whose lag the gate samples, and the growth it allows."""
    gates = gates_of(ctx)
    member = ctx.spec.change.member
    if isinstance(member, ResetConsumerGroupOffsets):
        if restarts_consumers(stage):
            return (member.group,), gates.max_lag_growth or 0
        # Stopped on purpose until its consumers start again: its lag may only grow.
        return (), None
    if gates.max_lag_growth is None:
        return (), None
    snapshot = ctx.status.snapshot
    # Only groups that were reading when the snapshot was taken have a lag to bound: a
    # group an ACL grant names may never have committed, and would fail every gate.
    reading = set(snapshot.consumers_of_topics) if snapshot else set()
    groups = blast_radius(ctx.spec.change, snapshot).consumer_groups
    return tuple(g for g in groups if g in reading), gates.max_lag_growth


def check_gate(ctx: Context, stage: Stage) -> CheckGate:
    groups, growth = lag_watch(ctx, stage)
    member = ctx.spec.change.member
    topics = () if isinstance(member, DeleteTopic) else tuple(affected_topics(ctx.spec.change))
    baseline = ctx.status.baseline
    cluster = ctx.observed.cluster
    return CheckGate(
        stage=stage.name,
        gates=gates_of(ctx),
        topics=topics,
        lag_groups=groups,
        lag_baseline=tuple(sorted(stage.lag_baseline.items())),
        max_lag_growth=growth,
        under_replicated_baseline=baseline.under_replicated_partitions if baseline else None,
        prometheus_url=cluster.prometheus_url if cluster else None,
    )


def describe(report: GateReport) -> str:
    if not report.checks:
        return "no automatic checks configured"
    return "; ".join(
        f"{c.check}: {'ok' if c.passed else 'FAILED'} ({c.message})" for c in report.checks
    )
