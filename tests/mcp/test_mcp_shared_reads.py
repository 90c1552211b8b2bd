"""Many assistants asking the same within a second share one Kafka read, at most 1 s old."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from mcp import Client
from mcp_support import build, structured

from kcr import kinds
from kcr.kafka import UnavailableError
from kcr.kafka.fake import FakeKafka
from kcr.kinds.create_topic import CreateTopic

pytestmark = pytest.mark.asyncio

ASSISTANTS = 50


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def lagging_fake(clock: Clock) -> FakeKafka:
    fake = FakeKafka(clock=clock)
    await kinds.apply(fake, CreateTopic(topic="orders", partitions=3, replication_factor=1))
    for partition in range(3):
        fake.cluster.produce("orders", partition, 10)
    fake.cluster.commit("orders-app", {("orders", p): 4 for p in range(3)})
    fake.cluster.commit("billing", {("orders", p): 9 for p in range(3)})
    fake.cluster.calls.clear()
    return fake


@pytest.mark.parametrize(
    "arguments",
    [{"group": "orders-app"}, {}, {"topic": "orders"}],
    ids=["one group", "all groups", "one topic"],
)
async def test_concurrent_calls_share_one_read_and_a_later_call_reads_again(
    arguments: dict[str, str],
) -> None:
    clock = Clock()
    fake = await lagging_fake(clock)
    built = build(fake, clock=clock)
    async with Client(built.mcp, raise_exceptions=True) as client:
        results = await asyncio.gather(
            *(client.call_tool("consumer_lag", arguments) for _ in range(ASSISTANTS))
        )
        answers = [structured(r) for r in results]
        assert fake.cluster.calls["committed"] == 1
        assert fake.cluster.calls["log_offsets"] == 1
        assert len({a["observedAt"] for a in answers}) == 1
        assert {a["totalLag"] for a in answers} == {answers[0]["totalLag"]}

        clock.now += timedelta(milliseconds=900)
        fresh = structured(await client.call_tool("consumer_lag", arguments))
        assert fake.cluster.calls["committed"] == 1, "data under 1 s old is reused"
        assert fresh["observedAt"] == answers[0]["observedAt"]

        clock.now += timedelta(milliseconds=200)
        fake.cluster.commit("orders-app", {("orders", p): 10 for p in range(3)})
        later = structured(await client.call_tool("consumer_lag", arguments))
    assert fake.cluster.calls["committed"] == 2, "after 1 s the next call reads again"
    assert later["observedAt"] > answers[0]["observedAt"]
    lags = {g["group"]: g["totalLag"] for g in later["groups"]}
    assert lags["orders-app"] == 0


async def test_a_failed_read_is_not_kept() -> None:
    clock = Clock()
    fake = await lagging_fake(clock)
    fake.cluster.fail("committed", UnavailableError("fetch committed offsets: no coordinator"))
    built = build(fake, clock=clock)
    async with Client(built.mcp) as client:
        failed = await client.call_tool("consumer_lag", {"group": "orders-app"})
        retried = await client.call_tool("consumer_lag", {"group": "orders-app"})
    assert failed.is_error
    assert structured(retried)["groups"][0]["totalLag"] == 18
