"""ACLs kcr grants and revokes, judged by Apache Kafka's authorizer: a real producer as
``User:alice`` is refused, admitted once kcr grants Write, and refused again after the revoke.

Only a broker with an authorizer can say whether a binding admits a client, so this runs on
Apache Kafka alone; the contract suite holds the fake to the same bindings and filters.
"""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from confluent_kafka import KafkaError, Producer

from kcr import kinds
from kcr.embedded.kraft import KraftCluster
from kcr.kafka import AclFilter, AclPatternFilter, KafkaPort
from kcr.kafka.connect import open_backend
from kcr.kafka.service import KafkaService
from kcr.kafka.settings import ClientSettings
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.model import AclBinding, AclOperation, AclPatternType, AclResourceType

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]
ALICE = "User:alice"
VERDICT_TIMEOUT = 30.0


@pytest_asyncio.fixture
async def kafka(apache_kafka: KraftCluster) -> AsyncIterator[KafkaPort]:
    backend = open_backend(
        apache_kafka.spec(), apache_kafka.credentials(), settings=ClientSettings(request_timeout=10)
    )
    port = KafkaService(backend)
    try:
        yield port
    finally:
        await port.close()


def _produce_as_alice(cluster: KraftCluster, topic: str) -> str | None:
    """One record from a fresh producer (no cached metadata); Kafka's error name or None."""
    producer = Producer({**cluster.client_config("alice"), "linger.ms": 0})
    outcome: list[KafkaError | None] = []
    producer.produce(topic, b"probe", on_delivery=lambda error, _: outcome.append(error))
    producer.flush(10)
    if not outcome:
        raise TimeoutError(f"no delivery report for {topic} within 10s")
    return None if outcome[0] is None else outcome[0].name()


async def _until_alice_gets(cluster: KraftCluster, topic: str, wanted: str | None) -> None:
    """Wait, within a bound, for the authorizer's verdict on alice writing to ``topic``."""
    deadline = time.monotonic() + VERDICT_TIMEOUT
    while (got := await asyncio.to_thread(_produce_as_alice, cluster, topic)) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"alice writing to {topic}: {got}, expected {wanted}")
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    ("pattern", "resource"),
    [
        (AclPatternType.LITERAL, "{topic}"),
        (AclPatternType.PREFIXED, "{unique}-"),
        (AclPatternType.LITERAL, "*"),
    ],
    ids=["literal", "prefixed", "wildcard"],
)
async def test_a_grant_admits_a_real_client_and_its_revoke_refuses_it(
    kafka: KafkaPort,
    apache_kafka: KraftCluster,
    unique: str,
    pattern: AclPatternType,
    resource: str,
) -> None:
    topic = f"{unique}-orders"
    await kinds.apply(kafka, CreateTopic(topic=topic, partitions=1, replication_factor=1))
    grant = AclBinding(
        resource_type=AclResourceType.TOPIC,
        resource_name=resource.format(topic=topic, unique=unique),
        pattern_type=pattern,
        principal=ALICE,
        operation=AclOperation.WRITE,
    )
    try:
        await _until_alice_gets(apache_kafka, topic, "TOPIC_AUTHORIZATION_FAILED")
        await kinds.apply(kafka, AlterAcls(add=[grant]))
        await _until_alice_gets(apache_kafka, topic, None)
        deciding = await kafka.describe_acls(
            AclFilter(
                resource_type=AclResourceType.TOPIC,
                resource_name=topic,
                pattern_type=AclPatternFilter.MATCH,
                principal=ALICE,
            )
        )
        assert [b.key() for b in deciding] == [grant.key()]
        revoked = await kinds.apply(kafka, AlterAcls(remove=[grant]))
        assert revoked.details == [f"removed {grant.key()}"]
        await _until_alice_gets(apache_kafka, topic, "TOPIC_AUTHORIZATION_FAILED")
    finally:
        await kinds.apply(kafka, AlterAcls(remove=[grant]))
        await kinds.apply(kafka, DeleteTopic(topic=topic))
