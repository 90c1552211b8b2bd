"""Replica moves, throttles, elections and quotas kcr sends, read back on three Apache Kafka
brokers by clients that are not kcr: confluent-kafka's AdminClient, kafka-python's admin
client, Apache Kafka's own ConfigCommand, and a real producer the broker throttles.

The contract suite holds the fake to the same answers; only a real cluster can say that the
replicas moved, the throttles are gone and a quota slows a producer down.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio
from confluent_kafka import Producer, TopicCollection
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import TopicPartition as KafkaPythonPartition
from kafka.admin import KafkaAdminClient

from kcr.embedded.config_command import config_command
from kcr.embedded.kraft import ADMIN, KraftCluster, password_of
from kcr.kafka import (
    ElectionOutcome,
    KafkaPort,
    NotFoundError,
    QuotaAlteration,
    QuotaEntityType,
    QuotaKey,
    TopicPartition,
    move_throttle,
)
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]
TIMEOUT = 60.0
AGREEING_READS = 5
BROKERS = [1, 2, 3]
RATE = 10_000_000
QUOTA = 4096  # bytes per second; a producer sending kilobytes without pause overruns it
Layout = dict[int, tuple[int, list[int], list[int]]]


@pytest_asyncio.fixture
async def kafka(apache_kafka_trio: KraftCluster) -> AsyncIterator[KafkaPort]:
    port = open_kafka(
        apache_kafka_trio.spec(),
        apache_kafka_trio.credentials(),
        settings=ClientSettings(request_timeout=10),
    )
    try:
        yield port
    finally:
        await port.close()


@pytest.fixture
def admin(apache_kafka_trio: KraftCluster) -> AdminClient:
    return AdminClient(apache_kafka_trio.client_config())


@pytest.fixture
def other_admin(apache_kafka_trio: KraftCluster) -> Iterator[KafkaAdminClient]:
    """kafka-python's own admin client: the tool an operator might move replicas with."""
    client = KafkaAdminClient(
        bootstrap_servers=apache_kafka_trio.bootstrap.split(","),
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_plain_username=ADMIN,
        sasl_plain_password=password_of(ADMIN),
    )
    yield client
    client.close()


NewTopicMaker = Callable[[int, int], Awaitable[str]]


@pytest_asyncio.fixture
async def new_topic(
    kafka: KafkaPort, admin: AdminClient, unique: str
) -> AsyncIterator[NewTopicMaker]:
    """Topics created by confluent-kafka, waited for until the brokers know them, deleted
    after the test."""
    made: list[str] = []

    async def make(partitions: int, replication: int) -> str:
        name = f"{unique}-{len(made)}"
        new = NewTopic(name, num_partitions=partitions, replication_factor=replication)
        admin.create_topics([new])[name].result(timeout=TIMEOUT)
        made.append(name)
        await _until(lambda: len(_layout(admin, name)) == partitions, f"topic {name}")
        await _known_to(kafka, name)
        return name

    try:
        yield make
    finally:
        for name in made:
            await kafka.remove_topic(name)


def _layout(admin: AdminClient, topic: str) -> Layout:
    """Partition → (leader, replicas, ISR), as confluent-kafka's AdminClient reads them."""
    try:
        found = admin.describe_topics(TopicCollection([topic]))[topic].result(timeout=TIMEOUT)
    except Exception:  # noqa: BLE001 (not known to the broker that answered, yet)
        return {}
    return {
        p.id: (p.leader.id, [n.id for n in p.replicas], [n.id for n in p.isr])
        for p in found.partitions
    }


async def _known_to(kafka: KafkaPort, topic: str) -> None:
    """Until kcr's client has read the topic :data:`AGREEING_READS` times in a row: each
    read may ask another broker, and a broker learns a new topic a moment after another."""
    deadline = time.monotonic() + TIMEOUT
    seen = 0
    while seen < AGREEING_READS:
        try:
            await kafka.describe_topics([topic])
            seen += 1
        except NotFoundError:
            seen = 0
            assert time.monotonic() < deadline, f"kcr's client never saw topic {topic}"
            await asyncio.sleep(0.1)


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, f"never saw {what}"
        await asyncio.sleep(0.3)


async def test_replicas_land_where_kcr_moved_them(
    kafka: KafkaPort, admin: AdminClient, other_admin: KafkaAdminClient, new_topic: NewTopicMaker
) -> None:
    topic = await new_topic(2, 2)
    before = _layout(admin, topic)
    targets = {
        p: [next(b for b in BROKERS if b not in replicas), replicas[0]]
        for p, (_, replicas, _) in before.items()
    }
    result = await kafka.alter_reassignments(
        {TopicPartition(topic=topic, partition=p): t for p, t in targets.items()}
    )
    assert result.applied

    def landed() -> bool:
        found = _layout(admin, topic)
        return bool(found) and all(
            found[p][1] == t and sorted(found[p][2]) == sorted(t) for p, t in targets.items()
        )

    await _until(landed, f"{topic} on {targets}")
    listed = other_admin.list_partition_reassignments(
        [KafkaPythonPartition(topic, p) for p in targets]
    )
    assert listed == {}, "kafka-python lists no move left"


