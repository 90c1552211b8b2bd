"""Replica moves, log dir sizes and leader elections, on the fake and on Apache Kafka's three
brokers: each move sent once, Kafka's refusals word for word, leaders where they belong."""

import asyncio
import time

import pytest

from kcr.kafka import (
    ApplyOutcome,
    ElectionOutcome,
    InvalidRequestError,
    NotFoundError,
    ReplicaLogSize,
    TopicInfo,
    TopicPartition,
    move_throttle,
)

from .conftest import World

pytestmark = pytest.mark.asyncio

APPLIED, ALREADY = ApplyOutcome.APPLIED, ApplyOutcome.ALREADY_APPLIED
SETTLE_TIMEOUT = 30.0
THROTTLE = 1024  # bytes per second: megabytes take an hour to copy
RECORDS = 3000  # a kilobyte each: more than a follower copies in its first fetch


async def _topic(world: World, name: str, partitions: int, replication: int) -> TopicInfo:
    """A new topic once its brokers hold it: on three brokers, the one that answered the
    creation knows it a moment before the others, whose logs the replica counts show."""
    await world.kafka.add_topic(name, partitions, replication, {})
    counts = (await world.kafka.capabilities()).describe_log_dirs
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        try:
            (topic,) = await world.kafka.describe_topics([name])
            if (
                not counts
                or len(await world.kafka.log_dir_sizes([name])) == partitions * replication
            ):
                return topic
        except NotFoundError:
            pass
        assert time.monotonic() < deadline, f"topic {name} never showed on its brokers"
        await asyncio.sleep(0.2)


async def _brokers(world: World) -> list[int]:
    return [b.id for b in (await world.kafka.cluster_overview()).brokers]


async def _until_replicas(world: World, tp: TopicPartition, replicas: list[int]) -> TopicInfo:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        (topic,) = await world.kafka.describe_topics([tp.topic])
        found = topic.partitions[tp.partition]
        if found.replicas == replicas and sorted(found.isr) == sorted(replicas):
            return topic
        assert time.monotonic() < deadline, f"{tp.topic}/{tp.partition} stayed on {found}"
        await asyncio.sleep(0.2)


async def _until_listed(world: World, topic: str) -> list[ReplicaLogSize]:
    """A broker lists a new replica once it has created its log, a moment after the topic."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not (found := await world.kafka.log_dir_sizes([topic])):
        assert time.monotonic() < deadline, f"no broker lists a replica of {topic}"
        await asyncio.sleep(0.2)
    return found


async def _until_led_by(world: World, tp: TopicPartition, leader: int) -> None:
    """The election returns once one broker's metadata shows it; the others follow."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        (topic,) = await world.kafka.describe_topics([tp.topic])
        if topic.partitions[tp.partition].leader == leader:
            return
        assert time.monotonic() < deadline, f"{tp.topic}/{tp.partition} not led by {leader}"
        await asyncio.sleep(0.2)


@pytest.mark.needs("describeLogDirs")
async def test_log_dir_sizes_grow_with_the_data_on_each_replica(world: World, unique: str) -> None:
    topic = await _topic(world, unique, 1, 1)
    (before,) = await _until_listed(world, unique)
    await world.traffic.fill(unique, 0, 50)
    (after,) = await world.kafka.log_dir_sizes([unique])
    assert (after.topic, after.partition, after.broker) == (unique, 0, topic.partitions[0].leader)
    assert before.size == 0 < after.size
    assert after.log_dir.startswith("/")
    assert not after.future
    with pytest.raises(NotFoundError, match=f"topic {unique}-missing does not exist"):
        await world.kafka.log_dir_sizes([f"{unique}-missing"])


@pytest.mark.needs("alterPartitionReassignments", "threeBrokers")
async def test_a_move_is_sent_once_and_lands(world: World, unique: str) -> None:
    topic = await _topic(world, unique, 1, 2)
    current = topic.partitions[0].replicas
    spare = next(b for b in await _brokers(world) if b not in current)
    target = [spare, current[0]]
    tp = TopicPartition(topic=unique, partition=0)
    first = await world.kafka.alter_reassignments({tp: target})
    second = await world.kafka.alter_reassignments({tp: target})
    assert first.outcome is APPLIED
    assert first.details == [f"{unique}/0: {current} → {target}"]
    assert second.outcome is ALREADY
    assert second.details[0] in {
        f"{unique}/0: already moving to {target}",
        f"{unique}/0: already on {target}",
    }
    await _until_replicas(world, tp, target)
    assert (await world.kafka.reassignments([unique])).reassignments == []
    third = await world.kafka.alter_reassignments({tp: target})
    assert (third.outcome, third.details) == (ALREADY, [f"{unique}/0: already on {target}"])


@pytest.mark.needs("alterPartitionReassignments")
async def test_kafka_refuses_bad_targets_naming_each_partition(world: World, unique: str) -> None:
    topic = await _topic(world, unique, 2, 1)
    brokers = await _brokers(world)
    unknown, known = max(brokers) + 100, brokers[0]
    with pytest.raises(InvalidRequestError) as refused:
        await world.kafka.alter_reassignments(
            {
                TopicPartition(topic=unique, partition=0): [unknown],
                TopicPartition(topic=unique, partition=1): [known, known],
            }
        )
    assert refused.value.code == "INVALID_REPLICA_ASSIGNMENT"
    prefix = "The manual partition assignment includes"
    assert refused.value.message == (
        f"move {unique}/0: {prefix} broker {unknown}, but no such broker is registered. "
        f"(INVALID_REPLICA_ASSIGNMENT); move {unique}/1: {prefix} the broker {known} more than "
        "once. (INVALID_REPLICA_ASSIGNMENT)"
    )
    assert (await world.kafka.describe_topics([unique])) == [topic]


