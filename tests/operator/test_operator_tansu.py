"""The operator against a real Kafka-protocol broker (tansu, or KCR_KAFKA_BOOTSTRAP) through
the confluent-kafka adapter, for the changes the broker supports."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from confluent_kafka import Producer
from operator_harness import Harness

from kcr import kinds
from kcr.kafka import KafkaPort
from kcr.kafka.connect import open_kafka
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.model import Change, KafkaChangeRequestSpec, RequestedBy, Rollout
from kcr.model.base import KubeModel

pytestmark = [pytest.mark.slow, pytest.mark.kafka, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def broker(kafka_bootstrap: str) -> AsyncIterator[KafkaPort]:
    port = open_kafka(kafka_bootstrap)
    try:
        yield port
    finally:
        await port.close()


async def drafted(broker: KafkaPort, member: KubeModel) -> KafkaChangeRequestSpec:
    return KafkaChangeRequestSpec(
        cluster="tansu",
        change=Change.of(member),
        requested_by=RequestedBy(principal="User:alice", channel="mcp"),
        reason="operator against a broker",
        observed=await kinds.take_snapshot(broker, Change.of(member)),
        rollout=Rollout(bake_seconds=0),
    )


def produce(bootstrap: str, topic: str, count: int) -> None:
    """One record per batch: tansu advances its high watermark once per batch."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for index in range(count):
        producer.produce(topic, f"record-{index}".encode(), partition=0)
        producer.flush(10)
    assert producer.flush(10) == 0


async def run(harness: Harness, name: str, spec: KafkaChangeRequestSpec) -> dict:  # type: ignore[type-arg]
    await harness.kubectl.create(name, spec)
    await harness.kubectl.wait_phase(name, "AwaitingApproval")
    await harness.kubectl.approve(name, "bob", "carol")
    return await harness.kubectl.wait_phase(name, "Succeeded", "RolledBack", "Failed", "Stale")


async def test_create_alter_and_roll_back_on_a_broker(
    harness: Harness, broker: KafkaPort, kafka_bootstrap: str, unique: str
) -> None:
    await harness.kubectl.apply_cluster("tansu", bootstrapServers=kafka_bootstrap)
    await harness.start(kafka_factory=open_kafka)
    topic = f"{unique}-orders"

    created = await run(
        harness,
        "create",
        await drafted(broker, CreateTopic(topic=topic, partitions=2, replication_factor=1)),
    )
    assert created["phase"] == "Succeeded", created["message"]
    (info,) = await broker.describe_topics([topic])
    assert info.partition_count == 2

    alter = AlterTopicConfig(topics=[topic], set={"retention.ms": "7200000"})
    altered = await run(harness, "alter", await drafted(broker, alter))
    assert altered["phase"] == "Succeeded", altered["message"]
    (configs,) = await broker.topic_configs([topic])
    assert configs.configs["retention.ms"].value == "7200000"

    await asyncio.to_thread(produce, kafka_bootstrap, topic, 3)
    review = await harness.kubectl.ask_rollback("create", "dave")
    assert review["phase"] == "AwaitingRollbackApproval", review["message"]
    assert review["rollbackReview"]["risk"] == "CRITICAL"
    assert f"topic {topic} holds 3 records that the deletion destroys" in review["message"]
    await harness.kubectl.approve_rollback("create", "bob", "carol")
    rolled = await harness.kubectl.wait_phase("create", "RolledBack", "RollbackFailed")
    assert rolled["phase"] == "RolledBack", rolled["message"]
    assert topic not in {t.name for t in await broker.list_topics()}
