"""One slow broker from real data: three Apache Kafka brokers with the JMX exporter agent,
scraped by a real Prometheus, and a leader whose follower keeps falling behind.

The topic's only partition lives on brokers 2 (leader) and 3, and needs both in sync
(``min.insync.replicas`` 2, ``acks=all``). Broker 3 is paused by its process id for 0.4 s
at a time, well inside ``replica.lag.time.max.ms``, so it stays in the ISR and every
produce request on broker 2 waits for it: broker 2 really answers produce requests slowly,
and the JMX exporter reports its p99 request time.
"""

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from mcp import Client
from mcp_support import Built, structured
from scraping import TIMEOUT, metered_cluster, running_prometheus, serving_metrics

from kcr.embedded.kraft import KraftCluster

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

READY_QUERY = 'count(kafka_network_requestmetrics_totaltimems{request="Produce"}) by (broker)'
LEADER, FOLLOWER = 2, 3
PAUSE_SECONDS = 0.4


@pytest.fixture(scope="module")
def trio(jmx_agent_jar: str) -> Iterator[tuple[KraftCluster, dict[int, int]]]:
    with metered_cluster(jmx_agent_jar, 3) as metered:
        yield metered


@pytest.fixture(scope="module")
def prometheus_url(
    trio: tuple[KraftCluster, dict[int, int]],
    prometheus_path: str,
) -> Iterator[str]:
    _, ports = trio
    with running_prometheus(prometheus_path, {"kafka": ports}, READY_QUERY) as url:
        yield url


@pytest_asyncio.fixture
async def server(
    trio: tuple[KraftCluster, dict[int, int]], prometheus_url: str
) -> AsyncIterator[Built]:
    async with serving_metrics(trio[0], prometheus_url) as built:
        yield built


@contextlib.contextmanager
def follower_falling_behind(pid: int) -> Iterator[None]:
    """Pause and resume the follower's JVM by pid, in turns, until the block ends."""
    done = threading.Event()

    def cycle() -> None:
        while not done.is_set():
            os.kill(pid, signal.SIGSTOP)
            done.wait(PAUSE_SECONDS)
            os.kill(pid, signal.SIGCONT)
            done.wait(PAUSE_SECONDS)

    worker = threading.Thread(target=cycle, daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join(timeout=10)
        os.kill(pid, signal.SIGCONT)


def _slow_brokers(diagnosis: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in diagnosis["findings"] if f["kind"] == "SlowBroker"]


async def test_a_leader_waiting_on_its_follower_is_one_slow_broker(
    server: Built, trio: tuple[KraftCluster, dict[int, int]], unique: str
) -> None:
    cluster, _ = trio
    topic = f"{unique}.replicated"
    admin = AdminClient(cluster.client_config())
    admin.create_topics([NewTopic(topic, 1, replica_assignment=[[LEADER, FOLLOWER]])])[
        topic
    ].result(timeout=30)
    producer = Producer({**cluster.client_config(), "acks": "all", "linger.ms": 0})
    async with Client(server.mcp) as client:
        before = structured(await client.call_tool("explain_current_state", {"topic": topic}))
        assert _slow_brokers(before) == [], before
        pid = cluster.node(FOLLOWER).pid
        assert pid is not None
        with follower_falling_behind(pid):
            deadline = time.monotonic() + TIMEOUT
            while True:
                for _ in range(20):  # one record a request: each waits for the follower
                    producer.produce(topic, value=b"r" * 100)
                    assert producer.flush(30) == 0
                diagnosis = structured(
                    await client.call_tool("explain_current_state", {"topic": topic})
                )
                if _slow_brokers(diagnosis) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
    (slow,) = _slow_brokers(diagnosis)
    assert slow["subject"] == f"broker/{LEADER}"
    assert slow["severity"] == "High"
    assert f"broker {LEADER} answers produce requests in" in slow["summary"]
    (evidence,) = slow["evidence"]
    assert evidence["kind"] == "Metric"
    assert evidence["source"].startswith("prometheus http://127.0.0.1:")
    assert evidence["query"] == (
        'max by (broker) (kafka_network_requestmetrics_totaltimems{request="Produce",'
        'quantile="0.99"})'
    )
    last = {
        part.split(":")[0]: float(part.split("last ")[1].split(" ")[0])
        for part in evidence["observedValue"].split("; ")
    }
    assert set(last) == {"broker=1", "broker=2", "broker=3"}
    assert last[f"broker={LEADER}"] >= 50.0
    assert last[f"broker={LEADER}"] >= 3 * max(last["broker=1"], last[f"broker={FOLLOWER}"])
    window = evidence["timeWindow"]
    assert window["end"] == evidence["capturedAt"]
    assert window["start"] < window["end"]
    assert slow["runbook"]["section"] == "slow-broker"
