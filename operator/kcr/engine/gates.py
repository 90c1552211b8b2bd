"""What the health gate after a stage checks, and how its verdict reads in status.

The gates are the request's ``spec.rollout.gates`` or, when unset, the cluster policy's
``defaultGates``. The consumer progress check watches the groups the change affects and
those the gate names. A kind that stops consumers on purpose (an offset reset that scales
a Deployment) says which groups a stage leaves stopped, so they are not judged after it,
and may ask for the check with the default settings even when no gate does, once its
bake is long enough to measure in.
"""

from kcr.engine.context import Context
from kcr.engine.effects import CheckGate, ProgressCheck
from kcr.engine.observations import GateReport
from kcr.model import ConsumerProgressGate, HealthGates, Stage
from kcr.model.progress import MAX_PROGRESS_GROUPS, MIN_PROGRESS_BAKE_SECONDS
from kcr.policy import blast_radius

RESTART_GATE = ConsumerProgressGate()


def gates_of(ctx: Context) -> HealthGates:
    if ctx.spec.rollout.gates is not None:
        return ctx.spec.rollout.gates
    if ctx.observed.cluster is not None:
        return ctx.observed.cluster.policy.default_gates
    return HealthGates()


def progress_gate(ctx: Context) -> ConsumerProgressGate | None:
    gate = gates_of(ctx).consumer_progress
    change = ctx.spec.change
    if gate is not None or not change.kind.restarts_consumers(change.member):
        return gate
    measurable = ctx.spec.rollout.bake_seconds >= MIN_PROGRESS_BAKE_SECONDS
    return RESTART_GATE if measurable else None


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
    """The watched groups judged after ``stage``: not those it leaves stopped on purpose."""
    change = ctx.spec.change
    stopped = set(change.kind.stopped_groups(change.member, stage))
    return tuple(g for g in watched_groups(ctx) if g not in stopped)


def progress_check(ctx: Context, stage: Stage) -> ProgressCheck | None:
    gate = progress_gate(ctx)
    groups = judged_groups(ctx, stage)
    if gate is None or not groups or stage.bake_positions is None:
        return None
    baseline = ctx.status.baseline
    taken = tuple(baseline.consumer_positions) if baseline else ()
    return ProgressCheck(gate, groups, taken, stage.bake_positions)


def check_gate(ctx: Context, stage: Stage) -> CheckGate:
    change = ctx.spec.change
    topics = tuple(change.kind.gate_topics(change.member))
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
