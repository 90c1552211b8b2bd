"""A real Kafka Connect worker whose FileStreamSink task fails: its group lags, and kcr says why.

The sink first consumes and commits; then its file's path becomes a directory, which no
one (not even root) can open for writing, and the restarted task fails. More records
arrive, the group `connect-<name>` lags, and the diagnosis must rank the failed task first.
"""

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from confluent_kafka import ConsumerGroupTopicPartitions, Producer
from confluent_kafka import TopicPartition as ConfluentPartition
from confluent_kafka.admin import AdminClient, NewTopic
from mcp import Client
from mcp_support import Built, build, structured

from kcr.embedded.connect import ConnectWorker
from kcr.embedded.kraft import KraftCluster
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings
from kcr.mcp.connect import ConnectClient
from kcr.mcp.sampler import utc_now

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

TIMEOUT = 90.0
FIRST, LATER = 10, 15


@dataclass
class FailedSink:
    name: str
    topic: str
    group: str


def _produce(config: dict[str, str], topic: str, count: int) -> None:
    producer = Producer({**config, "acks": "all"})
    for index in range(count):
        producer.produce(topic, value=f"record {index}".encode())
    assert producer.flush(30) == 0


def _committed(admin: AdminClient, group: str, topic: str) -> int:
    request = ConsumerGroupTopicPartitions(group, [ConfluentPartition(topic, 0)])
    (future,) = admin.list_consumer_group_offsets([request]).values()
    (partition,) = future.result(timeout=30).topic_partitions
    return int(partition.offset)


def _wait(check: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {TIMEOUT:.0f}s")
        time.sleep(0.25)


def _task_state(worker: ConnectWorker, name: str) -> str:
    status = httpx.get(f"{worker.url}/connectors/{name}/status", timeout=10).json()
    tasks = status.get("tasks") or [{}]
    return str(tasks[0].get("state", "UNASSIGNED"))


@pytest.fixture
def failed_sink(
    apache_kafka: KraftCluster, kafka_connect: ConnectWorker, unique: str, tmp_path: Path
) -> Iterator[FailedSink]:
    config = apache_kafka.client_config()
    admin = AdminClient(config)
    topic, name = f"{unique}.sink-in", f"{unique}-sink"
    sink = FailedSink(name=name, topic=topic, group=f"connect-{name}")
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    output = tmp_path / "out.txt"
    try:
        _produce(config, topic, FIRST)
        created = httpx.post(
            f"{kafka_connect.url}/connectors",
            json={
                "name": name,
                "config": {
                    "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                    "tasks.max": "1",
                    "topics": topic,
                    "file": str(output),
                },
            },
            timeout=30,
        )
        assert created.status_code == 201, created.text
        _wait(lambda: _committed(admin, sink.group, topic) == FIRST, "the sink's first commit")
        output.unlink()
        output.mkdir()  # the sink's file path can no longer be opened for writing
        restarted = httpx.post(
            f"{kafka_connect.url}/connectors/{name}/restart",
            params={"includeTasks": "true"},
            timeout=30,
        )
        assert restarted.status_code in {200, 202, 204}, restarted.text
        _wait(lambda: _task_state(kafka_connect, name) == "FAILED", "the sink task's failure")
        _produce(config, topic, LATER)
        yield sink
    finally:
        httpx.delete(f"{kafka_connect.url}/connectors/{name}", timeout=30)
        admin.delete_topics([topic])[topic].result(timeout=30)


@pytest_asyncio.fixture
async def connect_server(
    apache_kafka: KraftCluster, kafka_connect: ConnectWorker
) -> AsyncIterator[Built]:
    kafka = open_kafka(
        apache_kafka.spec(), apache_kafka.credentials(), settings=ClientSettings(request_timeout=10)
    )
    connect = ConnectClient(kafka_connect.url, clock=utc_now)
    try:
        yield build(kafka, connect=connect)
    finally:
        await connect.close()
        await kafka.close()


async def test_a_failed_sink_task_is_the_first_finding_for_its_group(
    connect_server: Built, failed_sink: FailedSink
) -> None:
    async with Client(connect_server.mcp) as client:
        status = structured(
            await client.call_tool("connector_status", {"connector": failed_sink.name})
        )
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"group": failed_sink.group})
        )
    (connector,) = status["connectors"]
    assert (connector["type"], connector["group"], connector["topics"]) == (
        "sink",
        failed_sink.group,
        [failed_sink.topic],
    )
    (task,) = connector["tasks"]
    assert task["state"] == "FAILED"
    assert "out.txt" in task["trace"]
    first = diagnosis["findings"][0]
    assert (first["rank"], first["kind"], first["subject"]) == (
        1,
        "ConnectorTaskFailed",
        f"group/{failed_sink.group}",
    )
    assert f"lags by {LATER} because sink connector {failed_sink.name}" in first["summary"]
    connect_evidence, lag = first["evidence"]
    assert connect_evidence["kind"] == "Connector"
    assert connect_evidence["source"].startswith("kafka-connect http://127.0.0.1:")
    assert connect_evidence["query"] == f"connector_status connector={failed_sink.name}"
    assert "task 0 FAILED" in connect_evidence["observedValue"]
    assert connect_evidence["timeWindow"]["end"] == connect_evidence["capturedAt"]
    assert lag["observedValue"] == f"total lag {LATER}"
    assert first["runbook"]["runbook"] == "connectors"
    assert first["runbook"]["section"] == "failed-tasks"
