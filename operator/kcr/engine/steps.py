"""One driver for every step, forward or undo: mark Running, run, record, retry, or fail.

A step is marked Running in the status written before its write, and its answer is
recorded before anything else happens, so a restarted operator re-drives a Running step
through the port's compare-then-apply write instead of skipping or repeating it. A
retriable answer (broker unavailable, group not empty yet) is retried until the step
timeout, then the step fails like a refused write. Only what a done, failed or stopped step
means for the request depends on the direction.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from kcr.engine.context import RESULT_LIMIT, Context, clip
from kcr.engine.effects import Next, RunStep, Transition, Wait
from kcr.engine.observations import StepOutcome
from kcr.engine.reasons import Reason
from kcr.engine.signals import ABORT
from kcr.engine.strimzi import guard_step
from kcr.model import Step, StepState


@dataclass(frozen=True)
class Direction:
    """Forward steps or the undo steps of a rollback."""

    rollback: bool
    noun: str
    """How messages name a step: ``step`` or ``rollback step``."""
    succeeded: Reason
    done: Callable[[Context, Step], None]
    """What else a step that succeeded changes (an undo marks its forward step RolledBack)."""
    stop: Callable[[Context], Transition]
    """kcr.dev/abort before a step starts or while it waits for a retry."""
    fail: Callable[[Context, str], Transition]
    """A step failed; the message names it and says why."""


def drive(ctx: Context, step: Step, direction: Direction) -> Transition:
    """The next move for ``step``, the first one of its plan that is not done."""
    if step.state is StepState.PENDING:
        if ctx.resource.signals.abort:
            return direction.stop(ctx)
        guarded = guard_step(ctx, step, rollback=direction.rollback)
        if guarded is not None:
            return guarded
        mark_running(ctx, step)
        return run(ctx, step, direction)
    if step.state is StepState.RUNNING:
        match ctx.observed.answer:
            case StepOutcome() as outcome if (outcome.step_id, outcome.rollback) == (
                step.id,
                direction.rollback,
            ):
                return record(ctx, step, outcome, direction)
            case _:  # no answer yet (a restart, or a wait in between): run it again
                return guard_step(ctx, step, rollback=direction.rollback) or run(
                    ctx, step, direction
                )
    return direction.fail(ctx, f"{direction.noun} {step.id} failed: {step.result}")


def run(ctx: Context, step: Step, direction: Direction) -> Transition:
    return ctx.finish(RunStep(step.model_copy(deep=True), rollback=direction.rollback))


def mark_running(ctx: Context, step: Step) -> None:
    step.state = StepState.RUNNING
    step.started_at = ctx.now
    step.finished_at = None
    step.result = ""


def record(ctx: Context, step: Step, outcome: StepOutcome, direction: Direction) -> Transition:
    """Succeeded, failed, or not yet (retried until the step timeout)."""
    name = f"{direction.noun} {step.id}"
    if outcome.succeeded:
        finish_step(step, StepState.SUCCEEDED, outcome)
        direction.done(ctx, step)
        ctx.note(direction.succeeded, f"{name} done: {outcome.result}")
        return ctx.finish(Next())
    if outcome.retriable and ctx.resource.signals.abort:
        # Its fate is unknown (a timeout may have been applied): it stays Running, so a
        # rollback undoes it and status says it may have been applied.
        step.result = clip(f"interrupted by {ABORT}: {outcome.result}", RESULT_LIMIT)
        return direction.stop(ctx)
    if outcome.retriable and not timed_out(ctx, step):
        step.result = clip(f"not yet: {outcome.result}", RESULT_LIMIT)
        ctx.note(Reason.STEP_RETRYING, f"{name} will be retried: {outcome.result}")
        return ctx.finish(Wait(ctx.now + ctx.observed.settings.retry_delay))
    finish_step(step, StepState.FAILED, outcome)
    return direction.fail(ctx, f"{name} failed: {outcome.result}")


def timed_out(ctx: Context, step: Step) -> bool:
    """A step that waits on purpose (a replica move) carries its own, longer timeout."""
    started = step.started_at or ctx.now
    limit = ctx.observed.settings.step_timeout
    if step.timeout_seconds is not None:
        limit = timedelta(seconds=step.timeout_seconds)
    return ctx.now - started >= limit


def finish_step(step: Step, state: StepState, outcome: StepOutcome) -> None:
    step.state = state
    step.finished_at = outcome.finished_at
    step.result = clip(outcome.result, RESULT_LIMIT)
