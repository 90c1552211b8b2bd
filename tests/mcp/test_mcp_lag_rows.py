"""Lag rows as the MCP tools return them: lean, capped per page, checked by a flat schema."""

from datetime import UTC, datetime
from typing import Any

import pytest
from mcp import Client
from mcp_support import build, structured

from kcr.kafka import GroupLag, LagReport
from kcr.kafka.fake import FakeKafka
from kcr.kafka.lag import build_lag_report
from kcr.kafka.readmodel import (
    CommittedOffset,
    GroupOffsets,
    HotPartitionRule,
    PartitionOffsets,
)
from kcr.mcp.tools.lag_rows import page_rows

ROW_KEYS = {"partition", "committed", "logStart", "logEnd", "lag", "hot"}


def report(groups: dict[str, int], partitions: int) -> LagReport:
    """Each group committed ``partitions`` partitions of topic t at offset 1; log end 10."""
    log = {
        ("t", p): PartitionOffsets(topic="t", partition=p, earliest=0, latest=10)
        for p in range(partitions)
    }
    offsets = [
        GroupOffsets(
            group=name,
            offsets=[
                CommittedOffset(topic="t", partition=p, offset=offset) for p in range(partitions)
            ],
        )
        for name, offset in groups.items()
    ]
    return build_lag_report(datetime.now(UTC), offsets, log, None, HotPartitionRule())


def shape(rows: list[Any]) -> list[tuple[str, int, list[int]]]:
    return [(g.group, g.total_lag, [len(t.partitions) for t in g.topics]) for g in rows]


@pytest.mark.parametrize(
    ("most", "expected", "truncated"),
    [
        (9, [("a", 27, [3]), ("b", 24, [3]), ("c", 21, [3])], False),
        (5, [("a", 27, [3]), ("b", 24, [2]), ("c", 21, [])], True),
        (3, [("a", 27, [3]), ("b", 24, []), ("c", 21, [])], True),
    ],
    ids=["all-fit", "cut-inside-a-group", "cut-at-a-group"],
)
def test_rows_stop_at_the_cap_and_every_group_keeps_its_total(
    most: int, expected: list[tuple[str, int, list[int]]], truncated: bool
) -> None:
    rows: list[GroupLag] = report({"a": 1, "b": 2, "c": 3}, 3).groups
    shown, cut = page_rows(rows, most)
    assert (shape(shown), cut) == (expected, truncated)


@pytest.mark.asyncio
async def test_rows_carry_no_topic_and_the_schema_has_no_references() -> None:
    fake = FakeKafka()
    await fake.cluster.create_topic("orders", 3, 1, {})
    for partition, count in enumerate([20, 30, 500]):
        fake.cluster.produce("orders", partition, count)
    fake.cluster.commit("orders-app", {("orders", p): 0 for p in range(3)})
    built = build(fake)
    async with Client(built.mcp, raise_exceptions=True) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        lag = structured(await client.call_tool("consumer_lag", {"group": "orders-app"}))
        detail = structured(
            await client.call_tool("describe_consumer_group", {"group": "orders-app"})
        )
    for name in ("consumer_lag", "describe_consumer_group"):
        assert "$ref" not in str(tools[name].output_schema), name
    (topic,) = lag["groups"][0]["topics"]
    assert topic["topic"] == "orders"
    assert [set(p) for p in topic["partitions"]] == [ROW_KEYS] * 3
    assert [(p["partition"], p["logEnd"], p["lag"], p["hot"]) for p in topic["partitions"]] == [
        (0, 20, 20, False),
        (1, 30, 30, False),
        (2, 500, 500, True),
    ]
    assert detail["lag"]["topics"] == [topic]
