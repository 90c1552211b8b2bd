"""The fake's replica knobs, for operator and MCP tests: a move held in progress with what it
has copied, an election the preferred replica cannot win, a leaderless partition."""

import pytest

from kcr.kafka import (
    AuthorizationError,
    Election,
    ElectionOutcome,
    TopicPartition,
    UnavailableError,
)
from kcr.kafka.fake import FakeKafka

pytestmark = pytest.mark.asyncio

ORDERS = TopicPartition(topic="orders", partition=0)


async def _orders(replication: int = 2) -> FakeKafka:
    fake = FakeKafka()
    await fake.add_topic("orders", 1, replication, {})
    fake.cluster.produce("orders", 0, 30)
    return fake


async def test_a_held_move_reports_what_is_left_until_it_finishes() -> None:
    fake = await _orders()
    fake.cluster.hold_moves = True
    await fake.alter_reassignments({ORDERS: [2, 1]})  # from [0, 1]: adds 2, removes 0
    fake.cluster.copy("orders", 0, 2, 1000)
    (move,) = (await fake.reassignments(["orders"])).reassignments
    assert (move.replicas, move.adding, move.removing) == ([2, 1, 0], [2], [0])
    assert move.bytes_left == 30 * 100 - 1000
    (topic,) = await fake.describe_topics(["orders"])
    assert topic.under_replicated_partitions == 1, "the adding replica is not in the ISR yet"
    fake.cluster.finish_moves()
    (topic,) = await fake.describe_topics(["orders"])
    partition = topic.partitions[0]
    assert (partition.replicas, partition.isr, partition.leader) == ([2, 1], [2, 1], 2)
    assert (await fake.reassignments(["orders"])).reassignments == []


async def test_the_preferred_replica_out_of_the_isr_cannot_lead() -> None:
    fake = await _orders()
    fake.cluster.set_leader("orders", 0, 1)
    fake.cluster.set_isr("orders", 0, [1])
    (result,) = await fake.elect_leaders([ORDERS])
    assert (result.outcome, result.code) == (
        ElectionOutcome.FAILED,
        "PREFERRED_LEADER_NOT_AVAILABLE",
    )
    assert result.message == "The preferred leader was not available."
    assert not result.succeeded
    assert [r.outcome for r in await fake.elect_leaders()] == [ElectionOutcome.FAILED]


async def test_an_unclean_election_gives_a_leaderless_partition_a_leader() -> None:
    fake = await _orders()
    fake.cluster.take_offline("orders", 0)
    (result,) = await fake.elect_leaders([ORDERS], election=Election.UNCLEAN)
    assert result.outcome is ElectionOutcome.ELECTED
    (topic,) = await fake.describe_topics(["orders"])
    assert topic.partitions[0].leader == 0


async def test_moves_are_listed_when_their_brokers_cannot_say_how_far_they_came() -> None:
    """Bytes left are an estimate beside the move: an unreachable broker leaves them null;
    a refusal that will not pass by itself (authorization) is not hidden."""
    fake = await _orders()
    fake.cluster.hold_moves = True
    await fake.alter_reassignments({ORDERS: [2, 1]})
    fake.cluster.fail("log_dirs", UnavailableError("broker 2 is not reachable"))
    (move,) = (await fake.reassignments(["orders"])).reassignments
    assert (move.adding, move.bytes_left) == ([2], None)
    fake.cluster.fail("log_dirs", AuthorizationError("no Describe on the cluster"))
    with pytest.raises(AuthorizationError, match="no Describe on the cluster"):
        await fake.reassignments(["orders"])
