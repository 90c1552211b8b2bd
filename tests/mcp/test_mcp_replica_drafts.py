"""Drafting replica moves and leader elections through an MCP client over the Kafka fake:
targets computed from the live assignment, the caller's scope, the bytes a reviewer is
told, and the skew evidence the assistant read before drafting."""

import pytest
import yaml
from mcp import Client
from mcp_support import build, caller, error_text, structured

from kcr.kafka.fake import FakeCluster, FakeKafka

pytestmark = pytest.mark.asyncio

RECORDS = 40  # a fake record is 100 bytes on disk


async def _fake() -> FakeKafka:
    """Brokers 0-3; orders and team-a.orders have replicas on broker 0, payments has none."""
    cluster = FakeCluster(brokers=4)
    await cluster.create_topic("orders", 4, 2, {})  # [0,1] [1,2] [2,3] [3,0]
    await cluster.create_topic("team-a.orders", 1, 2, {})  # [0,1]
    await cluster.create_topic("payments", 1, 2, {})
    cluster.topics["payments"].partitions[0].replicas = [1, 2]
    for partition in range(4):
        cluster.produce("orders", partition, RECORDS)
    return FakeKafka(cluster)


def _moves(draft: dict) -> dict[tuple[str, int], list[int]]:  # type: ignore[type-arg]
    spec = yaml.safe_load(draft["yaml"])["spec"]
    return {
        (t["topic"], p["partition"]): p["replicas"]
        for t in spec["change"]["reassignPartitions"]["topics"]
        for p in t["partitions"]
    }


async def test_a_drain_moves_every_replica_off_the_broker_the_caller_may_see() -> None:
    built = build(await _fake())
    async with Client(built.mcp) as client:
        draft = structured(
            await client.call_tool(
                "draft_reassign_partitions",
                {"drain_broker": 0, "reason": "broker 0 is being decommissioned"},
            )
        )
    moves = _moves(draft)
    assert set(moves) == {("orders", 0), ("orders", 3), ("team-a.orders", 0)}
    assert all(0 not in replicas and len(replicas) == 2 for replicas in moves.values())
    moved = draft["review"]["dataMovement"]
    assert moved["bytes"] == 2 * RECORDS * 100, "team-a.orders is empty"
    assert "adds 3 replica(s) to 3 partition(s)" in moved["summary"]
    assert draft["review"]["risk"] == "MEDIUM"


async def test_a_tenant_drains_only_its_topics_and_cannot_name_others() -> None:
    tenant = caller("carol", topics=("team-a.",), groups=("team-a.",), tenant="team-a")
    built = build(await _fake(), who=tenant)
    async with Client(built.mcp) as client:
        draft = structured(
            await client.call_tool(
                "draft_reassign_partitions",
                {"drain_broker": 0, "reason": "broker 0 is being decommissioned"},
            )
        )
        foreign = await client.call_tool(
            "draft_reassign_partitions",
            {
                "targets": [{"topic": "orders", "partitions": [{"partition": 0, "replicas": [1]}]}],
                "reason": "move the orders replica",
            },
        )
    assert set(_moves(draft)) == {("team-a.orders", 0)}
    assert "topic `orders` is outside your scope `team-a.*`" in error_text(foreign)


async def test_a_new_replication_factor_lists_every_partition() -> None:
    built = build(await _fake())
    async with Client(built.mcp) as client:
        draft = structured(
            await client.call_tool(
                "draft_reassign_partitions",
                {"replication_factor": 3, "topics": ["orders"], "reason": "survive two losses"},
            )
        )
        both = await client.call_tool(
            "draft_reassign_partitions",
            {"replication_factor": 3, "drain_broker": 0, "reason": "two ways at once"},
        )
    moves = _moves(draft)
    assert sorted(moves) == [("orders", p) for p in range(4)]
    assert all(len(r) == 3 for r in moves.values())
    spec = yaml.safe_load(draft["yaml"])["spec"]
    assert spec["change"]["reassignPartitions"]["topics"][0]["replicationFactor"] == 3
    assert "give exactly one of targets" in error_text(both)


async def test_a_drain_the_others_cannot_hold_is_refused_with_the_reason() -> None:
    cluster = FakeCluster(brokers=2)
    await cluster.create_topic("orders", 1, 2, {})
    built = build(FakeKafka(cluster))
    async with Client(built.mcp) as client:
        refused = await client.call_tool(
            "draft_reassign_partitions", {"drain_broker": 0, "reason": "decommission broker 0"}
        )
    assert "orders/0 needs 2 replicas on distinct brokers" in error_text(refused)


async def test_an_election_draft_carries_the_skew_the_caller_read() -> None:
    fake = await _fake()
    fake.cluster.set_leader("orders", 0, 1)
    built = build(fake)
    async with Client(built.mcp) as client:
        skew = structured(await client.call_tool("partition_skew", {"topic": "orders"}))
        draft = structured(
            await client.call_tool(
                "draft_elect_leaders",
                {"topics": [{"topic": "orders"}], "reason": "broker 0 restarted and leads nothing"},
            )
        )
    assert skew["notPreferred"] == ["orders/0"]
    spec = yaml.safe_load(draft["yaml"])["spec"]
    evidence = [e["observedValue"] for e in spec["evidence"]]
    assert any("1 partition(s) not led by their preferred replica: orders/0" in e for e in evidence)
    assert any("1 of 4 observed partition(s) not led by their preferred" in e for e in evidence)
    assert draft["review"]["risk"] == "MEDIUM"
    assert draft["review"]["dataMovement"]["bytes"] == 0
    assert any("not moved back" in line for line in draft["review"]["irreversible"])
