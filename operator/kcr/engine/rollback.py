"""Failure handling and RollingBack → RolledBack | RollbackFailed.

The rollback plan was computed from the snapshot read before the first write. Only the
inverses of steps that completed run, newest first, one at a time like forward steps.
Irreversible steps are never reported as rolled back: status says what stays changed,
and a failed rollback lists every step left to do by hand. A rollback asked for after
Succeeded is reviewed first (see ``rollback_review``).
"""

from kcr.engine.context import HISTORY_MESSAGE_LIMIT, Context, clip
from kcr.engine.effects import Finish, Next, Transition, Wait
from kcr.engine.reasons import Reason
from kcr.engine.signals import ABORT, CONTINUE, ROLLBACK
from kcr.engine.steps import Direction, drive
from kcr.engine.validation import wait_for_cluster
from kcr.model import FailurePolicy, Phase, Step, StepState
from kcr.plan import all_steps


def handle_failure(ctx: Context, reason: Reason, message: str) -> Transition:
    if ctx.spec.rollout.on_failure is FailurePolicy.PAUSE:
        ctx.move(
            Phase.PAUSED,
            reason,
            f"{message}; paused (rollout.onFailure=Pause): an approver other than the "
            f"requester retries or accepts with {CONTINUE}=<stage>; roll back with "
            f"{ROLLBACK}=requested, or stop with {ABORT}=true",
        )
        return ctx.finish(Wait())
    return begin_rollback(ctx, reason, message)


def abort_execution(ctx: Context) -> Transition:
    """kcr.dev/abort between steps: stop; roll back what was done when the policy says so.

    While the change waits Paused (at a manual gate, or after a failure under the pause
    policy) a person chooses: continue, roll back, or abort, which stops and leaves what
    was done in place, listed in status.
    """
    ctx.consume(ABORT)
    message = f"stopped with {ABORT}"
    policy = ctx.spec.rollout.on_failure
    if ctx.status.phase is Phase.EXECUTING and policy is FailurePolicy.ROLLBACK:
        return begin_rollback(ctx, Reason.ABORTED, message)
    ctx.move(Phase.FAILED, Reason.ABORTED, f"{message}; {progress(ctx)}")
    return ctx.finish(Finish())


def completed(ctx: Context) -> list[Step]:
    plan = ctx.status.plan
    return [s for s in all_steps(plan) if s.state is StepState.SUCCEEDED] if plan else []


def in_flight(ctx: Context) -> list[Step]:
    plan = ctx.status.plan
    return [s for s in all_steps(plan) if s.state is StepState.RUNNING] if plan else []


def progress(ctx: Context) -> str:
    done = completed(ctx)
    unsure = in_flight(ctx)
    maybe = "; may have been applied: " + "; ".join(s.description for s in unsure) if unsure else ""
    if not done:
        return (
            ("no step had completed" + maybe)
            if unsure
            else "no step had completed, so nothing was changed"
        )
    return "completed and left in place: " + "; ".join(s.description for s in done) + maybe


def cannot_undo(ctx: Context) -> list[str]:
    """What stays changed: completed irreversible steps and the rollback plan's own notes."""
    plan = ctx.status.plan
    applied = (StepState.SUCCEEDED, StepState.ROLLED_BACK, StepState.RUNNING)
    done = [s for s in all_steps(plan) if s.state in applied] if plan else []
    if not done:
        return []
    notes = [
        f"{s.description} (irreversible"
        + (", may have been applied)" if s.state is StepState.RUNNING else ")")
        for s in done
        if s.irreversible
    ]
    rollback = ctx.status.rollback_plan
    return [*notes, *(rollback.irreversible_reasons if rollback else [])]


