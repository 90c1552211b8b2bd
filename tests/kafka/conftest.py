"""The contract fixture: every test in this folder runs on the fake and on a real broker."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from kcr.kafka import AclFilter, Capabilities, KafkaPort
from kcr.kafka.backend import Backend
from kcr.kafka.connect import open_backend
from kcr.kafka.fake import FakeKafka
from kcr.kafka.service import KafkaService
from kcr.kafka.settings import ClientSettings
from kcr.model import AlterAcls, DeleteTopic

from .traffic import BrokerTraffic, FakeTraffic, Traffic


@dataclass
class World:
    """One side of the contract: the port under test and an independent way to make traffic.

    ``backend`` is the port's own primitives, for checking what a broker answers when a
    request gets past the port's checks.
    """

    name: str
    kafka: KafkaPort
    backend: Backend
    traffic: Traffic
    capabilities: Capabilities
    brokers: int

    def needs(self, feature: str) -> None:
        """Skip, with the cluster's own reason, when it lacks an optional feature."""
        if not getattr(self.capabilities, feature):
            reason = self.capabilities.reasons.get(
                "createPartitions" if feature == "create_partitions" else feature, ""
            )
            pytest.skip(f"{self.name}: {reason}")


@pytest_asyncio.fixture(
    params=[
        pytest.param("fake", id="fake"),
        pytest.param("broker", id="broker", marks=[pytest.mark.kafka, pytest.mark.slow]),
        pytest.param("apache", id="apache", marks=[pytest.mark.kafka, pytest.mark.slow]),
    ]
)
async def world(request: pytest.FixtureRequest, unique: str) -> AsyncIterator[World]:
    if request.param == "fake":
        fake = FakeKafka()
        kafka: KafkaPort = fake
        backend: Backend = fake.cluster
        traffic: Traffic = FakeTraffic(fake.cluster)
    elif request.param == "broker":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        backend = open_backend(bootstrap, settings=ClientSettings(request_timeout=10))
        kafka = KafkaService(backend)
        traffic = BrokerTraffic(bootstrap)
    else:
        cluster = request.getfixturevalue("apache_kafka")
        backend = open_backend(
            cluster.spec(), cluster.credentials(), settings=ClientSettings(request_timeout=10)
        )
        kafka = KafkaService(backend)
        config = cluster.client_config()
        traffic = BrokerTraffic(config.pop("bootstrap.servers"), config)
    try:
        overview = await kafka.cluster_overview()
        yield World(
            name=request.param,
            kafka=kafka,
            backend=backend,
            traffic=traffic,
            capabilities=await kafka.capabilities(),
            brokers=len(overview.brokers),
        )
        if request.param != "fake":
            await _remove_leftovers(kafka, unique)
    finally:
        await kafka.close()


async def _remove_leftovers(kafka: KafkaPort, unique: str) -> None:
    """A shared cluster (``KCR_KAFKA_BOOTSTRAP``) keeps no topics or ACLs of the test."""
    for topic in await kafka.list_topics():
        if topic.name.startswith(unique):
            await kafka.delete_topic(DeleteTopic(topic=topic.name))
    if (await kafka.capabilities()).acls:
        bindings = await kafka.describe_acls(AclFilter(principal=f"User:{unique}"))
        if bindings:
            await kafka.alter_acls(AlterAcls(remove=bindings))
