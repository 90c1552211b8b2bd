"""The contract fixture: every test in this folder runs on the fake, tansu and Apache Kafka,
wherever the backend has what the test is about."""

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from pydantic.alias_generators import to_snake

from kcr import kinds
from kcr.embedded.tansu import BOOTSTRAP_ENV
from kcr.kafka import AclFilter, Capabilities, KafkaPort, QuotaAlteration, QuotaKey
from kcr.kafka.backend import Backend
from kcr.kafka.connect import open_backend
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kafka.readmodel import OPTIONAL_FEATURES, ConfigEntry
from kcr.kafka.service import KafkaService
from kcr.kafka.settings import ClientSettings
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.delete_topic import DeleteTopic
from kcr.model import ConfigSource

from .traffic import BrokerTraffic, FakeTraffic, Traffic

# What each backend lacks, by feature: the optional APIs (checked against the broker's own
# ApiVersions answer on every run) and behaviours measured on tansu 0.6. A test marked
# ``needs(...)`` runs only where nothing it needs is lacking; one marked ``lacks(...)`` only
# where all of it is, and on a fake built without those APIs. With KCR_KAFKA_BOOTSTRAP the
# broker is unknown until asked, so it gets every test and skips by its answer. A test that
# ``needs("threeBrokers")`` runs on Apache Kafka's three-broker cluster, where replicas move.
TANSU_LACKS = frozenset(
    {
        "createPartitions",
        "createAcls",  # served, but its answer crashes librdkafka; no DeleteAcls to undo it
        "deleteAcls",
        "groupMembers",  # DescribeGroups reports a Stable group with no members
        "configSources",  # DescribeConfigs lists only overrides, each as DEFAULT_CONFIG
        "replicationCheck",  # accepts a replication factor above its broker count
        "describeLogDirs",
        "alterPartitionReassignments",
        "electLeaders",
        "describeClientQuotas",
        "alterClientQuotas",
        "threeBrokers",  # one broker: no replica has anywhere to move
        "brokerConfigs",  # accepts a broker's dynamic configs and never shows them
    }
)
BACKENDS: dict[str, frozenset[str] | None] = {
    "fake": frozenset(),
    "broker": None if os.environ.get(BOOTSTRAP_ENV) else TANSU_LACKS,
    "apache": frozenset(),
}
KAFKA_MARKS = (pytest.mark.kafka, pytest.mark.slow)
# Topic settings the embedded Apache Kafka's brokers give, as it reports them, which the fake
# is given too: log.segment.bytes from server.properties, and min.insync.replicas, which a
# Kafka 4 controller records as a cluster-wide dynamic default when it formats the cluster.
BROKER_CONFIGS = {
    "segment.bytes": ConfigEntry(value=str(16 * 1024 * 1024), source=ConfigSource.STATIC_BROKER),
    "min.insync.replicas": ConfigEntry(value="1", source=ConfigSource.CLUSTER_DEFAULT),
}


@dataclass
class World:
    """One side of the contract: the port under test and an independent way to make traffic.

    ``backend`` is the port's own primitives, for checking what a broker answers when a
    request gets past the port's checks.
    """

    kafka: KafkaPort
    backend: Backend
    traffic: Traffic
    brokers: int


