"""ReassignPartitions and ElectLeaders run by the operator's own actions on the Kafka fake.

The fake holds a move that copies data while its adding replicas are throttled, as a
throttled move of a large partition runs for a long time on a real cluster; the tests let
it finish, or not, and read the fake's replicas, throttles and leaders back.
"""

from datetime import UTC, datetime

import pytest
from engine_world import World, request
from fake_operator import Watch, reach, run

from kcr import kinds
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kafka.replica_model import FOLLOWER_THROTTLE_RATE, FOLLOWER_THROTTLED_REPLICAS
from kcr.kinds.await_reassignment import AwaitReassignment, MoveInProgressError
from kcr.kinds.elect_leaders import ElectLeaders
from kcr.kinds.reassign_partitions import ReassignPartitions
from kcr.model import (
    Change,
    KafkaChangeRequestSpec,
    Phase,
    RequestedBy,
    Rollout,
    StepState,
)

pytestmark = pytest.mark.asyncio

RATE = 1_048_576
TOPIC = "orders"


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster(brokers=3)


async def _topic(cluster: FakeCluster, records: int = 50) -> None:
    """Two partitions on brokers [0, 1] and [1, 2], each holding records."""
    await cluster.create_topic(TOPIC, 2, 2, {})
    for partition in (0, 1):
        cluster.produce(TOPIC, partition, records)


def _off_broker_1() -> ReassignPartitions:
    return ReassignPartitions.model_validate(
        {
            "topics": [
                {
                    "topic": TOPIC,
                    "partitions": [
                        {"partition": 0, "replicas": [0, 2]},
                        {"partition": 1, "replicas": [2, 0]},
                    ],
                }
            ],
            "throttleBytesPerSecond": RATE,
            "batchSize": 1,
        }
    )


async def _world(kafka: FakeKafka, member: object, **rollout: object) -> World:
    change = Change.of(member)  # type: ignore[arg-type]
    spec = KafkaChangeRequestSpec(
        cluster="prod",
        change=change,
        requested_by=RequestedBy(principal="alice", channel="mcp"),
        reason="move every replica off broker 1",
        observed=await kinds.take_snapshot(kafka, change, datetime.now(UTC)),
        rollout=Rollout(bake_seconds=0, **rollout),  # type: ignore[arg-type]
    )
    world = World(request(spec))
    assert await run(world, kafka, Phase.AWAITING_APPROVAL) is Phase.AWAITING_APPROVAL, (
        world.status.message
    )
    world.approve("bob", "carol")
    return world


def _replicas(cluster: FakeCluster) -> list[list[int]]:
    return [p.replicas for p in cluster.topics[TOPIC].partitions]


def _throttled(cluster: FakeCluster) -> bool:
    rates = any(FOLLOWER_THROTTLE_RATE in o for o in cluster.broker_overrides.values())
    return rates or FOLLOWER_THROTTLED_REPLICAS in cluster.topics[TOPIC].overrides


def _step(world: World, step_id: str) -> str:
    plan = world.status.plan
    assert plan is not None
    return next(s.result for st in plan.stages for s in st.steps if s.id == step_id)


async def test_a_throttled_move_waits_reporting_bytes_left_then_leaves_no_throttle(
    cluster: FakeCluster,
) -> None:
    kafka = FakeKafka(cluster)
    await _topic(cluster)
    world = await _world(kafka, _off_broker_1())
    assert world.status.data_movement is not None
    assert world.status.data_movement.bytes == 2 * 50 * 100  # one replica added per partition
    seen: list[str] = []

    def watch(world: World) -> None:
        result = _step(world, "await-1")
        if result.startswith("not yet") and result not in seen[-1:]:
            seen.append(result)
        if cluster.moving:
            assert _throttled(cluster), "the move runs throttled"
            if len(seen) == 1:
                cluster.copy(TOPIC, 0, 2, 3000)  # broker 2 has copied 3,000 of 5,000 bytes
            elif len(seen) > 1 or _step(world, "await-2").startswith("not yet"):
                cluster.finish_moves()

    await reach(world, kafka, Phase.SUCCEEDED, watch)

    assert [s.split("; ")[1] for s in seen] == [
        "4.9 KiB left to copy at up to 1.0 MiB/s per broker",
        "2.0 KiB left to copy at up to 1.0 MiB/s per broker",
    ]
    assert _replicas(cluster) == [[0, 2], [2, 0]]
    assert not _throttled(cluster)
    assert "orders/0: on [0, 2] (was [0, 1])" in _step(world, "await-1")
    assert _step(world, "move-1").startswith("Applied: orders/0: [0, 1] → [0, 2]")


def _lost_during_the_bake(cluster: FakeCluster) -> Watch:
    """A partition of another topic goes offline once the first stage bakes."""

    def watch(world: World) -> None:
        plan = world.status.plan
        assert plan is not None
        if plan.stages[0].gate_state is StepState.RUNNING:
            cluster.take_offline("other", 0)

    return watch


