"""Executing ⇄ Paused → Succeeded: one step at a time, a baked health gate after each stage.

A step is marked Running in status before its write and Succeeded after it, and the
engine only ever asks to run the first step that is not Succeeded. So a restarted
operator resumes there, and a Running step is re-driven through the port's
compare-then-apply write, which sends nothing when the write already happened.
"""

from datetime import timedelta

from kcr.engine import gates, progress
from kcr.engine.approval import approved_plan_problem
from kcr.engine.context import RESULT_LIMIT, Context, clip
from kcr.engine.effects import Finish, Next, SampleProgress, TakeSnapshot, Transition, Wait
from kcr.engine.observations import (
    GateReport,
    ProgressRead,
    Snapshot,
    SnapshotFailed,
    StepOutcome,
)
from kcr.engine.reasons import Reason
from kcr.engine.rollback import abort_execution, begin_rollback, handle_failure
from kcr.engine.signals import CONTINUE, ROLLBACK, ROLLBACK_REQUESTED_BY
from kcr.engine.steps import Direction, drive, finish_step
from kcr.engine.validation import wait_for_cluster
from kcr.model import ObservedState, Phase, Stage, Step, StepState
from kcr.plan import all_steps

DONE = (StepState.SUCCEEDED, StepState.SKIPPED)
FORWARD = Direction(
    rollback=False,
    noun="step",
    succeeded=Reason.STEP_SUCCEEDED,
    done=lambda _ctx, _step: None,
    stop=abort_execution,
    fail=lambda ctx, message: handle_failure(ctx, Reason.STEP_FAILED, message),
)


def execute(ctx: Context) -> Transition:
    if ctx.resource.signals.rollback_requested:
        settle_running_step(ctx)
        return begin_rollback(ctx, Reason.ROLLBACK_REQUESTED, requested(ctx, "rollback requested"))
    problem = approved_plan_problem(ctx.status, ctx.spec)
    if problem:
        ctx.move(Phase.FAILED, Reason.PLAN_MISMATCH, f"{problem}; execution stopped")
        return ctx.finish(Finish())
    if ctx.observed.cluster is None:
        return wait_for_cluster(ctx)
    plan = ctx.status.plan
    assert plan is not None
    for index, stage in enumerate(plan.stages):
        step = next((s for s in stage.steps if s.state is not StepState.SUCCEEDED), None)
        if step is not None:
            return progress.measure_baseline(ctx) or drive(ctx, step, FORWARD)
        if stage.gate_state not in DONE:
            return drive_gate(ctx, stage, last=index == len(plan.stages) - 1)
    return succeed(ctx)


def succeed(ctx: Context) -> Transition:
    """Every step and gate is done: read what the change left, then say Succeeded.

    A rollback asked for later compares the live state with this record and refuses to
    overwrite whatever moved since. A state that cannot be read by the step timeout is left
    unrecorded (and such a rollback is refused) rather than holding a finished change open.
    """
    plan = ctx.status.plan
    assert plan is not None
    finished = max((s.finished_at for s in all_steps(plan) if s.finished_at), default=ctx.now)
    left: ObservedState | None = None
    unread = ""
    match ctx.observed.answer:
        case Snapshot(state=state):
            left = state
        case SnapshotFailed(problem=problem):
            if ctx.now - finished < ctx.observed.settings.step_timeout:
                ctx.note(
                    Reason.CLUSTER_UNAVAILABLE, f"all steps done; recording the result: {problem}"
                )
                return ctx.finish(Wait(ctx.now + ctx.observed.settings.retry_delay))
            unread = (
                f"; the state it left could not be read ({problem}), so it cannot be rolled back"
            )
        case _:
            return ctx.finish(TakeSnapshot(ctx.spec.change))
    ctx.status.post_change = left
    ctx.status.succeeded_at = ctx.now
    total = sum(len(s.steps) for s in plan.stages)
    ctx.move(
        Phase.SUCCEEDED,
        Reason.SUCCEEDED,
        f"all {total} step(s) done and every health gate passed{unread}; a rollback is "
        f"reviewed like a change: kubectl kcr rollback {ctx.resource.name}, then approval by "
        "someone else",
    )
    return ctx.finish(Finish())


def requested(ctx: Context, words: str) -> str:
    """A rollback asked for while the change runs is part of the approved change: it starts
    at once, and the request and its asker are consumed together."""
    asker = ctx.resource.signals.rollback_requested_by
    ctx.consume(ROLLBACK)
    ctx.consume(ROLLBACK_REQUESTED_BY)
    return f"{words} by {asker}" if asker else words


def settle_running_step(ctx: Context) -> None:
    """Record the answer of a write that was in flight when a person asked to roll back.

    Without it the step would stay Running and its write, which may have happened, would
    be neither recorded nor undone.
    """
    outcome = ctx.observed.answer
    plan = ctx.status.plan
    if not isinstance(outcome, StepOutcome) or outcome.rollback or plan is None:
        return
    for step in all_steps(plan):
        if step.id != outcome.step_id or step.state is not StepState.RUNNING:
            continue
        if outcome.succeeded:
            finish_step(step, StepState.SUCCEEDED, outcome)
        elif outcome.retriable:  # its fate is unknown, so it stays Running and is undone
            step.result = clip(f"interrupted: {outcome.result}", RESULT_LIMIT)
        else:
            finish_step(step, StepState.FAILED, outcome)


