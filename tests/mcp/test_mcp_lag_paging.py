"""The all-groups lag report through MCP reads each group's offsets once, however many pages.

Requests are counted by librdkafka itself (the same counter as the Kafka suite's batching
test), on the session's broker.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp import Client
from mcp_support import build, caller, commit_offsets, create_topic, error_text, structured
from tests.kafka.requests import RequestCounter

from kcr.kafka.connect import open_kafka

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

GROUPS = 12
PARTITIONS = 4
PAGE = 3


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def every_page(client: Client, limit: int) -> list[dict[str, Any]]:
    pages, cursor = [], None
    for _ in range(GROUPS + 1):  # bounded: at least one group per page
        arguments: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            arguments["cursor"] = cursor
        pages.append(structured(await client.call_tool("consumer_lag", arguments)))
        cursor = pages[-1]["nextCursor"]
        if cursor is None:
            return pages
    raise AssertionError("the pages never ended")


async def test_every_page_comes_from_one_read_of_each_group(
    kafka_bootstrap: str, unique: str
) -> None:
    topic = f"{unique}.events"
    create_topic(kafka_bootstrap, topic, PARTITIONS)
    groups = [f"{unique}.g{index:02d}" for index in range(GROUPS)]
    for index, group in enumerate(groups):
        commit_offsets(kafka_bootstrap, group, {(topic, p): 0 for p in range(index % 2 + 1)})
    counter = RequestCounter()
    kafka = open_kafka(kafka_bootstrap, extra_config=counter.client_config())
    clock = Clock()
    built = build(kafka, who=caller(topics=(unique,), groups=(unique,)), clock=clock)
    try:
        async with Client(built.mcp, raise_exceptions=True) as client:
            await every_page(client, GROUPS)  # coordinators found and connections made
            sent = {}
            for label, limit in (("one page", GROUPS), ("paged", PAGE)):
                clock.now += timedelta(seconds=5)  # past the shared reads' 1 s
                before = await counter.settle(kafka)
                pages = await every_page(client, limit)
                sent[label] = (await counter.settle(kafka))["all"] - before["all"]
            expired = pages[0]["nextCursor"]
            clock.now += built.server.services.lag_snapshots.keep + timedelta(seconds=1)
            refused = await client.call_tool("consumer_lag", {"limit": PAGE, "cursor": expired})
    finally:
        await kafka.close()

    assert len(pages) == GROUPS // PAGE
    assert [g["group"] for p in pages for g in p["groups"]] == groups
    assert len({p["observedAt"] for p in pages}) == 1, "every page describes one moment"
    assert {p["totalGroups"] for p in pages} == {GROUPS}
    # A single page reads every group's offsets and describes each group; the pages
    # of a paged query make the same reads between them, where reading per page would make
    # them once per page. librdkafka's own metadata refreshes add a few either way, never
    # as many as a second read of every group.
    assert sent["one page"] >= GROUPS, sent
    assert sent["paged"] < sent["one page"] + GROUPS, sent
    assert "expired" in error_text(refused)