async def test_a_move_is_checked_before_anything_is_sent(world: World, unique: str) -> None:
    await _topic(world, unique, 1, 1)
    with pytest.raises(InvalidRequestError, match=f"{unique}/0: the target replica list is empty"):
        await world.kafka.alter_reassignments({TopicPartition(topic=unique, partition=0): []})
    with pytest.raises(NotFoundError, match=f"partition 3 of topic {unique} does not exist"):
        await world.kafka.alter_reassignments({TopicPartition(topic=unique, partition=3): [1]})
    with pytest.raises(NotFoundError, match=f"topic {unique}-gone does not exist"):
        await world.kafka.alter_reassignments(
            {TopicPartition(topic=f"{unique}-gone", partition=0): None}
        )


@pytest.mark.needs("alterPartitionReassignments")
async def test_cancelling_where_nothing_moves_sends_nothing(world: World, unique: str) -> None:
    await _topic(world, unique, 1, 1)
    result = await world.kafka.alter_reassignments(
        {TopicPartition(topic=unique, partition=0): None}
    )
    assert (result.outcome, result.details) == (
        ALREADY,
        [f"{unique}/0: no move in progress, nothing to cancel"],
    )


@pytest.mark.needs(
    "alterPartitionReassignments", "describeLogDirs", "brokerConfigs", "threeBrokers"
)
async def test_a_throttled_move_reports_bytes_left_and_is_cancelled(
    world: World, unique: str
) -> None:
    """Megabytes behind a kilobyte-per-second throttle: the move is still running when read,
    its bytes left come from the log dirs, and cancelling puts the replica back."""
    topic = await _topic(world, unique, 1, 1)
    (source,) = topic.partitions[0].replicas
    brokers = await _brokers(world)
    spare = next(b for b in brokers if b != source)
    tp = TopicPartition(topic=unique, partition=0)
    await world.traffic.fill(unique, 0, RECORDS)
    throttle = move_throttle(topic, {0: [spare]})
    assert (throttle.leader_replicas, throttle.follower_replicas) == (f"0:{source}", f"0:{spare}")
    try:
        await world.kafka.set_replication_throttle(THROTTLE, brokers=brokers, topics=[throttle])
        await world.kafka.alter_reassignments({tp: [spare]})
        report = await world.kafka.reassignments([unique])
        (move,) = report.reassignments
        (held,) = [s for s in await world.kafka.log_dir_sizes([unique]) if s.broker == source]
        assert (move.target, move.adding, move.removing) == ([spare], [spare], [source])
        assert move.bytes_left is not None
        assert 0 < move.bytes_left <= held.size
        assert report.bytes_left == move.bytes_left
        cancel = await world.kafka.alter_reassignments({tp: None})
        assert cancel.details == [
            f"{unique}/0: cancelled the move to [{spare}], back on [{source}]"
        ]
        await _until_replicas(world, tp, [source])
        assert (await world.kafka.reassignments([unique])).reassignments == []
    finally:
        await world.kafka.remove_replication_throttle(brokers=brokers, topics=[unique])
    assert not (await world.kafka.replication_throttles([unique])).throttled


@pytest.mark.needs("electLeaders", "alterPartitionReassignments", "threeBrokers")
async def test_preferred_leaders_are_elected_after_a_skew(world: World, unique: str) -> None:
    """A new replica order makes another broker preferred without moving leadership; the
    election hands leadership to it, and asking again is not needed."""
    topic = await _topic(world, unique, 1, 3)
    before = topic.partitions[0]
    reordered = [*before.replicas[1:], before.replicas[0]]
    tp = TopicPartition(topic=unique, partition=0)
    await world.kafka.alter_reassignments({tp: reordered})
    skewed = (await _until_replicas(world, tp, reordered)).partitions[0]
    assert skewed.leader == before.leader != reordered[0]
    (elected,) = await world.kafka.elect_leaders([tp])
    assert (elected.topic, elected.partition, elected.outcome) == (
        unique,
        0,
        ElectionOutcome.ELECTED,
    )
    await _until_led_by(world, tp, reordered[0])
    (again,) = await world.kafka.elect_leaders([tp, tp])
    assert (again.outcome, again.code) == (ElectionOutcome.NOT_NEEDED, "ELECTION_NOT_NEEDED")
    assert again.succeeded
    everywhere = await world.kafka.elect_leaders()
    assert tp not in {TopicPartition(topic=r.topic, partition=r.partition) for r in everywhere}
    assert ElectionOutcome.NOT_NEEDED not in {r.outcome for r in everywhere}


@pytest.mark.needs("electLeaders")
async def test_an_election_on_a_missing_partition_sends_nothing(world: World, unique: str) -> None:
    await _topic(world, unique, 1, 1)
    with pytest.raises(NotFoundError, match=f"partition 2 of topic {unique} does not exist"):
        await world.kafka.elect_leaders([TopicPartition(topic=unique, partition=2)])
    assert await world.kafka.elect_leaders([]) == []
