"""Forward and undo steps share one driver: the same retries, timeout and messages."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from engine_world import World, approved, ok, request
from kcr_builders import alter_config

from kcr.engine import EngineSettings, RunStep, StepOutcome
from kcr.model import KafkaChangeRequestStatus, Phase, Step, StepState

TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class Busy:
    """A step kept waiting (a broker that answers "try again") in one direction."""

    rollback: bool
    step: str
    name: str
    ends: Phase


CASES = [
    Busy(False, "alter-config-orders", "step alter-config-orders", Phase.FAILED),
    Busy(
        True,
        "undo-alter-config-orders",
        "rollback step undo-alter-config-orders",
        Phase.ROLLBACK_FAILED,
    ),
]


def step_in(status: KafkaChangeRequestStatus, step_id: str) -> Step:
    forward = [s for stage in status.plan.stages for s in stage.steps] if status.plan else []
    undo = status.rollback_plan.steps if status.rollback_plan else []
    return next(s for s in [*forward, *undo] if s.id == step_id)


@pytest.mark.parametrize("busy", CASES, ids=["forward", "undo"])
def test_a_busy_step_is_retried_until_the_step_timeout_then_fails(busy: Busy) -> None:
    world = World(request(alter_config("orders")), settings=EngineSettings(step_timeout=TIMEOUT))
    world.gate_passes = lambda _gate: False  # so the forward write, once done, is undone
    approved(world)

    def answer(effect: RunStep) -> StepOutcome:
        if effect.rollback is not busy.rollback:
            return ok(effect, world.now)
        return StepOutcome(effect.step.id, effect.rollback, False, "busy", world.now, True)

    world.step_script = answer
    assert world.run() is busy.ends
    assert f"{busy.name} failed: busy" in world.status.message
    failed = step_in(world.status, busy.step)
    assert (failed.state, failed.result) == (StepState.FAILED, "busy")
    assert failed.finished_at is not None
    assert failed.started_at is not None
    assert failed.finished_at - failed.started_at >= TIMEOUT
    waiting = [step_in(t.status, busy.step) for t in world.transitions[:-1]]
    assert (StepState.RUNNING, "not yet: busy") in {(s.state, s.result) for s in waiting}
    retries = [e for t in world.transitions for e in t.events if e.reason == "StepRetrying"]
    assert [(e.type, e.message) for e in retries] == [
        ("Warning", f"{busy.name} will be retried: busy")  # the same news is posted once
    ]


def test_a_failed_rollback_names_its_cause_however_short_the_history() -> None:
    world = World(request(alter_config("orders")))
    world.gate_passes = lambda _gate: False
    approved(world)
    world.step_script = lambda e: None if e.rollback else ok(e, world.now)
    assert world.run() is Phase.ROLLING_BACK  # the operator stopped during the undo write
    cause = world.status.rollback_cause
    assert cause.startswith("health gate after stage apply failed: ")
    assert "rolling back" not in cause
    # The audit trail keeps only its newest entries; the cause must not depend on it.
    world.resource = world.resource.with_status(world.status.model_copy(update={"history": []}))
    world.step_script = lambda e: StepOutcome(e.step.id, True, False, "refused", world.now)
    assert world.run() is Phase.ROLLBACK_FAILED
    assert world.status.message.startswith(
        f"rollback step undo-alter-config-orders failed: refused (rolling back because {cause});"
    )
    assert world.status.rollback_cause == cause


def test_a_rollback_asked_for_while_running_records_who_asked() -> None:
    world = World(request(alter_config("orders", "invoices")))
    approved(world)
    world.step_script = lambda e: None if e.step.id == "alter-config-invoices" else ok(e, world.now)
    world.run()
    world.step_script = None
    world.ask_rollback("dave")
    assert world.run() is Phase.ROLLED_BACK
    assert world.status.rollback_cause == "rollback requested by dave"
