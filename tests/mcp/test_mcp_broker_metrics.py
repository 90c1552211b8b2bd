"""Broker metrics from a real Prometheus scraping Apache Kafka through the JMX exporter agent.

The broker runs with the Prometheus JMX exporter java agent from Maven Central; Prometheus
scrapes it every second with the label ``broker="1"``, as a scrape config's relabelling
would. Traffic comes from confluent-kafka's own producer, not through kcr.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as ConfluentPartition
from confluent_kafka.admin import AdminClient, NewTopic
from mcp import Client
from mcp_support import Built, error_text, structured
from scraping import TIMEOUT, metered_cluster, running_prometheus, serving_metrics

from kcr.embedded.config_command import describe_client_quota, set_client_quota
from kcr.embedded.kraft import KraftCluster

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

READY_QUERY = "kafka_server_replicamanager_underreplicatedpartitions"


@pytest.fixture(scope="module")
def metered(jmx_agent_jar: str) -> Iterator[tuple[KraftCluster, dict[int, int]]]:
    """One broker with the JMX exporter agent; its metrics port by node id."""
    with metered_cluster(jmx_agent_jar, 1) as metered:
        yield metered


@pytest.fixture(scope="module")
def prometheus_url(
    metered: tuple[KraftCluster, dict[int, int]],
    prometheus_path: str,
) -> Iterator[str]:
    _, ports = metered
    with running_prometheus(prometheus_path, {"kafka": ports}, READY_QUERY) as url:
        yield url


@pytest_asyncio.fixture
async def metrics_server(
    metered: tuple[KraftCluster, dict[int, int]], prometheus_url: str
) -> AsyncIterator[Built]:
    async with serving_metrics(metered[0], prometheus_url) as built:
        yield built


def _topic_with_a_lagging_group(cluster: KraftCluster, topic: str, group: str) -> None:
    config = cluster.client_config()
    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[ConfluentPartition(topic, 0, 0)], asynchronous=False)
    finally:
        consumer.close()


def _produce(producer: Producer, topic: str, records: int, size: int) -> None:
    for _ in range(records):
        producer.produce(topic, value=b"x" * size)
        producer.poll(0)
    assert producer.flush(30) == 0


async def test_broker_metrics_reads_each_family_from_prometheus(
    metrics_server: Built, metered: tuple[KraftCluster, dict[int, int]], unique: str
) -> None:
    cluster, _ = metered
    topic = f"{unique}.metered"
    _topic_with_a_lagging_group(cluster, topic, f"{unique}.readers")
    producer = Producer(cluster.client_config())
    async with Client(metrics_server.mcp) as client:
        deadline = time.monotonic() + TIMEOUT
        while True:
            # Keep writing: a counter born with its bytes already counted shows no increase.
            _produce(producer, topic, 50, 1024)
            bytes_in = structured(
                await client.call_tool(
                    "broker_metrics", {"family": "bytes_in", "topic": topic, "minutes": 5}
                )
            )
            values = [p["value"] for s in bytes_in["series"] for p in s["points"]]
            if (values and max(values) > 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        urp = structured(await client.call_tool("broker_metrics", {"family": "under_replicated"}))
        idle = structured(
            await client.call_tool("broker_metrics", {"family": "request_handler_idle"})
        )
        refused = await client.call_tool(
            "broker_metrics", {"family": "produce_latency", "topic": topic}
        )
    (series,) = bytes_in["series"]
    assert series["labels"] == {"broker": "1", "topic": topic}
    assert max(values) > 0
    assert f'topic="{topic}"' in bytes_in["query"]
    assert bytes_in["unit"] == "bytes/s"
    assert bytes_in["stepSeconds"] == 5
    (urp_series,) = urp["series"]
    assert urp_series["labels"] == {"broker": "1"}
    assert {p["value"] for p in urp_series["points"]} == {0.0}
    assert all(0.0 <= p["value"] <= 1.0 for s in idle["series"] for p in s["points"])
    assert "produce_latency is per broker only" in error_text(refused)


async def test_a_burst_while_consumers_lag_is_a_throughput_spike(
    metrics_server: Built, metered: tuple[KraftCluster, dict[int, int]], unique: str
) -> None:
    cluster, _ = metered
    topic = f"{unique}.bursty"
    _topic_with_a_lagging_group(cluster, topic, f"{unique}.behind")
    producer = Producer(cluster.client_config())
    for _ in range(35):  # a trickle of a record a second: the baseline
        _produce(producer, topic, 1, 256)
        time.sleep(1)  # paces the producer; not a wait for a condition
    _produce(producer, topic, 3000, 1024)  # the spike: 3 MB at once
    async with Client(metrics_server.mcp) as client:
        deadline = time.monotonic() + TIMEOUT
        while True:
            diagnosis = structured(
                await client.call_tool("explain_current_state", {"topic": topic})
            )
            kinds = [f["kind"] for f in diagnosis["findings"]]
            if "ThroughputSpike" in kinds or time.monotonic() > deadline:
                break
            await asyncio.sleep(2)
    spike = next(f for f in diagnosis["findings"] if f["kind"] == "ThroughputSpike")
    assert spike["subject"] == f"topic/{topic}"
    (evidence,) = spike["evidence"]
    assert evidence["kind"] == "Metric"
    assert evidence["source"].startswith("prometheus http://127.0.0.1:")
    assert f'topic="{topic}"' in evidence["query"]
    window = evidence["timeWindow"]
    assert window["end"] == evidence["capturedAt"]
    assert window["start"] < window["end"]
    assert spike["runbook"]["section"] == "throughput-spike"
    assert "NoActiveConsumer" in kinds


QUOTA_BYTES_PER_SECOND = 4096


async def test_a_producer_past_its_client_quota_is_quota_pressure(
    metrics_server: Built,
    metered: tuple[KraftCluster, dict[int, int]],
    kafka_tools: str,
    unique: str,
) -> None:
    """The quota is set by Apache Kafka's own ConfigCommand; the broker throttles the
    producer, the JMX exporter reports the throttle time, Prometheus scrapes it."""
    cluster, _ = metered
    topic = f"{unique}.quoted"
    client_id = f"{unique}-throttled"
    _topic_with_a_lagging_group(cluster, topic, f"{unique}.waiting")
    async with Client(metrics_server.mcp) as client:
        before = structured(await client.call_tool("explain_current_state", {"topic": topic}))
        throttle = structured(await client.call_tool("broker_metrics", {"family": "throttle_time"}))
    # Nothing is throttled before the quota: the finding below comes from it.
    assert "QuotaPressure" not in [f["kind"] for f in before["findings"]]
    assert {p["value"] for s in throttle["series"] for p in s["points"]} <= {0.0}
    set_client_quota(cluster, client_id, producer_byte_rate=QUOTA_BYTES_PER_SECOND)
    assert f"producer_byte_rate={QUOTA_BYTES_PER_SECOND}" in describe_client_quota(
        cluster, client_id
    )
    producer = Producer({**cluster.client_config(), "client.id": client_id, "linger.ms": 5})
    async with Client(metrics_server.mcp) as client:
        deadline = time.monotonic() + TIMEOUT
        while True:
            # 64 KiB a round against a quota of 4 KiB/s: the broker throttles the client.
            for _ in range(64):
                producer.produce(topic, value=b"q" * 1024)
                producer.poll(0)
            producer.flush(15)
            diagnosis = structured(
                await client.call_tool("explain_current_state", {"topic": topic})
            )
            kinds = [f["kind"] for f in diagnosis["findings"]]
            if "QuotaPressure" in kinds or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    assert "QuotaPressure" in kinds, diagnosis
    pressure = next(f for f in diagnosis["findings"] if f["kind"] == "QuotaPressure")
    assert pressure["subject"] == f"quota/client-id={client_id}"
    assert pressure["rank"] == kinds.index("QuotaPressure") + 1
    assert "throttle requests on broker(s) 1" in pressure["summary"]
    (raised,) = pressure["proposal"]["change"]["alterClientQuotas"]["entities"]
    assert raised["quotas"] == {"producer_byte_rate": 2 * QUOTA_BYTES_PER_SECOND}
    evidence = pressure["evidence"][0]
    assert evidence["kind"] == "Metric"
    assert evidence["source"].startswith("prometheus http://127.0.0.1:")
    assert evidence["query"] == "max without (instance, job) (kafka_server_quota_throttle_time{})"
    assert evidence["observedValue"].startswith(f"broker=1,clientid={client_id},resource=Produce: ")
    peak = float(evidence["observedValue"].split("max ")[1].split(",")[0])
    assert peak > 0
    window = evidence["timeWindow"]
    assert window["end"] == evidence["capturedAt"]
    assert window["start"] < window["end"]
    assert pressure["runbook"]["section"] == "quota-pressure"
