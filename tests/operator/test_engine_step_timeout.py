"""A step that waits on purpose (a replica move) keeps its own timeout, longer than the
operator's: it answers "not yet" past the operator's step timeout, and fails after its own."""

from datetime import timedelta

from engine_world import World, approved, ok, request
from kcr_builders import T0, spec_of

from kcr.engine import EngineSettings, RunStep, StepOutcome
from kcr.kinds.reassign_partitions import ReassignPartitions
from kcr.model import ObservedReplicaSet, ObservedState, ObservedTopic, Phase, StepState

OPERATOR_TIMEOUT = timedelta(seconds=30)
MOVE = ReassignPartitions.model_validate(
    {
        "topics": [{"topic": "orders", "partitions": [{"partition": 0, "replicas": [2, 3]}]}],
        "throttleBytesPerSecond": 1_048_576,
        "batchTimeoutSeconds": 120,
    }
)

PLACED = ObservedState(
    captured_at=T0,
    brokers=3,
    broker_ids=[1, 2, 3],
    topics=[
        ObservedTopic(
            name="orders",
            partitions=1,
            replication_factor=2,
            assignment=[ObservedReplicaSet(partition=0, replicas=[1, 2], leader=1, bytes=0)],
        )
    ],
)


def _world(moving_for: timedelta) -> World:
    world = World(
        request(spec_of(MOVE, PLACED)), settings=EngineSettings(step_timeout=OPERATOR_TIMEOUT)
    )
    approved(world)
    started = world.now

    def answer(effect: RunStep) -> StepOutcome:
        if effect.step.id != "await-1" or world.now - started >= moving_for:
            return ok(effect, world.now)
        return StepOutcome("await-1", False, False, "1 partition(s) still moving", world.now, True)

    world.step_script = answer
    return world


def test_a_move_may_wait_longer_than_the_operators_step_timeout() -> None:
    world = _world(moving_for=timedelta(seconds=90))
    assert world.run(limit=1000) is Phase.SUCCEEDED, world.status.message


def test_a_move_that_outlasts_its_batch_timeout_fails_and_rolls_back() -> None:
    world = _world(moving_for=timedelta(hours=1))
    assert world.run(limit=1000) is Phase.ROLLED_BACK, world.status.message
    plan = world.status.plan
    assert plan is not None
    throttle, move, wait, _ = plan.stages[0].steps
    assert wait.state is StepState.FAILED, "the wait failed, after its own 120 s"
    assert wait.finished_at is not None
    assert wait.started_at is not None
    assert wait.finished_at - wait.started_at >= timedelta(seconds=120)
    assert (move.state, throttle.state) == (StepState.ROLLED_BACK, StepState.ROLLED_BACK), (
        "the move it waited for is undone: moved back"
    )
    undo = world.status.rollback_plan
    assert undo is not None
    assert [s.id for s in undo.steps if s.state is StepState.SUCCEEDED] == [
        "undo-move-1",
        "undo-throttle-1",
    ]
