"""A group's coordinator moves while kcr reads its committed offsets, on three Apache Kafka
brokers: the read survives and returns the offsets.

librdkafka 2.16 aborts the process when its ListConsumerGroupOffsets is answered
NOT_COORDINATOR (librdkafka #5040); kcr reads through kafka-python, so this test dying with
the process is what it guards against. The coordinator is the leader of the group's
``__consumer_offsets`` partition: moved here by reordering that partition's replicas and
electing the preferred leader (the old coordinator stays up and answers NOT_COORDINATOR),
and by killing the coordinator's broker. The moves go through kafka-python's own admin
client, not through kcr; the answers kcr got are read off kafka-python's connection log.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio
from confluent_kafka import TopicCollection
from confluent_kafka.admin import AdminClient
from kafka import TopicPartition as KafkaPythonPartition
from kafka.admin import KafkaAdminClient

from kcr import kinds
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import GroupOffsets, KafkaPort, KafkaTimeoutError, UnavailableError
from kcr.kafka.connect import open_kafka
from kcr.kafka.readmodel import CommittedOffset
from kcr.kafka.settings import ClientSettings
from kcr.kinds.create_topic import CreateTopic

from .requests import KafkaPythonRequests
from .traffic import BrokerTraffic

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

OFFSETS_TOPIC = "__consumer_offsets"
OFFSETS_PARTITIONS = 3  # offsets.topic.num.partitions of kcr.embedded.kraft
NOT_COORDINATOR = 16
PREFERRED = 0
WAIT = 60.0
PARTITIONS = 4
MOVES = 3
# The old coordinator resigns once its broker applies the new leader (broker heartbeats
# are 500 ms apart); a read sooner may still be answered by it, correctly.
RESIGN_SECONDS = 1.5
SETTINGS = ClientSettings(request_timeout=10)


def offsets_partition(group: str) -> int:
    """Kafka's ``Utils.abs(groupId.hashCode()) % partitions``, with Java's String.hashCode."""
    code = 0
    for char in group:
        code = (31 * code + ord(char)) & 0xFFFFFFFF
    signed = code - (1 << 32) if code & 0x80000000 else code
    return (0 if signed == -(1 << 31) else abs(signed)) % OFFSETS_PARTITIONS


class Placement:
    """Leaders and replicas of ``__consumer_offsets`` as confluent-kafka's AdminClient reads
    them, and moves made with kafka-python's admin client."""

    def __init__(self, cluster: KraftCluster) -> None:
        self.reader = AdminClient(cluster.client_config())
        config = cluster.client_config()
        self.mover = KafkaAdminClient(
            bootstrap_servers=config["bootstrap.servers"],
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="PLAIN",
            sasl_plain_username=config["sasl.username"],
            sasl_plain_password=config["sasl.password"],
        )

    def layout(self, partition: int) -> tuple[int, list[int], list[int]]:
        """Leader, replicas and ISR of ``__consumer_offsets`` ``partition``."""
        found = self.reader.describe_topics(TopicCollection([OFFSETS_TOPIC]))[OFFSETS_TOPIC]
        described = found.result(timeout=30).partitions[partition]
        leader = described.leader.id if described.leader else -1
        return leader, [n.id for n in described.replicas], [n.id for n in described.isr]

    def coordinator(self, group: str) -> int:
        found = self.reader.describe_consumer_groups([group])[group].result(timeout=30)
        return int(found.coordinator.id)

    def lead_with(self, partition: int, broker: int) -> None:
        """Make ``broker`` the preferred replica, then the leader (no data moves)."""
        _, replicas, _ = self.layout(partition)
        order = [broker] + [r for r in replicas if r != broker]
        tp = KafkaPythonPartition(OFFSETS_TOPIC, partition)
        self.mover.alter_partition_reassignments({tp: order})
        _until(lambda: self.layout(partition)[1] == order, f"replicas of {tp} in order {order}")
        self.mover.elect_leaders(PREFERRED, {OFFSETS_TOPIC: [partition]}, raise_errors=False)
        _until(lambda: self.layout(partition)[0] == broker, f"broker {broker} leading {tp}")

    def close(self) -> None:
        self.mover.close()


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.3)


