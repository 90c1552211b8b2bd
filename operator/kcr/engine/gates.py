"""What the health gate after a stage checks, and how its verdict reads in status.

The gates are the request's ``spec.rollout.gates`` or, when unset, the cluster policy's
``defaultGates``. An offset reset that scales a Deployment back up also watches the
group's lag recover: its lag may not grow over the bake time. Before that the group is
stopped on purpose, so its lag is not bounded.
"""

from kcr.engine.context import Context
from kcr.engine.effects import CheckGate
from kcr.engine.observations import GateReport
from kcr.model import HealthGates, Stage


def gates_of(ctx: Context) -> HealthGates:
    if ctx.spec.rollout.gates is not None:
        return ctx.spec.rollout.gates
    if ctx.observed.cluster is not None:
        return ctx.observed.cluster.policy.default_gates
    return HealthGates()


def lag_watch(ctx: Context, stage: Stage) -> tuple[tuple[str, ...], int | None]:
    """The groups whose lag the gate samples, and the growth it allows."""
    snapshot = ctx.status.snapshot
    reading = list(snapshot.consumers_of_topics) if snapshot else []
    change = ctx.spec.change
    watch = change.kind.lag_watch(change.member, stage, reading, gates_of(ctx).max_lag_growth)
    return watch.groups, watch.max_growth


def check_gate(ctx: Context, stage: Stage) -> CheckGate:
    groups, growth = lag_watch(ctx, stage)
    change = ctx.spec.change
    topics = tuple(change.kind.gate_topics(change.member))
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
