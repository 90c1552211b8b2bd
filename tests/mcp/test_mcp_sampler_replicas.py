"""Two ``kcr mcp --sample-store=kubernetes`` replicas on the emulator and the broker: one
samples the groups, the other sends the brokers nothing in the background yet tells the same
history, and takes over the sampling when the first one is killed."""

import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_servers import TOKENS, HttpServer
from mcp_support import Incident, structured, wait_until
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

LEADING = "kcr_mcp_group_sampler_leading"
KAFKA_REQUESTS = "kcr_mcp_kafka_requests_total"
WINDOW_SECONDS = 5.0


def scrape(server: HttpServer) -> dict[str, float]:
    """The replica's own metrics: whether it samples, and the Kafka requests it sent."""
    text = httpx.get(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=5).text
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in (LEADING, KAFKA_REQUESTS):
                values[sample.name] = sample.value
    return values


def leaders(servers: tuple[HttpServer, ...]) -> list[HttpServer]:
    return [s for s in servers if scrape(s).get(LEADING) == 1.0]


@asynccontextmanager
async def session(server: HttpServer) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {TOKENS['victor']}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(server.url, http_client=http)) as client,
    ):
        yield client


async def test_one_replica_samples_for_both_and_the_other_takes_over(
    sampling_replicas: tuple[HttpServer, HttpServer], incident: Incident
) -> None:
    wait_until(lambda: len(leaders(sampling_replicas)) == 1, "one replica to hold the Lease")
    (leader,) = leaders(sampling_replicas)
    (follower,) = [s for s in sampling_replicas if s is not leader]

    before = {s.url: scrape(s)[KAFKA_REQUESTS] for s in sampling_replicas}
    time.sleep(WINDOW_SECONDS)  # five sample intervals
    sent = {s.url: scrape(s)[KAFKA_REQUESTS] - before[s.url] for s in sampling_replicas}
    assert sent[leader.url] > 0, "the Lease holder samples"
    assert sent[follower.url] * 10 <= sent[leader.url], (
        f"the other replica reads the holder's rounds instead of the brokers: {sent}"
    )

    async with session(follower) as client:
        answer = structured(
            await client.call_tool(
                "recent_rebalances", {"group": incident.orders_group, "minutes": 5}
            )
        )
    (row,) = answer["groups"]
    assert row["samples"] >= 3, (
        "the follower's history holds the holder's rounds (its own call adds one sample)"
    )

    os.kill(leader.process.pid, signal.SIGKILL)  # no release: the Lease must expire
    leader.process.wait(10)
    killed = time.monotonic()
    wait_until(lambda: leaders((follower,)) == [follower], "the other replica to take over", 20)
    took = time.monotonic() - killed
    assert took <= 3 + 1 + 5, f"taken over {took:.1f}s after the holder died (Lease 3 s)"
    started = scrape(follower)[KAFKA_REQUESTS]
    wait_until(lambda: scrape(follower)[KAFKA_REQUESTS] > started, "the new holder to sample", 20)
