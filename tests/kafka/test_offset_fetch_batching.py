"""Committed offsets on the wire: one FindCoordinator for every group and one OffsetFetch per
coordinator where the broker serves the batched versions (KIP-699, KIP-709), one of each per
group where it does not, and the same answer both ways.

A client told the broker is Kafka 2.7 (``api_version``, kafka-python's own setting) stands
for a broker without the batched versions: tansu 0.6 and Apache Kafka 4 both serve them.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio

from kcr import kinds
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import GroupOffsets, KafkaPort, TopicPartition
from kcr.kafka.confluent.config import security_protocol
from kcr.kafka.connect import open_kafka
from kcr.kafka.credentials import Credentials
from kcr.kafka.kafkapython import KafkaPythonAdmin, admin_config
from kcr.kafka.readmodel import CommittedOffset
from kcr.kafka.settings import ClientSettings
from kcr.kinds.create_topic import CreateTopic
from kcr.model import KafkaClusterSpec

from .requests import KafkaPythonRequests
from .traffic import BrokerTraffic

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]

GROUPS = 12
PARTITIONS = 3
UNBATCHED = (2, 7)  # OffsetFetch v7, FindCoordinator v3
SETTINGS = ClientSettings(request_timeout=10)


@dataclass
class Cluster:
    spec: KafkaClusterSpec
    credentials: Credentials
    traffic: BrokerTraffic
    kafka: KafkaPort

    def offset_reader(
        self, on_request: Callable[[int], None] | None = None, **extra: object
    ) -> KafkaPythonAdmin:
        protocol = security_protocol(self.spec)
        config = admin_config(self.spec, self.credentials, SETTINGS, None, protocol)
        return KafkaPythonAdmin(config | extra, SETTINGS, on_request)


@pytest_asyncio.fixture(params=["tansu", "trio"])
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    if request.param == "tansu":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        spec, credentials = KafkaClusterSpec(bootstrap_servers=bootstrap), Credentials()
        traffic = BrokerTraffic(bootstrap)
    else:
        trio: KraftCluster = request.getfixturevalue("apache_kafka_trio")
        spec, credentials = trio.spec(), trio.credentials()
        config = trio.client_config()
        traffic = BrokerTraffic(config.pop("bootstrap.servers"), config)
    kafka = open_kafka(spec, credentials, SETTINGS)
    try:
        yield Cluster(spec, credentials, traffic, kafka)
    finally:
        await kafka.close()


async def _committed_groups(cluster: Cluster, unique: str) -> list[GroupOffsets]:
    """``GROUPS`` groups, each with its own offsets on one topic, as kcr should read them."""
    topic = f"{unique}-t"
    await kinds.apply(
        cluster.kafka, CreateTopic(topic=topic, partitions=PARTITIONS, replication_factor=1)
    )
    expected = []
    for n in range(GROUPS):
        group = f"{unique}-g{n:02d}"
        await cluster.traffic.commit(group, {(topic, p): n + p for p in range(PARTITIONS)})
        rows = [CommittedOffset(topic=topic, partition=p, offset=n + p) for p in range(PARTITIONS)]
        expected.append(GroupOffsets(group=group, offsets=rows))
    return expected


async def test_one_lookup_and_one_offset_fetch_per_coordinator(
    cluster: Cluster, unique: str
) -> None:
    expected = await _committed_groups(cluster, unique)
    groups = [g.group for g in expected]
    coordinators = {d.coordinator for d in await cluster.kafka.describe_consumer_groups(groups)}
    first, again = KafkaPythonRequests(), KafkaPythonRequests()
    metered: list[int] = []  # what the MCP server's request meter is told
    reader = cluster.offset_reader(on_request=metered.append)
    try:
        with first.counting():
            assert await reader.committed(groups, None) == expected
        with again.counting():
            assert await reader.committed(groups, None) == expected
    finally:
        await reader.close()

    assert first.count("FindCoordinatorRequest", least_version=4) == 1
    assert first.count("FindCoordinatorRequest") == 1
    assert first.count("OffsetFetchRequest", least_version=8) == len(coordinators)
    assert first.count("OffsetFetchRequest") == len(coordinators)
    assert again.count("FindCoordinatorRequest") == 0, "coordinators are remembered"
    assert again.count("OffsetFetchRequest") == len(coordinators)
    assert sum(metered) == sum(
        sent.count(api)
        for sent in (first, again)
        for api in ("FindCoordinatorRequest", "OffsetFetchRequest")
    )


@pytest.mark.parametrize("cluster", ["trio"], indirect=True)
async def test_one_lookup_and_one_offset_fetch_per_group_without_batching(
    cluster: Cluster, unique: str
) -> None:
    """Only on Apache Kafka: tansu 0.6 advertises OffsetFetch v0-9, but its answers below
    v8 to a request for every partition are truncated (measured: 6 bytes after the
    correlation id at v5), so kcr never asks it below v8."""
    expected = await _committed_groups(cluster, unique)
    groups = [g.group for g in expected]
    sent = KafkaPythonRequests()
    reader = cluster.offset_reader(api_version=UNBATCHED)
    try:
        with sent.counting():
            assert await reader.committed(groups, None) == expected
            partitions = [TopicPartition(topic=f"{unique}-t", partition=p) for p in (2, 0)]
            asked = await reader.committed(groups[:1], partitions)
    finally:
        await reader.close()

    assert sent.count("FindCoordinatorRequest", most_version=3) == GROUPS
    assert sent.count("OffsetFetchRequest", most_version=7) == GROUPS + 1
    assert [(o.partition, o.offset) for o in asked[0].offsets] == [(2, 2), (0, 0)]