async def test_a_failed_gate_moves_the_replicas_back_under_a_throttle(
    cluster: FakeCluster,
) -> None:
    kafka = FakeKafka(cluster)
    await _topic(cluster)
    await cluster.create_topic("other", 1, 1, {})
    member = _off_broker_1().model_copy(update={"batch_size": 2})
    world = await _world(kafka, member)
    throttled_back: list[bool] = []
    lost = _lost_during_the_bake(cluster)

    def watch(world: World) -> None:
        lost(world)
        if cluster.moving:
            throttled_back.append(_throttled(cluster))
            cluster.finish_moves()

    await reach(world, kafka, Phase.ROLLED_BACK, watch)

    assert _replicas(cluster) == [[0, 1], [1, 2]]
    assert len(throttled_back) == 2, "moved there, then back"
    assert all(throttled_back), "both ways run throttled"
    assert not _throttled(cluster)
    assert "OfflinePartitions: FAILED" in world.status.plan.stages[0].gate_result  # type: ignore[union-attr]


async def test_an_abort_mid_move_cancels_it_and_keeps_the_original_replicas(
    cluster: FakeCluster,
) -> None:
    kafka = FakeKafka(cluster)
    await _topic(cluster)
    world = await _world(kafka, _off_broker_1())

    aborted: list[bool] = []

    def watch(world: World) -> None:
        if cluster.moving and not aborted:
            world.annotate({"kcr.dev/abort": "true"})
            aborted.append(True)

    await reach(world, kafka, Phase.ROLLED_BACK, watch)

    assert cluster.moving == {}
    assert _replicas(cluster) == [[0, 1], [1, 2]]
    assert not _throttled(cluster)
    assert cluster.calls["alter_reassignments"] == 2, "one move started, one cancelled"


async def test_a_move_and_its_wait_repeated_send_nothing(cluster: FakeCluster) -> None:
    kafka = FakeKafka(cluster)
    await _topic(cluster, records=0)  # nothing to copy: the moves end at once
    member = _off_broker_1()
    snapshot = await kinds.take_snapshot(kafka, member)
    wait = AwaitReassignment(topics=member.topics, throttle_bytes_per_second=RATE)
    first = await kinds.apply(kafka, member, snapshot=snapshot)
    sent = cluster.calls["alter_reassignments"]
    again = await kinds.apply(kafka, member, snapshot=snapshot)
    waited = [await kinds.apply(kafka, wait, snapshot=snapshot) for _ in range(2)]

    assert first.details == ["orders/0: [0, 1] → [0, 2]", "orders/1: [1, 2] → [2, 0]"]
    assert (first.applied, again.applied) == (True, False)
    assert again.details == ["orders/0: already on [0, 2]", "orders/1: already on [2, 0]"]
    assert cluster.calls["alter_reassignments"] == sent, "a repeat sends nothing"
    assert (
        waited[0].details
        == waited[1].details
        == [
            "orders/0: on [0, 2] (was [0, 1])",
            "orders/1: on [2, 0] (was [1, 2])",
        ]
    )


async def test_an_election_ends_the_skew_and_says_a_rollback_leaves_it(
    cluster: FakeCluster,
) -> None:
    kafka = FakeKafka(cluster)
    await cluster.create_topic(TOPIC, 3, 3, {})
    cluster.set_leader(TOPIC, 0, 1)
    cluster.set_leader(TOPIC, 2, 0)
    world = await _world(kafka, ElectLeaders.model_validate({"topics": [{"topic": TOPIC}]}))
    assert world.status.rollback_plan is not None
    assert world.status.rollback_plan.reversible is False
    assert "not moved back" in world.status.rollback_plan.irreversible_reasons[0]
    assert world.status.data_movement is not None
    assert world.status.data_movement.bytes == 0

    await reach(world, kafka, Phase.SUCCEEDED)

    partitions = cluster.topics[TOPIC].partitions
    assert [p.leader for p in partitions] == [p.replicas[0] for p in partitions]
    assert "orders/0, orders/2" in _step(world, "elect-leaders")


async def test_an_election_whose_gate_fails_leaves_the_leaders_and_says_why(
    cluster: FakeCluster,
) -> None:
    kafka = FakeKafka(cluster)
    await cluster.create_topic(TOPIC, 3, 3, {})
    await cluster.create_topic("other", 1, 1, {})
    cluster.set_leader(TOPIC, 0, 1)
    member = ElectLeaders.model_validate({"topics": [{"topic": TOPIC}]})
    world = await _world(kafka, member)

    await reach(world, kafka, Phase.FAILED, _lost_during_the_bake(cluster))

    assert cluster.topics[TOPIC].partitions[0].leader == 0, "the preferred replica still leads"
    assert "nothing to roll back: leadership is not moved back" in world.status.message


async def test_a_move_that_just_ended_is_left_to_settle_not_sent_again(
    cluster: FakeCluster,
) -> None:
    """The controller lists the move no more, but the broker asked still shows the leaving
    replica after the target: the wait says "not yet" and writes nothing."""
    kafka = FakeKafka(cluster)
    await _topic(cluster, records=0)
    cluster.topics[TOPIC].partitions[0].replicas = [0, 2, 1]
    cluster.topics[TOPIC].partitions[1].replicas = [2, 0]
    member = _off_broker_1()
    wait = AwaitReassignment(topics=member.topics, throttle_bytes_per_second=RATE)

    with pytest.raises(MoveInProgressError, match=r"do not show the new replicas yet: orders/0"):
        await kinds.apply(kafka, wait)
    assert cluster.calls["alter_reassignments"] == 0