def drive_gate(ctx: Context, stage: Stage, *, last: bool) -> Transition:
    """Bake, then check; a manual gate between stages waits Paused for kcr.dev/continue."""
    if stage.gate_state is StepState.PENDING:
        return start_bake(ctx, stage)
    if ctx.resource.signals.abort:
        return abort_execution(ctx)
    bake_end = (stage.bake_started_at or ctx.now) + timedelta(seconds=ctx.spec.rollout.bake_seconds)
    if ctx.now < bake_end:
        return ctx.finish(Wait(bake_end))
    report = ctx.observed.answer
    if not isinstance(report, GateReport) or report.stage != stage.name:
        return ctx.finish(gates.check_gate(ctx, stage))
    text = gates.describe(report)
    stage.gate_result = clip(text, RESULT_LIMIT)
    stage.progress = list(report.progress)
    if report.inconclusive and ctx.now - bake_end < ctx.observed.settings.step_timeout:
        ctx.note(Reason.GATE_RETRYING, f"health gate after stage {stage.name}: {text}")
        return ctx.finish(Wait(ctx.now + ctx.observed.settings.retry_delay))
    if not report.passed:
        stage.gate_state = StepState.FAILED
        return handle_failure(
            ctx, Reason.GATE_FAILED, f"health gate after stage {stage.name} failed: {text}"
        )
    if gates.gates_of(ctx).manual and not last:
        return await_continue(ctx, stage)
    stage.gate_state = StepState.SUCCEEDED
    ctx.note(Reason.GATE_PASSED, f"health gate after stage {stage.name} passed: {text}")
    return ctx.finish(Next())


def start_bake(ctx: Context, stage: Stage) -> Transition:
    groups = gates.judged_groups(ctx, stage)
    if groups:
        read = ctx.observed.answer
        if not isinstance(read, ProgressRead) or read.stage != stage.name:
            return ctx.finish(SampleProgress(stage.name, groups))
        stage.bake_positions = read.positions
    stage.bake_started_at = ctx.now
    stage.gate_state = StepState.RUNNING
    bake = ctx.spec.rollout.bake_seconds
    ctx.note(Reason.BAKING, f"stage {stage.name} done; baking {bake}s before its health gate")
    return ctx.finish(Next())


def await_continue(ctx: Context, stage: Stage) -> Transition:
    if ctx.resource.signals.continue_stage == stage.name:
        ctx.consume(CONTINUE)
        stage.gate_state = StepState.SUCCEEDED
        ctx.note(Reason.CONTINUED, f"stage {stage.name} released with {CONTINUE}")
        return ctx.finish(Next())
    ctx.move(
        Phase.PAUSED,
        Reason.AWAITING_CONTINUE,
        f"stage {stage.name} passed its health gate ({stage.gate_result}); an approver other "
        f"than the requester continues with: "
        f"kubectl annotate kcr {ctx.resource.name} -n {ctx.resource.namespace} "
        f"{CONTINUE}={stage.name} --overwrite",
    )
    return ctx.finish(Wait())


def resume(ctx: Context) -> Transition:
    """Paused: wait for kcr.dev/continue=<stage>, kcr.dev/rollback=requested or abort."""
    signals = ctx.resource.signals
    if signals.rollback_requested:
        return begin_rollback(
            ctx, Reason.ROLLBACK_REQUESTED, requested(ctx, "rollback requested while paused")
        )
    if signals.abort:
        return abort_execution(ctx)
    stage, step = paused_at(ctx)
    if stage is None or signals.continue_stage != stage.name:
        return ctx.finish(Wait())
    ctx.consume(CONTINUE)
    if step is not None:
        step.state = StepState.PENDING
        step.result = f"retried after {CONTINUE}={stage.name}"
    elif stage.gate_state is StepState.FAILED:
        stage.gate_state = StepState.SUCCEEDED
        stage.gate_result = clip(f"{stage.gate_result} — accepted with {CONTINUE}", RESULT_LIMIT)
    else:
        stage.gate_state = StepState.SUCCEEDED
    ctx.move(Phase.EXECUTING, Reason.CONTINUED, f"continued at stage {stage.name} with {CONTINUE}")
    return ctx.finish(Next())


def paused_at(ctx: Context) -> tuple[Stage | None, Step | None]:
    """Where execution stopped: a failed step, a failed gate, or a gate awaiting continue."""
    plan = ctx.status.plan
    for stage in plan.stages if plan else []:
        failed = next((s for s in stage.steps if s.state is StepState.FAILED), None)
        if failed is not None:
            return stage, failed
        if stage.gate_state in (StepState.FAILED, StepState.RUNNING):
            return stage, None
        if any(s.state is not StepState.SUCCEEDED for s in stage.steps):
            break
    return None, None
