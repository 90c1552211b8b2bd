"""The phase machine: given a request and fresh observations, the next transition.

Pure: no clock, no I/O. The operator reads, calls :func:`decide`, writes the status it
returns, posts its Events, and does its one effect; then it decides again.
"""

from collections.abc import Callable
from datetime import datetime

from kcr.engine.approval import await_approval
from kcr.engine.context import Context
from kcr.engine.effects import Finish, Transition
from kcr.engine.execution import execute, resume
from kcr.engine.observations import Observations
from kcr.engine.reasons import Reason
from kcr.engine.resource import ChangeRequestView
from kcr.engine.rollback import roll_back
from kcr.engine.rollback_review import after_success, await_rollback_approval
from kcr.engine.start import start
from kcr.engine.validation import validate
from kcr.model import Phase
from kcr.policy.authority import TERMINAL_PHASES

PHASES: dict[Phase, Callable[[Context], Transition]] = {
    Phase.PENDING: validate,
    Phase.AWAITING_APPROVAL: await_approval,
    Phase.APPROVED: start,
    Phase.EXECUTING: execute,
    Phase.PAUSED: resume,
    Phase.ROLLING_BACK: roll_back,
    Phase.SUCCEEDED: after_success,
    Phase.AWAITING_ROLLBACK_APPROVAL: await_rollback_approval,
}


def decide(resource: ChangeRequestView, observations: Observations, now: datetime) -> Transition:
    ctx = Context.start(resource, observations, now)
    phase = ctx.status.phase
    if phase in TERMINAL_PHASES:
        return ctx.finish(Finish())
    if resource.spec is None and phase is not Phase.PENDING:
        ctx.move(
            Phase.FAILED,
            Reason.VALIDATION_FAILED,
            "spec no longer parses, so nothing more is done: " + "; ".join(resource.spec_errors),
        )
        return ctx.finish(Finish())
    return PHASES[phase](ctx)


def needs_operator(phase: Phase, rollback_requested: bool) -> bool:
    """Whether a request in ``phase`` still has anything for the operator to do."""
    if phase is Phase.SUCCEEDED:
        return rollback_requested
    return phase not in TERMINAL_PHASES