@pytest.fixture
def placement(apache_kafka_trio: KraftCluster) -> Iterator[Placement]:
    found = Placement(apache_kafka_trio)
    try:
        yield found
    finally:
        found.close()


@pytest_asyncio.fixture
async def kafka(apache_kafka_trio: KraftCluster) -> AsyncIterator[KafkaPort]:
    port = open_kafka(apache_kafka_trio.spec(), apache_kafka_trio.credentials(), SETTINGS)
    try:
        yield port
    finally:
        await port.close()
        await asyncio.to_thread(apache_kafka_trio.start_stopped)


async def _committed_group(
    cluster: KraftCluster, kafka: KafkaPort, unique: str
) -> tuple[str, GroupOffsets]:
    topic, group = f"{unique}-t", f"{unique}-readers"
    await kinds.apply(kafka, CreateTopic(topic=topic, partitions=PARTITIONS, replication_factor=3))
    config = cluster.client_config()
    traffic = BrokerTraffic(config.pop("bootstrap.servers"), config)
    await traffic.commit(group, {(topic, p): 10 + p for p in range(PARTITIONS)})
    rows = [CommittedOffset(topic=topic, partition=p, offset=10 + p) for p in range(PARTITIONS)]
    return group, GroupOffsets(group=group, offsets=rows)


async def test_a_read_answered_not_coordinator_finds_the_new_coordinator(
    apache_kafka_trio: KraftCluster, kafka: KafkaPort, placement: Placement, unique: str
) -> None:
    group, expected = await _committed_group(apache_kafka_trio, kafka, unique)
    partition = offsets_partition(group)
    leader, replicas, _ = await asyncio.to_thread(placement.layout, partition)
    assert await asyncio.to_thread(placement.coordinator, group) == leader, "hash or layout"
    assert await kafka.committed_offsets([group]) == [expected]  # kcr now knows the coordinator

    # A second reader asks the moment the new leader shows, before the old coordinator has
    # resigned or the new one's high watermark has caught up: plain (not stable) reads
    # missed the commits in 10 of 24 such reads, measured.
    hasty = open_kafka(apache_kafka_trio.spec(), apache_kafka_trio.credentials(), SETTINGS)
    other = next(r for r in replicas if r != leader)
    right_after, answers, refused, found_again = [], [], 0, 0
    try:
        assert await hasty.committed_offsets([group]) == [expected]
        for broker in (other, leader) * MOVES:  # away and back: the coordinator moves each time
            await asyncio.to_thread(placement.lead_with, partition, broker)
            right_after.append(await hasty.committed_offsets([group]))
            await asyncio.sleep(RESIGN_SECONDS)
            sent = KafkaPythonRequests()
            with sent.counting():
                answers.append(await kafka.committed_offsets([group]))
            if sent.group_errors[NOT_COORDINATOR]:
                refused += 1
                found_again += sent.count("FindCoordinatorRequest") >= 1
    finally:
        await hasty.close()

    assert right_after == [[expected]] * (2 * MOVES), "a read right after a move missed commits"
    assert answers == [[expected]] * (2 * MOVES), "a read after a move missed commits"
    assert refused >= MOVES, f"{refused} of {2 * MOVES} reads were answered NOT_COORDINATOR"
    assert found_again == refused, "each refused read found the new coordinator"


async def test_a_read_survives_the_loss_of_the_coordinators_broker(
    apache_kafka_trio: KraftCluster, kafka: KafkaPort, placement: Placement, unique: str
) -> None:
    group, expected = await _committed_group(apache_kafka_trio, kafka, unique)
    assert await kafka.committed_offsets([group]) == [expected]
    coordinator = await asyncio.to_thread(placement.coordinator, group)

    apache_kafka_trio.stop_node(coordinator)
    started = time.monotonic()
    refused: list[str] = []
    while True:
        try:
            found = await kafka.committed_offsets([group])
            break
        except (UnavailableError, KafkaTimeoutError) as error:  # while the broker is fenced
            refused.append(error.message)
            assert time.monotonic() - started < WAIT, refused
    moved_to = await asyncio.to_thread(placement.coordinator, group)

    assert found == [expected]
    assert moved_to != coordinator
    assert len(refused) <= 2, refused
