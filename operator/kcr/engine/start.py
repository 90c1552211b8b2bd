"""Approved → Executing | Stale: the last checks before the first write.

Approvals withdrawn before the first write send the request back to AwaitingApproval, and
so does a KafkaCluster whose governing policy changed since review (reviewed again).
The change window must be open and no other request may be changing the same topic,
group or principal. Then the live state is read; if it differs from ``spec.observed`` in
a way that changes the plan, the request stops as Stale and nothing is written. The
rollback plan is recomputed from this snapshot, because that is what a rollback restores.
"""

from kcr.engine.approval import approved_plan_problem, before_execution, withdrawn
from kcr.engine.claims import blocked_message
from kcr.engine.context import Context
from kcr.engine.effects import Finish, TakeSnapshot, Transition, Wait
from kcr.engine.execution import execute
from kcr.engine.observations import Snapshot, SnapshotFailed
from kcr.engine.reasons import Reason
from kcr.engine.staleness import stale_differences
from kcr.model import KafkaClusterSpec, Phase, Risk
from kcr.plan import all_steps, build_rollback
from kcr.policy import change_window


def start(ctx: Context) -> Transition:
    cluster = before_execution(ctx)
    if not isinstance(cluster, KafkaClusterSpec):
        return cluster
    taken_back = withdrawn(ctx, cluster)
    if taken_back is not None:
        return taken_back
    problem = approved_plan_problem(ctx.status, ctx.spec)
    if problem:
        ctx.move(Phase.STALE, Reason.PLAN_MISMATCH, f"{problem}; nothing was written")
        return ctx.finish(Finish())
    window = change_window(cluster.policy, ctx.status.risk or Risk.CRITICAL, ctx.now)
    if not window.open:
        ctx.note(Reason.OUTSIDE_CHANGE_WINDOW, f"approved; waiting: {window.message}")
        return ctx.finish(Wait(window.next_open))
    if ctx.observed.blockers:
        ctx.note(Reason.BLOCKED, "approved; " + blocked_message(ctx.observed.blockers))
        return ctx.finish(Wait(ctx.now + ctx.observed.settings.retry_delay))
    match ctx.observed.answer:
        case Snapshot() as snapshot:
            return begin_execution(ctx, cluster, snapshot)
        case SnapshotFailed(problem=problem):
            ctx.note(Reason.CLUSTER_UNAVAILABLE, f"approved; {problem}")
            return ctx.finish(Wait(ctx.now + ctx.observed.settings.retry_delay))
        case _:
            return ctx.finish(TakeSnapshot(ctx.spec.change))


def begin_execution(ctx: Context, cluster: KafkaClusterSpec, snapshot: Snapshot) -> Transition:
    """Stale when the live state changes the reviewed plan; else record it and start."""
    differences = stale_differences(ctx.spec, snapshot.state, cluster.policy)
    if differences:
        ctx.move(
            Phase.STALE,
            Reason.STALE_PLAN,
            "the live state no longer matches the reviewed plan, so nothing was written; "
            "draft the change again: " + "; ".join(differences),
        )
        return ctx.finish(Finish())
    plan = ctx.status.plan
    assert plan is not None  # approved_plan_problem checked it
    ctx.status.snapshot = snapshot.state
    ctx.status.baseline = snapshot.baseline
    ctx.status.rollback_plan = build_rollback(plan, snapshot.state)
    steps = len(all_steps(plan))
    ctx.move(
        Phase.EXECUTING,
        Reason.EXECUTION_STARTED,
        f"live state read at {snapshot.state.captured_at.isoformat()} matches the review; "
        f"executing {steps} step(s) in {len(plan.stages)} stage(s), one at a time",
    )
    return execute(ctx)  # the first step starts in the same status write
