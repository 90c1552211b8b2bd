"""strimzi_drift against Apache Kafka: the partitions, config overrides and ACLs it compares
with a KafkaTopic are the broker's own, set here with confluent-kafka's AdminClient rather
than through kcr; Strimzi's resources are in the kmock emulator.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from mcp import Client
from mcp_servers import Emulated
from mcp_support import NAMESPACE, TIMEOUT, build, structured
from tests.strimzi_crds import serve_strimzi, strimzi_body, strimzi_path

from kcr.embedded.kraft import KraftCluster
from kcr.kafka.connect import open_kafka
from kcr.kafka.settings import ClientSettings
from kcr.mcp.kube_client import KubernetesApi, open_kube
from kcr.model.strimzi import StrimziManagement

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]


@pytest_asyncio.fixture
async def kube(emulator: Emulated) -> AsyncIterator[KubernetesApi]:
    serve_strimzi(emulator.kube)
    api = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        yield api
    finally:
        await api.close()


def prepare(cluster: KraftCluster, topic: str, principal: str) -> None:
    """A topic with two overrides and a Read ACL for a principal, by the broker's own admin."""
    admin = AdminClient(cluster.client_config())
    configs = {"retention.ms": "86400000", "segment.bytes": "1048576"}
    for future in admin.create_topics(
        [NewTopic(topic, 1, 1, config=configs)], operation_timeout=TIMEOUT
    ).values():
        future.result(TIMEOUT)
    binding = AclBinding(
        ResourceType.TOPIC,
        topic,
        ResourcePatternType.LITERAL,
        principal,
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    )
    for future in admin.create_acls([binding], request_timeout=TIMEOUT).values():
        future.result(TIMEOUT)


async def test_drift_from_a_real_broker(
    apache_kafka: KraftCluster, emulator: Emulated, kube: KubernetesApi
) -> None:
    suffix = uuid.uuid4().hex[:8]
    topic, principal = f"team-a.drift-{suffix}", f"User:legacy-{suffix}"
    prepare(apache_kafka, topic, principal)
    management = StrimziManagement(namespace=f"kafka-{suffix}", cluster_name="prod-kafka")
    spec = {"topicName": topic, "partitions": 2, "config": {"retention.ms": 604800000}}
    body = strimzi_body(
        "kafkatopics", management.namespace, "drift", spec, cluster=management.cluster_name
    )
    async with httpx.AsyncClient(base_url=emulator.kube.url) as client:
        response = await client.post(strimzi_path(management.namespace, "kafkatopics"), json=body)
        response.raise_for_status()
    kafka = open_kafka(
        apache_kafka.spec(), apache_kafka.credentials(), settings=ClientSettings(request_timeout=10)
    )
    try:
        built = build(kafka, kube=kube, strimzi=management)
        async with Client(built.mcp) as client:
            result = structured(await client.call_tool("strimzi_drift", {}))
    finally:
        await kafka.close()

    rows: dict[str, dict[str, Any]] = {
        r["specPath"]: r for r in result["rows"] if r["subject"] == f"topic {topic}"
    }
    assert {p: (r["strimzi"], r["kafka"]) for p, r in rows.items()} == {
        "spec.partitions": ("2", "1"),
        "spec.config['retention.ms']": ("604800000", "86400000"),
        "spec.config['segment.bytes']": (None, "1048576"),
    }
    [stripped] = [r for r in result["rows"] if r["subject"] == principal]
    assert stripped["kafka"] == "1 ACL(s), 0 quota key(s)"
    assert f"name: {topic}" in stripped["proposal"]