def touched(ctx: Context) -> list[Step]:
    """Steps whose write reached Kafka or may have: done, or in flight when work stopped.

    A Running step's write may have been applied before a crash or a rollback request, so
    its undo runs too; undo writes compare first, so one for a write that never happened
    sends nothing. A Failed step was refused by the broker and changed nothing.
    """
    plan = ctx.status.plan
    states = (StepState.SUCCEEDED, StepState.RUNNING)
    return [s for s in all_steps(plan) if s.state in states] if plan else []


def begin_rollback(ctx: Context, reason: Reason, message: str) -> Transition:
    plan = ctx.status.rollback_plan
    done = {s.id for s in touched(ctx)}
    undo = [s for s in plan.steps if s.undoes in done] if plan else []
    for step in plan.steps if plan else []:
        if step.undoes not in done and step.state is StepState.PENDING:
            step.state = StepState.SKIPPED
    stays = cannot_undo(ctx)
    if not undo:
        tail = "; ".join(stays) if stays else progress(ctx)
        ctx.move(Phase.FAILED, reason, f"{message}; nothing to roll back: {tail}")
        return ctx.finish(Finish())
    note = f"; cannot be undone: {'; '.join(stays)}" if stays else ""
    ctx.status.rollback_cause = clip(message, HISTORY_MESSAGE_LIMIT)
    ctx.move(
        Phase.ROLLING_BACK,
        reason,
        f"{message}; rolling back {len(undo)} step(s), newest first{note}",
    )
    return ctx.finish(Next())


def roll_back(ctx: Context) -> Transition:
    if ctx.resource.signals.abort:
        return stop_rollback(ctx)
    if ctx.observed.cluster is None:
        return wait_for_cluster(ctx)
    plan = ctx.status.rollback_plan
    for step in plan.steps if plan else []:
        if step.state not in (StepState.SUCCEEDED, StepState.SKIPPED):
            return drive(ctx, step, UNDO)
    stays = cannot_undo(ctx)
    forward = all_steps(ctx.status.plan) if ctx.status.plan else []
    undone = [s.id for s in forward if s.state is StepState.ROLLED_BACK]
    restored = [s.description for s in plan.steps if s.state is StepState.SUCCEEDED] if plan else []
    note = f"; not undone: {'; '.join(stays)}" if stays else ""
    ctx.move(
        Phase.ROLLED_BACK,
        Reason.ROLLED_BACK,
        f"rolled back {', '.join(undone) or 'nothing'}, restoring: {'; '.join(restored) or '-'}"
        f"{note}",
    )
    return ctx.finish(Finish())


def mark_undone(ctx: Context, undo: Step) -> None:
    """The forward step an undo step reverted is RolledBack, not Succeeded, from now on."""
    for forward in all_steps(ctx.status.plan) if ctx.status.plan else []:
        if forward.id == undo.undoes:
            forward.state = StepState.ROLLED_BACK


def stop_rollback(ctx: Context) -> Transition:
    ctx.consume(ABORT)
    return rollback_failed(ctx, Reason.ROLLBACK_ABORTED, f"rollback stopped with {ABORT}")


def rollback_failed(ctx: Context, reason: Reason, message: str) -> Transition:
    plan = ctx.status.rollback_plan
    left = [
        s.description
        for s in (plan.steps if plan else [])
        if s.state not in (StepState.SUCCEEDED, StepState.SKIPPED)
    ]
    stays = cannot_undo(ctx)
    cause = ctx.status.rollback_cause
    why = f" (rolling back because {cause})" if cause else ""
    text = f"{message}{why}; left to do by hand, in this order: {'; '.join(left) or 'nothing'}"
    if stays:
        text += f"; cannot be undone at all: {'; '.join(stays)}"
    ctx.move(Phase.ROLLBACK_FAILED, reason, text)
    return ctx.finish(Finish())


UNDO = Direction(
    rollback=True,
    noun="rollback step",
    succeeded=Reason.ROLLBACK_STEP_SUCCEEDED,
    done=mark_undone,
    stop=stop_rollback,
    fail=lambda ctx, message: rollback_failed(ctx, Reason.ROLLBACK_FAILED, message),
)