def _dynamic(cluster: KraftCluster, entity_type: str, name: str | None = None) -> str:
    """What ``kafka-configs.sh --describe`` prints: the dynamic configs only."""
    named = ["--entity-name", name] if name is not None else []
    return config_command(cluster, "--describe", "--entity-type", entity_type, *named)


async def test_throttles_kcr_removes_are_gone_for_kafkas_own_tool(
    kafka: KafkaPort, admin: AdminClient, apache_kafka_trio: KraftCluster, new_topic: NewTopicMaker
) -> None:
    topic = await new_topic(2, 2)
    (described,) = await kafka.describe_topics([topic])
    throttle = move_throttle(described, {0: [1, 2, 3]})
    try:
        await kafka.set_replication_throttle(RATE, brokers=BROKERS, topics=[throttle])
        brokers = await asyncio.to_thread(_dynamic, apache_kafka_trio, "brokers")
        for broker in BROKERS:
            assert f"Dynamic configs for broker {broker} are:" in brokers
        lines = [line.split()[0] for line in brokers.splitlines() if line.startswith("  ")]
        assert lines.count(f"leader.replication.throttled.rate={RATE}") == len(BROKERS)
        assert lines.count(f"follower.replication.throttled.rate={RATE}") == len(BROKERS)
        topics = await asyncio.to_thread(_dynamic, apache_kafka_trio, "topics", topic)
        assert f"leader.replication.throttled.replicas={throttle.leader_replicas}" in topics
        assert f"follower.replication.throttled.replicas={throttle.follower_replicas}" in topics
    finally:
        removed = await kafka.remove_replication_throttle(brokers=BROKERS, topics=[topic])
    assert removed.applied
    brokers = await asyncio.to_thread(_dynamic, apache_kafka_trio, "brokers")
    topics = await asyncio.to_thread(_dynamic, apache_kafka_trio, "topics", topic)
    assert "replication.throttled" not in brokers + topics


async def test_preferred_leaders_return_after_a_skew_made_outside_kcr(
    kafka: KafkaPort, admin: AdminClient, other_admin: KafkaAdminClient, new_topic: NewTopicMaker
) -> None:
    """kafka-python rotates every partition's replica order (a move that copies nothing), so
    no leader is its partition's preferred one; kcr's cluster-wide election fixes each."""
    topic = await new_topic(3, 3)
    before = _layout(admin, topic)
    rotated = {p: [*replicas[1:], replicas[0]] for p, (_, replicas, _) in before.items()}
    other_admin.alter_partition_reassignments(
        {KafkaPythonPartition(topic, p): r for p, r in rotated.items()}
    )

    def skewed() -> bool:
        found = _layout(admin, topic)
        return bool(found) and all(
            found[p][1] == rotated[p] and found[p][0] != rotated[p][0] for p in rotated
        )

    await _until(skewed, f"{topic} led by non-preferred replicas")
    results = await kafka.elect_leaders()
    ours = {r.partition: r.outcome for r in results if r.topic == topic}
    assert ours == dict.fromkeys(rotated, ElectionOutcome.ELECTED)
    await _until(
        lambda: all(v[0] == rotated[p][0] for p, v in _layout(admin, topic).items()),
        "every leader back on its preferred replica",
    )


def _throttled_ms(cluster: KraftCluster, topic: str, client_id: str, rounds: int) -> float:
    """Produce kilobyte records as ``client_id``; the longest broker throttle librdkafka
    reported in its statistics (milliseconds), 0 when none."""
    seen: list[float] = [0.0]

    def statistics(raw: str) -> None:
        for broker in json.loads(raw).get("brokers", {}).values():
            seen.append(float(broker.get("throttle", {}).get("max", 0)))

    producer = Producer(
        {
            **cluster.client_config(),
            "client.id": client_id,
            "linger.ms": 5,
            "statistics.interval.ms": 200,
            "stats_cb": statistics,
        }
    )
    for _ in range(rounds):
        for _ in range(32):
            producer.produce(topic, value=b"q" * 1024)
            producer.poll(0)
        producer.flush(15)
        producer.poll(0.3)
        if max(seen) > 0:
            break
    return max(seen)


async def test_a_quota_kcr_sets_is_kafkas_and_throttles_a_real_producer(
    kafka: KafkaPort, apache_kafka_trio: KraftCluster, new_topic: NewTopicMaker, unique: str
) -> None:
    topic = await new_topic(1, 1)
    client_id = f"{unique}-app"
    entity = {QuotaEntityType.CLIENT_ID: client_id}
    await kafka.alter_client_quotas(
        [QuotaAlteration(entity=entity, values={QuotaKey.PRODUCER_BYTE_RATE: QUOTA})]
    )
    try:
        said = await asyncio.to_thread(_dynamic, apache_kafka_trio, "clients", client_id)
        assert f"producer_byte_rate={float(QUOTA)}" in said
        throttled = await asyncio.to_thread(_throttled_ms, apache_kafka_trio, topic, client_id, 10)
        assert throttled > 0, "the broker throttled the producer past its quota"
    finally:
        await kafka.alter_client_quotas(
            [QuotaAlteration(entity=entity, values={QuotaKey.PRODUCER_BYTE_RATE: None})]
        )
    said = await asyncio.to_thread(_dynamic, apache_kafka_trio, "clients", client_id)
    assert "producer_byte_rate" not in said
