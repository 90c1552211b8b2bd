"""Replication throttles: set once, read back, removed so nothing is left throttled."""

import pytest

from kcr.kafka import (
    ApplyOutcome,
    BrokerThrottle,
    InvalidRequestError,
    NotFoundError,
    TopicThrottle,
)

from .conftest import World

pytestmark = pytest.mark.asyncio

APPLIED, ALREADY = ApplyOutcome.APPLIED, ApplyOutcome.ALREADY_APPLIED
RATE = 50_000_000  # high enough not to slow the other tests sharing the cluster
LEADER = "leader.replication.throttled"
FOLLOWER = "follower.replication.throttled"


@pytest.mark.needs("brokerConfigs")
async def test_throttles_are_set_once_and_removed_entirely(world: World, unique: str) -> None:
    await world.kafka.add_topic(unique, 2, 1, {})
    brokers = [b.id for b in (await world.kafka.cluster_overview()).brokers]
    throttle = TopicThrottle(topic=unique, leader_replicas="0:1,1:1", follower_replicas="*")
    try:
        first = await world.kafka.set_replication_throttle(RATE, brokers=brokers, topics=[throttle])
        second = await world.kafka.set_replication_throttle(
            RATE, brokers=brokers, topics=[throttle]
        )
        assert (first.outcome, second.outcome) == (APPLIED, ALREADY)
        assert first.details == [
            *(f"broker {b}: {LEADER}.rate={RATE}, {FOLLOWER}.rate={RATE}" for b in brokers),
            f"topic {unique}: {LEADER}.replicas=0:1,1:1, {FOLLOWER}.replicas=*",
        ]
        found = await world.kafka.replication_throttles([unique])
        assert found.brokers == [
            BrokerThrottle(broker=b, leader_rate=RATE, follower_rate=RATE) for b in brokers
        ]
        assert found.topics == [throttle]
        assert found.throttled
    finally:
        removed = await world.kafka.remove_replication_throttle(brokers=brokers, topics=[unique])
    assert removed.outcome is APPLIED
    again = await world.kafka.remove_replication_throttle(brokers=brokers, topics=[unique])
    assert (again.outcome, again.details) == (
        ALREADY,
        ["the replication throttles are already as requested"],
    )
    left = await world.kafka.replication_throttles([unique])
    assert left.brokers == [BrokerThrottle(broker=b) for b in brokers]
    assert left.topics == [TopicThrottle(topic=unique)]
    assert not left.throttled


async def test_a_topics_throttled_replicas_alone(world: World, unique: str) -> None:
    """No broker rate: only the topic's lists, which every backend keeps as topic configs."""
    await world.kafka.add_topic(unique, 1, 1, {})
    throttle = TopicThrottle(topic=unique, follower_replicas="0:1")
    first = await world.kafka.set_replication_throttle(RATE, brokers=[], topics=[throttle])
    assert first.details == [f"topic {unique}: {FOLLOWER}.replicas=0:1"]
    assert (await world.kafka.replication_throttles([unique], brokers=[])).topics == [throttle]
    await world.kafka.remove_replication_throttle(brokers=[], topics=[unique])
    assert (await world.kafka.replication_throttles([unique], brokers=[])).topics == [
        TopicThrottle(topic=unique)
    ]


async def test_throttle_arguments_are_checked_before_sending(world: World, unique: str) -> None:
    await world.kafka.add_topic(unique, 1, 1, {})
    brokers = [b.id for b in (await world.kafka.cluster_overview()).brokers]
    with pytest.raises(InvalidRequestError, match=r"rate: .* at least 1 byte per second, not 0"):
        await world.kafka.set_replication_throttle(0, brokers=brokers, topics=[])
    stranger = max(brokers) + 100
    with pytest.raises(InvalidRequestError, match=f"broker {stranger} is not in the cluster"):
        await world.kafka.remove_replication_throttle(brokers=[stranger], topics=[])
    with pytest.raises(NotFoundError, match=f"topic {unique}-gone does not exist"):
        await world.kafka.replication_throttles([f"{unique}-gone"])
    with pytest.raises(ValueError, match=r"leader_?[rR]eplicas"):
        TopicThrottle(topic=unique, leader_replicas="0-1")
