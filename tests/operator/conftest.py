"""The real operator, in-process, against the kmock Kubernetes emulator over HTTP, with the
Kafka fake. Every server binds 127.0.0.1 on a free port and is stopped by the fixture.

The emulator runs in its own thread and event loop: kopf treats every task created in its
loop after start as its own, and would wait for the emulator's watch streams on exit.
"""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from apache_world import admin_port, apply_cluster
from operator_harness import NAMESPACE, Harness, KeptOpenKafka, Kubectl, fast_config

from kcr.embedded.kraft import KraftCluster
from kcr.embedded.kube_emulator import EmulatorThread
from kcr.engine import EngineSettings
from kcr.kafka import KafkaPort
from kcr.kafka.connect import open_kafka
from kcr.kafka.fake import FakeCluster


@pytest.fixture
def fake_cluster() -> FakeCluster:
    return FakeCluster()


@pytest_asyncio.fixture
async def harness(fake_cluster: FakeCluster) -> AsyncIterator[Harness]:
    with EmulatorThread(namespaces=(NAMESPACE,)) as emulator:
        kube = emulator.kube
        assert kube is not None
        async with httpx.AsyncClient(base_url=kube.url, timeout=10) as client:
            kubectl = Kubectl(client)
            await kubectl.apply_cluster()
            harness = Harness(kube, KeptOpenKafka(fake_cluster), kubectl)
            try:
                yield harness
            finally:
                await harness.stop_all()


@pytest_asyncio.fixture
async def broker(apache_kafka: KraftCluster) -> AsyncIterator[KafkaPort]:
    """An admin port on the one-broker Apache Kafka, closed after the test."""
    port = admin_port(apache_kafka)
    try:
        yield port
    finally:
        await port.close()


@pytest_asyncio.fixture
async def trio_broker(apache_kafka_trio: KraftCluster) -> AsyncIterator[KafkaPort]:
    """An admin port on the three Apache Kafka brokers, closed after the test."""
    port = admin_port(apache_kafka_trio)
    try:
        yield port
    finally:
        await port.close()


@pytest_asyncio.fixture
async def on_apache(harness: Harness, apache_kafka: KraftCluster) -> Harness:
    """The operator running against the one-broker Apache Kafka."""
    await apply_cluster(harness.kubectl, apache_kafka)
    await harness.start(kafka_factory=open_kafka)
    return harness


@pytest_asyncio.fixture
async def on_trio(harness: Harness, apache_kafka_trio: KraftCluster) -> AsyncIterator[Harness]:
    """The operator against the three brokers; a broker a test stopped is started again."""
    await apply_cluster(harness.kubectl, apache_kafka_trio, name="trio")
    await harness.start(kafka_factory=open_kafka)
    yield harness
    apache_kafka_trio.start_stopped()


@pytest_asyncio.fixture
async def on_trio_quick(harness: Harness, apache_kafka_trio: KraftCluster) -> Harness:
    """The operator against the three brokers, retrying every half second."""
    await apply_cluster(harness.kubectl, apache_kafka_trio)
    engine = EngineSettings(
        step_timeout=timedelta(seconds=60),
        retry_delay=timedelta(milliseconds=500),
        cluster_retry=timedelta(milliseconds=500),
    )
    await harness.start(fast_config(engine=engine), kafka_factory=open_kafka)
    return harness
