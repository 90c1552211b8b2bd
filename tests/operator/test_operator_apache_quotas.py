"""AlterClientQuotas through the real operator on three Apache Kafka brokers: the quota is
read back by Kafka's own ConfigCommand (DescribeClientQuotas), a real producer is
throttled by it, and a consumer it slows down fails the consumer progress gate, after which
the old quota is back."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from apache_world import approved, drafted
from confluent_kafka import Consumer, Producer
from operator_harness import Harness

from kcr import kinds
from kcr.embedded.config_command import config_command
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import KafkaPort
from kcr.kinds.alter_client_quotas import AlterClientQuotas
from kcr.kinds.create_topic import CreateTopic
from kcr.model import ConsumerProgressGate, GroupProgress
from kcr.model.cluster import HealthGates

pytestmark = [
    pytest.mark.slow,
    pytest.mark.kafka,
    pytest.mark.asyncio,
    pytest.mark.usefixtures("kafka_tools"),  # ConfigCommand reads the quotas back
]

FINAL = ("Succeeded", "RolledBack", "RollbackFailed", "Failed", "Stale", "Invalid")
WAIT = 90.0
LOW_RATE = 4096  # bytes a second; a producer sending kilobytes without pause overruns it
OLD_FETCH_RATE = 4_194_304  # printed by ConfigCommand as 4194304.0, not in E notation
PROGRESS = HealthGates(consumer_progress=ConsumerProgressGate(baseline_seconds=6, min_percent=50))


def quotas(client_id: str, **values: float | None) -> AlterClientQuotas:
    return AlterClientQuotas.model_validate(
        {"entities": [{"clientId": client_id, "quotas": values}]}
    )


def client_quotas(cluster: KraftCluster, client_id: str) -> str:
    """What ``kafka-configs.sh --describe --entity-type clients`` prints for the client id."""
    return config_command(
        cluster, "--describe", "--entity-type", "clients", "--entity-name", client_id
    )


def throttled_ms(cluster: KraftCluster, topic: str, client_id: str, rounds: int = 6) -> float:
    """Produce kilobyte records as ``client_id``; the longest broker throttle librdkafka
    reported in its statistics (milliseconds), 0 when none."""
    seen: list[float] = [0.0]

    def statistics(raw: str) -> None:
        for found in json.loads(raw).get("brokers", {}).values():
            seen.append(float(found.get("throttle", {}).get("max", 0)))

    producer = Producer(
        cluster.client_config()
        | {
            "client.id": client_id,
            "linger.ms": 5,
            "statistics.interval.ms": 200,
            "stats_cb": statistics,
        }
    )
    try:
        for _ in range(rounds):
            for _ in range(32):
                producer.produce(topic, value=b"q" * 1024)
                producer.poll(0)
            producer.flush(15)
            producer.poll(0.3)
            if max(seen) > 0:
                break
    finally:
        # Closed here, not by the garbage collector: a statistics callback into a producer
        # being collected later, in another test, crashes the interpreter.
        producer.close()
    return max(seen)


@contextmanager
def consuming(cluster: KraftCluster, topic: str, group: str, client_id: str) -> Iterator[None]:
    """A consumer of ``group`` as ``client_id`` that commits what it read every 200 ms and
    fetches at most two records at a time, so a fetch quota holds it back."""
    stop = threading.Event()
    consumer = Consumer(
        cluster.client_config()
        | {
            "group.id": group,
            "client.id": client_id,
            "auto.offset.reset": "earliest",
            "auto.commit.interval.ms": 200,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
            "message.max.bytes": 2048,
            "fetch.max.bytes": 2048,
            "max.partition.fetch.bytes": 2048,
        }
    )
    consumer.subscribe([topic])
    assigned = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            consumer.poll(0.1)
            if consumer.assignment():
                assigned.set()

    thread = threading.Thread(target=poll, name=f"consumer-{client_id}", daemon=True)
    thread.start()
    try:
        # Joined: the consumer reads before kcr takes the baseline of its progress.
        assert assigned.wait(WAIT), f"{client_id} did not join {group}"
        yield
    finally:
        stop.set()
        thread.join(30)
        consumer.close()


async def until(check: Any, what: str, timeout: float = WAIT) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached in {timeout}s")
        await asyncio.sleep(0.2)


async def new_topic(trio_broker: KafkaPort, topic: str) -> None:
    await kinds.apply(trio_broker, CreateTopic(topic=topic, partitions=1, replication_factor=3))
    await until(lambda: _known(trio_broker, topic), f"topic {topic} on every broker")


async def _known(trio_broker: KafkaPort, topic: str) -> bool:
    return bool(await trio_broker.describe_topics([topic]))


async def test_a_new_producer_quota_is_kafkas_throttles_a_producer_and_rolls_back(
    on_trio_quick: Harness, apache_kafka_trio: KraftCluster, trio_broker: KafkaPort, unique: str
) -> None:
    topic, client_id = f"{unique}.ingest", f"{unique}-backfill"
    await new_topic(trio_broker, topic)
    before = await asyncio.to_thread(throttled_ms, apache_kafka_trio, topic, client_id, 3)
    assert before == 0.0, "no quota yet: the producer runs unthrottled"

    spec = await drafted(trio_broker, quotas(client_id, producer_byte_rate=LOW_RATE))
    await approved(on_trio_quick.kubectl, "quota", spec)
    status = await on_trio_quick.kubectl.wait_phase("quota", *FINAL, timeout=WAIT)
    assert status["phase"] == "Succeeded", status["message"]
    assert status["risk"] == "MEDIUM"
    said = await asyncio.to_thread(client_quotas, apache_kafka_trio, client_id)
    assert f"producer_byte_rate={float(LOW_RATE)}" in said
    after = await asyncio.to_thread(throttled_ms, apache_kafka_trio, topic, client_id)
    assert after > 0, "the broker throttles the producer past its new quota"

    await on_trio_quick.kubectl.ask_rollback("quota", "dave")
    await on_trio_quick.kubectl.approve_rollback("quota", "bob", "carol")
    rolled = await on_trio_quick.kubectl.wait_phase(
        "quota", "RolledBack", "RollbackFailed", timeout=WAIT
    )
    assert rolled["phase"] == "RolledBack", rolled["message"]
    said = await asyncio.to_thread(client_quotas, apache_kafka_trio, client_id)
    assert "producer_byte_rate" not in said


async def test_a_consumer_the_lower_quota_slows_fails_the_gate_and_the_old_quota_is_back(
    on_trio_quick: Harness, apache_kafka_trio: KraftCluster, trio_broker: KafkaPort, unique: str
) -> None:
    """Twenty kilobyte records a second, read as they come under the old fetch quota; held
    to 1 KiB/s the consumer reads about one a second, below half its rate before the change,
    so the consumer progress gate fails and the rollback restores the old quota."""
    topic, group, client_id = f"{unique}.orders", f"{unique}-billing", f"{unique}-billing-app"
    await new_topic(trio_broker, topic)
    await asyncio.to_thread(
        config_command,
        apache_kafka_trio,
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        client_id,
        "--add-config",
        f"consumer_byte_rate={OLD_FETCH_RATE}",
    )
    with (
        kilobytes(apache_kafka_trio, topic, per_second=20),
        consuming(apache_kafka_trio, topic, group, client_id),
    ):
        await until(lambda: _committed(trio_broker, group), f"{group} committing")
        spec = await drafted(
            trio_broker,
            quotas(client_id, consumer_byte_rate=1024),
            bake_seconds=8,
            gates=PROGRESS,
        )
        assert spec.observed is not None
        assert spec.observed.consumers_of_topics == [group]
        await approved(on_trio_quick.kubectl, "throttle", spec)
        status = await on_trio_quick.kubectl.wait_phase("throttle", *FINAL, timeout=WAIT)

    assert status["phase"] == "RolledBack", status["message"]
    assert status["risk"] == "MEDIUM"
    assert status["blastRadius"]["consumerGroups"] == [group]
    (stage,) = status["plan"]["stages"]
    assert f"ConsumerProgress: FAILED ({group} read " in stage["gateResult"], stage["gateResult"]
    (verdict,) = [GroupProgress.model_validate(p) for p in stage["progress"]]
    assert verdict.baseline is not None
    assert verdict.bake is not None
    assert verdict.baseline.rate > 10, "under the old quota it kept up with 20 a second"
    assert verdict.bake.rate < 5, "held to 1 KiB/s it read about one kilobyte record a second"
    said = await asyncio.to_thread(client_quotas, apache_kafka_trio, client_id)
    assert f"consumer_byte_rate={float(OLD_FETCH_RATE)}" in said


async def _committed(trio_broker: KafkaPort, group: str) -> bool:
    positions = await trio_broker.consumer_positions([group])
    found = positions.group(group)
    return found is not None and found.committed > 0


@contextmanager
def kilobytes(cluster: KraftCluster, topic: str, per_second: float) -> Iterator[None]:
    """A producer thread writing ``per_second`` kilobyte records until stopped."""
    stop = threading.Event()

    def run() -> None:
        producer = Producer(cluster.client_config() | {"linger.ms": 5})
        deadline = time.monotonic() + WAIT * 3
        while not stop.is_set() and time.monotonic() < deadline:
            producer.produce(topic, value=b"k" * 1024)
            producer.poll(0)
            stop.wait(1 / per_second)
        producer.flush(15)
        producer.close()

    thread = threading.Thread(target=run, name=f"kilobytes-{topic}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
