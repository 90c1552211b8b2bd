"""A real reassignment in progress on three Apache Kafka brokers, read through MCP.

The move is started with kafka-python's own admin client (not through kcr) and throttled
to a kilobyte per second over megabytes of data, so it is still running when kcr looks.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from confluent_kafka import Producer
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)
from kafka import TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError
from mcp import Client
from mcp_support import Built, build, structured

from kcr.embedded.kraft import ADMIN, KraftCluster, password_of
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

THROTTLE = "1024"  # bytes per second: megabytes take an hour to copy
RECORDS = 6000
TIMEOUT = 60.0


def _alter(admin: AdminClient, resources: list[ConfigResource]) -> None:
    for future in admin.incremental_alter_configs(resources).values():
        future.result(timeout=TIMEOUT)


def _throttle(admin: AdminClient, brokers: list[int], topic: str, on: bool) -> None:
    operation = AlterConfigOpType.SET if on else AlterConfigOpType.DELETE
    rates = [
        ConfigEntry(name, THROTTLE, incremental_operation=operation)
        for name in ("leader.replication.throttled.rate", "follower.replication.throttled.rate")
    ]
    for broker in brokers:  # one broker resource per request, as Kafka requires
        _alter(admin, [ConfigResource(ResourceType.BROKER, str(broker), incremental_configs=rates)])
    if on:
        replicas = [
            ConfigEntry(name, "*", incremental_operation=operation)
            for name in (
                "leader.replication.throttled.replicas",
                "follower.replication.throttled.replicas",
            )
        ]
        _alter(admin, [ConfigResource(ResourceType.TOPIC, topic, incremental_configs=replicas)])


def _kafka_python(cluster: KraftCluster) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=cluster.bootstrap.split(","),
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_plain_username=ADMIN,
        sasl_plain_password=password_of(ADMIN),
    )


@pytest.fixture
def moving_topic(apache_kafka_trio: KraftCluster, unique: str) -> Iterator[str]:
    """A one-replica topic on broker 1 holding 6 MB, being moved to broker 2."""
    config = apache_kafka_trio.client_config()
    admin = AdminClient(config)
    topic = f"{unique}.moving"
    brokers = [node.node_id for node in apache_kafka_trio.nodes]
    mover = _kafka_python(apache_kafka_trio)
    mover.create_topics([NewTopic(topic, replica_assignments={0: [1]})])
    partition = TopicPartition(topic, 0)
    try:
        producer = Producer({**config, "acks": "all", "linger.ms": 50})
        for _ in range(RECORDS):
            producer.produce(topic, value=b"x" * 1024)
            producer.poll(0)
        assert producer.flush(TIMEOUT) == 0
        _throttle(admin, brokers, topic, on=True)
        mover.alter_partition_reassignments({partition: [2]})
        yield topic
    finally:
        with contextlib.suppress(KafkaError):  # no move to cancel when setup failed early
            mover.alter_partition_reassignments({partition: None})
        mover.close()
        _throttle(admin, brokers, topic, on=False)
        admin.delete_topics([topic])[topic].result(timeout=TIMEOUT)


@pytest_asyncio.fixture
async def trio_server(apache_kafka_trio: KraftCluster) -> AsyncIterator[Built]:
    kafka = open_kafka(
        apache_kafka_trio.spec(),
        apache_kafka_trio.credentials(),
        settings=ClientSettings(request_timeout=10),
    )
    try:
        yield build(kafka)
    finally:
        await kafka.close()


async def _until_listed(client: Client, topic: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT
    while True:
        listed = structured(await client.call_tool("list_reassignments", {"topic": topic}))
        if listed["reassignments"] or time.monotonic() > deadline:
            return listed
        await asyncio.sleep(0.2)


async def test_a_throttled_move_is_listed_and_diagnosed(
    trio_server: Built, moving_topic: str
) -> None:
    async with Client(trio_server.mcp) as client:
        listed = await _until_listed(client, moving_topic)
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"topic": moving_topic})
        )
    (move,) = listed["reassignments"]
    assert (move["topic"], move["partition"]) == (moving_topic, 0)
    assert (sorted(move["replicas"]), move["adding"], move["removing"]) == ([1, 2], [2], [1])
    finding = next(f for f in diagnosis["findings"] if f["kind"] == "ReassignmentInProgress")
    assert finding["subject"] == f"topic/{moving_topic}"
    assert "1 partition(s) of" in finding["summary"]
    (evidence,) = finding["evidence"]
    assert evidence["source"].endswith("ListPartitionReassignments")
    assert evidence["query"] == f"list_reassignments topic={moving_topic}"
    assert "adding [2], removing [1]" in evidence["observedValue"]
    assert evidence["timeWindow"]["end"] == evidence["capturedAt"]
    assert finding["runbook"] == {
        "runbook": "reassignments",
        "section": "diagnose",
        "title": "Reassignments in progress",
    }
