"""Real incidents on the broker, read through an MCP session over the real Kafka adapter.

A hot partition from one dominant key, a group far behind, an idle group: the tools must
report the exact numbers the producing and committing clients caused, and the diagnosis
must rank the hot partition first and cite it.
"""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from mcp import Client
from mcp_support import (
    BILLING_COMMITTED,
    PAYMENTS_PER_PARTITION,
    Built,
    Incident,
    build,
    caller,
    error_text,
    structured,
)

from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]


@pytest_asyncio.fixture
async def broker_server(kafka_bootstrap: str) -> AsyncIterator[Built]:
    kafka = open_kafka(kafka_bootstrap, settings=ClientSettings(request_timeout=10))
    try:
        yield build(kafka)
    finally:
        await kafka.close()


async def test_lag_numbers_are_exact(broker_server: Built, incident: Incident) -> None:
    async with Client(broker_server.mcp) as client:
        orders = structured(
            await client.call_tool("consumer_lag", {"group": incident.orders_group})
        )
        billing = structured(
            await client.call_tool("consumer_lag", {"group": incident.billing_group})
        )
        idle = structured(await client.call_tool("consumer_lag", {"group": incident.idle_group}))
    rows = {
        p["partition"]: (p["committed"], p["logEnd"], p["lag"], p["hot"])
        for p in orders["groups"][0]["topics"][0]["partitions"]
    }
    hot = incident.hot_partition
    assert rows == {p: (0, end, end, p == hot) for p, end in incident.orders_log_end.items()}
    assert sum(incident.orders_log_end.values()) == orders["totalLag"] == 445
    assert [(h["topic"], h["partition"], h["lag"]) for h in orders["hotPartitions"]] == [
        (incident.orders, hot, incident.orders_log_end[hot])
    ]
    behind = PAYMENTS_PER_PARTITION - BILLING_COMMITTED
    assert [p["lag"] for p in billing["groups"][0]["topics"][0]["partitions"]] == [behind, behind]
    assert billing["totalLag"] == 2 * behind
    assert billing["hotPartitions"] == []
    assert idle["totalLag"] == 0
    assert [p["lag"] for p in idle["groups"][0]["topics"][0]["partitions"]] == [0, 0]


async def test_explain_ranks_the_hot_partition_first_and_cites_it(
    broker_server: Built, incident: Incident
) -> None:
    async with Client(broker_server.mcp) as client:
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"topic": incident.orders})
        )
    hot = incident.hot_partition
    lag = incident.orders_log_end[hot]
    first = diagnosis["findings"][0]
    assert (first["rank"], first["kind"], first["subject"]) == (
        1,
        "HotPartition",
        f"{incident.orders}/{hot}",
    )
    assert diagnosis["summary"] == first["summary"]
    assert (
        f"holds {lag} of the 445 unread records of group {incident.orders_group}"
        in (first["summary"])
    )
    (evidence,) = first["evidence"]
    assert evidence["kind"] == "Lag"
    assert evidence["observedValue"].startswith(f"{incident.orders}/{hot} lag {lag};")
    assert (
        evidence["query"] == f"consumer_lag group={incident.orders_group} topic={incident.orders}"
    )
    assert evidence["capturedAt"] <= diagnosis["observedAt"]
    assert evidence["timeWindow"] == {
        "start": evidence["capturedAt"],
        "end": evidence["capturedAt"],
    }
    assert first["runbook"]["section"] == "hot-partitions"
    assert diagnosis["groupsConsidered"] == [incident.orders_group]


async def test_explain_a_group_far_behind_and_an_idle_group(
    broker_server: Built, incident: Incident
) -> None:
    async with Client(broker_server.mcp) as client:
        billing = structured(
            await client.call_tool("explain_current_state", {"group": incident.billing_group})
        )
        idle = structured(
            await client.call_tool("explain_current_state", {"group": incident.idle_group})
        )
    behind = 2 * (PAYMENTS_PER_PARTITION - BILLING_COMMITTED)
    assert [f["kind"] for f in billing["findings"]] == ["NoActiveConsumer"]
    assert f"has {behind} unread records and no active member" in billing["summary"]
    assert idle["healthy"] is True
    assert idle["findings"] == []


async def test_a_tenant_sees_only_its_prefix(kafka_bootstrap: str, incident: Incident) -> None:
    prefix = incident.orders.rsplit(".", 1)[0] + "."
    kafka = open_kafka(kafka_bootstrap, settings=ClientSettings(request_timeout=10))
    try:
        built = build(kafka, who=caller("carol", topics=(prefix + "orders",), groups=(prefix,)))
        async with Client(built.mcp) as client:
            topics = structured(await client.call_tool("list_topics", {"prefix": "kcr-mcp-"}))
            lag = structured(await client.call_tool("consumer_lag", {}))
            refused = await client.call_tool("describe_topic", {"topic": incident.payments})
    finally:
        await kafka.close()
    assert [t["name"] for t in topics["topics"]] == [incident.orders]
    assert {g["group"] for g in lag["groups"]} == {incident.orders_group}
    assert "outside your scope" in error_text(refused)