def _runs_on(backend: str, needs: frozenset[str], lacks: frozenset[str]) -> bool:
    declared = BACKENDS[backend]
    if declared is None:
        return True
    if backend == "fake" and lacks:
        return lacks <= OPTIONAL_FEATURES
    return not (needs & declared) and lacks <= declared


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``world`` over the backends a test makes sense on (see ``BACKENDS``)."""
    if "world" not in metafunc.fixturenames:
        return
    needs, lacks = (
        frozenset(a for m in metafunc.definition.iter_markers(name) for a in m.args)
        for name in ("needs", "lacks")
    )
    metafunc.parametrize(
        "world",
        [
            pytest.param(name, id=name, marks=() if name == "fake" else KAFKA_MARKS)
            for name in BACKENDS
            if _runs_on(name, needs, lacks)
        ],
        indirect=True,
    )


def _check_capabilities(
    name: str, found: Capabilities, needs: frozenset[str], lacks: frozenset[str]
) -> None:
    """The declared table against the broker's answer: a stale table fails; an unknown
    cluster (KCR_KAFKA_BOOTSTRAP) skips what it cannot run, saying why."""
    missing = {f for f in OPTIONAL_FEATURES if not found.serves(f)}
    declared = BACKENDS[name]
    if declared is None:
        for feature in sorted(needs & missing):
            pytest.skip(f"{name} ({BOOTSTRAP_ENV}): {found.reason(feature)}")
        for feature in sorted(lacks - missing):
            pytest.skip(f"{name} ({BOOTSTRAP_ENV}) has {feature}; the test is for clusters without")
        return
    expected = (lacks if name == "fake" else declared) & OPTIONAL_FEATURES
    if missing != expected:
        pytest.fail(
            f"{name} lacks {sorted(missing) or 'nothing'}, the contract suite expected "
            f"{sorted(expected) or 'nothing'}: update BACKENDS in tests/kafka/conftest.py"
        )


@pytest_asyncio.fixture
async def world(request: pytest.FixtureRequest, unique: str) -> AsyncIterator[World]:
    needs, lacks = (
        frozenset(a for m in request.node.iter_markers(name) for a in m.args)
        for name in ("needs", "lacks")
    )
    if request.param == "fake":
        without = {to_snake(f): False for f in lacks}
        fake = FakeKafka(FakeCluster(**without, broker_configs=BROKER_CONFIGS))
        kafka: KafkaPort = fake
        backend: Backend = fake.cluster
        traffic: Traffic = FakeTraffic(fake.cluster)
    elif request.param == "broker":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        backend = open_backend(bootstrap, settings=ClientSettings(request_timeout=10))
        kafka = KafkaService(backend)
        traffic = BrokerTraffic(bootstrap)
    else:
        trio = "threeBrokers" in needs
        cluster = request.getfixturevalue("apache_kafka_trio" if trio else "apache_kafka")
        backend = open_backend(
            cluster.spec(), cluster.credentials(), settings=ClientSettings(request_timeout=10)
        )
        kafka = KafkaService(backend)
        config = cluster.client_config()
        traffic = BrokerTraffic(config.pop("bootstrap.servers"), config)
    try:
        overview = await kafka.cluster_overview()
        capabilities = await kafka.capabilities()
        _check_capabilities(request.param, capabilities, needs, lacks)
        if "threeBrokers" in needs and len(overview.brokers) < 3:
            pytest.skip(f"{request.param} has {len(overview.brokers)} broker(s); the test needs 3")
        yield World(kafka=kafka, backend=backend, traffic=traffic, brokers=len(overview.brokers))
        if request.param != "fake":
            await _remove_leftovers(kafka, unique)
    finally:
        await kafka.close()


async def _remove_leftovers(kafka: KafkaPort, unique: str) -> None:
    """A shared cluster (the session's Apache Kafka, or ``KCR_KAFKA_BOOTSTRAP``) keeps no
    topics, ACLs or client quotas of the test: none named after it, none for a principal or
    client named after it."""
    for topic in await kafka.list_topics():
        if topic.name.startswith(unique):
            await kinds.apply(kafka, DeleteTopic(topic=topic.name))
    capabilities = await kafka.capabilities()
    if capabilities.describe_client_quotas and capabilities.alter_client_quotas:
        quotas = [
            QuotaAlteration(entity=q.entity, values=dict.fromkeys(QuotaKey))
            for q in await kafka.describe_client_quotas()
            if any(name and unique in name for name in q.entity.values())
        ]
        if quotas:
            await kafka.alter_client_quotas(quotas)
    if capabilities.describe_acls and capabilities.delete_acls:
        bindings = [
            b
            for b in await kafka.describe_acls(AclFilter())
            if unique in b.principal or b.resource_name.startswith(unique)
        ]
        if bindings:
            await kinds.apply(kafka, AlterAcls(remove=bindings))
