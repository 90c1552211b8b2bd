"""Strimzi through the MCP tools: drift between Kafka and the KafkaTopics and KafkaUsers that
manage it, users the User Operator would strip, and drafts reviewed as the operator will.

Strimzi's resources live in the kmock emulator (CRDs written from Strimzi's documented
fields), read over HTTP through kcr's Kubernetes client; Kafka is the fake, whose reads
the contract suite holds to a real broker.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml
from mcp import Client
from mcp_servers import Emulated
from mcp_support import NAMESPACE, build, caller, error_text, structured
from tests.strimzi_crds import serve_strimzi, strimzi_body, strimzi_path

from kcr.kafka import QuotaAlteration, QuotaEntityType, QuotaKey
from kcr.kafka.fake import FakeKafka
from kcr.mcp.kube_client import KubernetesApi, open_kube
from kcr.model import AclBinding
from kcr.model.strimzi import StrimziManagement

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

LEGACY = "User:team-a.legacy"
BILLING = "User:team-a.billing"
TENANT = caller("carol", topics=("team-a.",), groups=("team-a.",))


@pytest_asyncio.fixture
async def kube(emulator: Emulated) -> AsyncIterator[KubernetesApi]:
    serve_strimzi(emulator.kube)
    api = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        yield api
    finally:
        await api.close()


@pytest.fixture
def management() -> StrimziManagement:
    """A namespace of its own per test: the session's emulator keeps every object."""
    return StrimziManagement(namespace=f"kafka-{uuid.uuid4().hex[:8]}", cluster_name="prod-kafka")


async def apply(
    emulator: Emulated,
    management: StrimziManagement,
    plural: str,
    name: str,
    spec: dict[str, Any],
    **annotations: str,
) -> None:
    """What a person's ``kubectl apply`` of a Strimzi resource does."""
    where = management.namespace
    body = strimzi_body(
        plural, where, name, spec, cluster=management.cluster_name, annotations=annotations
    )
    async with httpx.AsyncClient(base_url=emulator.kube.url) as client:
        response = await client.post(strimzi_path(where, plural), json=body)
        response.raise_for_status()


def acl(principal: str, operation: str, topic: str = "team-a.orders") -> AclBinding:
    return AclBinding(
        resource_type="Topic", resource_name=topic, principal=principal, operation=operation
    )


async def drifted_kafka() -> FakeKafka:
    fake = FakeKafka()
    cluster = fake.cluster
    await cluster.create_topic(
        "team-a.orders", 3, 3, {"retention.ms": "86400000", "segment.bytes": "1073741824"}
    )
    await cluster.create_topic("team-b.payments", 2, 3, {"retention.ms": "3600000"})
    cluster.acls += [acl(BILLING, "Write"), acl(LEGACY, "Read"), acl("User:team-b.x", "Read")]
    await fake.alter_client_quotas(
        [
            QuotaAlteration(
                entity={QuotaEntityType.USER: "team-a.billing"},
                values={QuotaKey.PRODUCER_BYTE_RATE: 1024},
            ),
            QuotaAlteration(
                entity={QuotaEntityType.USER: "team-a.legacy"},
                values={QuotaKey.CONSUMER_BYTE_RATE: 4096},
            ),
        ]
    )
    return fake


async def strimzi_resources(emulator: Emulated, management: StrimziManagement) -> None:
    topic_spec = {
        "partitions": 6,
        "replicas": 3,
        "config": {"retention.ms": 604800000, "cleanup.policy": ["delete"]},
    }
    await apply(
        emulator, management, "kafkatopics", "orders", {"topicName": "team-a.orders", **topic_spec}
    )
    await apply(emulator, management, "kafkatopics", "team-b.payments", {"partitions": 2})
    await apply(emulator, management, "kafkatopics", "team-a.new", {"partitions": 1, "replicas": 3})
    await apply(
        emulator,
        management,
        "kafkatopics",
        "team-a.left-alone",
        {"partitions": 12},
        **{"strimzi.io/managed": "false"},
    )
    rules = [
        {
            "resource": {"type": "topic", "name": "team-a.orders", "patternType": "literal"},
            "operations": ["Read"],
            "host": "*",
            "type": "allow",
        }
    ]
    user_spec = {
        "authentication": {"type": "scram-sha-512"},
        "authorization": {"type": "simple", "acls": rules},
        "quotas": {"producerByteRate": 2048},
    }
    await apply(emulator, management, "kafkausers", "team-a.billing", user_spec)


def rows_by(result: dict[str, Any], subject: str) -> dict[str, dict[str, Any]]:
    return {
        f"{r['specPath']} {r['strimzi'] or r['kafka']}": r
        for r in result["rows"]
        if r["subject"] == subject
    }


async def test_drift_says_what_strimzi_will_do_at_its_next_reconciliation(
    emulator: Emulated, kube: KubernetesApi, management: StrimziManagement
) -> None:
    await strimzi_resources(emulator, management)
    built = build(await drifted_kafka(), kube=kube, strimzi=management)
    async with Client(built.mcp) as client:
        result = structured(await client.call_tool("strimzi_drift", {}))

    orders = rows_by(result, "topic team-a.orders")
    assert set(orders) == {
        "spec.partitions 6",
        "spec.config['retention.ms'] 604800000",
        "spec.config['segment.bytes'] 1073741824",
    }, "cleanup.policy [delete] equals Kafka's default, not an override: no row"
    assert orders["spec.partitions 6"]["kafka"] == "3"
    assert orders["spec.partitions 6"]["action"] == (
        "the Topic Operator adds 3 partition(s), up to 6 (cannot be undone)"
    )
    assert orders["spec.config['retention.ms'] 604800000"]["kafka"] == "86400000"
    assert "sets retention.ms back" in orders["spec.config['retention.ms'] 604800000"]["action"]
    segment = orders["spec.config['segment.bytes'] 1073741824"]
    assert (segment["strimzi"], segment["action"]) == (
        None,
        "the Topic Operator deletes the override of segment.bytes: it falls back to the "
        "broker's default",
    )
    assert rows_by(result, "topic team-a.new")["spec present"]["action"] == (
        "the Topic Operator creates topic team-a.new from the spec"
    )
    assert rows_by(result, "topic team-a.left-alone") == {}
    assert rows_by(result, "topic team-b.payments")["spec.config['retention.ms'] 3600000"]

    billing = rows_by(result, BILLING)
    write = acl(BILLING, "Write").key()
    read = acl(BILLING, "Read").key()
    assert billing[f"spec.authorization.acls {write}"]["action"] == (
        f"the User Operator deletes the ACL {write}"
    )
    assert billing[f"spec.authorization.acls {read}"]["action"] == (
        f"the User Operator creates the ACL {read}"
    )
    assert billing["spec.quotas.producerByteRate 2048"]["kafka"] == "1024"

    legacy = rows_by(result, LEGACY)["(no KafkaUser) 1 ACL(s), 1 quota key(s)"]
    assert "deletes its ACLs and quotas at its next periodic reconciliation" in legacy["action"]
    proposed = yaml.safe_load(legacy["proposal"])
    assert proposed["metadata"] == {
        "name": "team-a.legacy",
        "namespace": management.namespace,
        "labels": {"strimzi.io/cluster": management.cluster_name},
    }
    assert proposed["spec"] == {
        "authorization": {
            "type": "simple",
            "acls": [
                {
                    "resource": {
                        "type": "topic",
                        "name": "team-a.orders",
                        "patternType": "literal",
                    },
                    "operations": ["Read"],
                    "host": "*",
                    "type": "allow",
                }
            ],
        },
        "quotas": {"consumerByteRate": 4096},
    }
    assert (result["topicsCompared"], result["usersCompared"], result["withheld"]) == (3, 1, 0)
    assert result["source"].startswith(f"kubernetes/{management.namespace}: KafkaTopics")


async def test_the_ignored_users_pattern_keeps_a_principal_off_the_list(
    emulator: Emulated, kube: KubernetesApi, management: StrimziManagement
) -> None:
    ignoring = management.model_copy(update={"ignored_users_pattern": r"team-[ab]\.(legacy|x)"})
    built = build(await drifted_kafka(), kube=kube, strimzi=ignoring)
    async with Client(built.mcp) as client:
        result = structured(await client.call_tool("strimzi_drift", {}))
    assert {r["subject"] for r in result["rows"]} == {BILLING}


async def test_a_tenant_sees_its_own_topics_and_users_and_how_many_were_left_out(
    emulator: Emulated, kube: KubernetesApi, management: StrimziManagement
) -> None:
    await strimzi_resources(emulator, management)
    built = build(await drifted_kafka(), kube=kube, strimzi=management, who=TENANT)
    async with Client(built.mcp) as client:
        result = structured(await client.call_tool("strimzi_drift", {}))
        refused = await client.call_tool("strimzi_drift", {"topic": "team-b.payments"})
        other = await client.call_tool("strimzi_drift", {"principal": "User:team-b.x"})

    subjects = {r["subject"] for r in result["rows"]}
    assert subjects == {"topic team-a.orders", "topic team-a.new", BILLING, LEGACY}
    # team-b.payments, and the principal User:team-b.x with ACLs but no KafkaUser
    assert result["withheld"] == 2
    assert "topic `team-b.payments` is outside your scope" in error_text(refused)
    assert "principal `User:team-b.x` is outside your scope" in error_text(other)


async def test_secret_config_values_are_masked_from_both_sides(
    emulator: Emulated, kube: KubernetesApi, management: StrimziManagement
) -> None:
    await apply(
        emulator,
        management,
        "kafkatopics",
        "team-a.orders",
        {
            "partitions": 3,
            "config": {
                "retention.ms": "86400000",
                "segment.bytes": "1073741824",
                "sasl.jaas.config": "secret",
            },
        },
    )
    built = build(await drifted_kafka(), kube=kube, strimzi=management)
    async with Client(built.mcp) as client:
        result = structured(await client.call_tool("strimzi_drift", {"topic": "team-a.orders"}))
    [row] = result["rows"]
    assert (row["specPath"], row["strimzi"]) == ("spec.config['sasl.jaas.config']", "****")
    assert "secret" not in str(result)


async def test_drift_on_a_cluster_strimzi_does_not_run_says_so(kube: KubernetesApi) -> None:
    built = build(await drifted_kafka(), kube=kube)
    async with Client(built.mcp) as client:
        text = error_text(await client.call_tool("strimzi_drift", {}))
    assert "is not managed by Strimzi (its KafkaCluster has no spec.managedBy.strimzi)" in text


async def test_a_draft_for_a_user_strimzi_would_strip_warns_and_proposes_its_kafkauser(
    emulator: Emulated, kube: KubernetesApi, management: StrimziManagement
) -> None:
    built = build(await drifted_kafka(), kube=kube, strimzi=management)
    arguments = {
        "add": [acl(LEGACY, "Write").model_dump(mode="json", by_alias=True)],
        "reason": "legacy exporter now also writes its results",
    }
    async with Client(built.mcp) as client:
        drafted = structured(await client.call_tool("draft_alter_acls", arguments))

    assert drafted["review"]["valid"] is True
    [warning] = [w for w in drafted["review"]["warnings"] if "KafkaUser" in w]
    assert warning.startswith(
        f"{LEGACY} has no KafkaUser 'team-a.legacy' in Strimzi cluster "
        f"{management.namespace}/{management.cluster_name}"
    )
    proposed = yaml.safe_load(warning[warning.index("apiVersion: ") :])
    assert proposed["spec"]["authorization"]["acls"] == [
        {
            "resource": {"type": "topic", "name": "team-a.orders", "patternType": "literal"},
            "operations": ["Read", "Write"],
            "host": "*",
            "type": "allow",
        }
    ]
    assert proposed["spec"]["quotas"] == {"consumerByteRate": 4096}


async def test_a_draft_for_a_managed_user_is_refused_with_the_kafkauser_edit(
    emulator: Emulated, kube: KubernetesApi, management: StrimziManagement
) -> None:
    await strimzi_resources(emulator, management)
    built = build(await drifted_kafka(), kube=kube, strimzi=management)
    arguments = {
        "add": [acl(BILLING, "Describe").model_dump(mode="json", by_alias=True)],
        "reason": "billing needs to describe the orders topic",
    }
    async with Client(built.mcp) as client:
        text = error_text(await client.call_tool("draft_alter_acls", arguments))
    owner = f"KafkaUser {management.namespace}/team-a.billing"
    assert f"principal {BILLING} is managed by Strimzi ({owner})" in text


async def test_the_diagnosis_cites_drift_with_its_source_query_and_moment(
    emulator: Emulated, kube: KubernetesApi, management: StrimziManagement
) -> None:
    await strimzi_resources(emulator, management)
    built = build(await drifted_kafka(), kube=kube, strimzi=management)
    arguments = {"topic": "team-a.orders", "principal": LEGACY, "operation": "Read"}
    async with Client(built.mcp) as client:
        diagnosis = structured(await client.call_tool("explain_current_state", arguments))

    found = {f["subject"]: f for f in diagnosis["findings"] if f["kind"] == "StrimziDrift"}
    assert set(found) == {"topic/team-a.orders", f"principal/{LEGACY}"}
    topic = found["topic/team-a.orders"]
    assert topic["severity"] == "Medium"
    assert topic["summary"].startswith(
        f"KafkaTopic {management.namespace}/orders and Kafka differ on topic team-a.orders: "
        "at its next reconciliation the Topic Operator"
    )
    [evidence] = topic["evidence"]
    assert evidence["source"].startswith(f"kubernetes/{management.namespace}: KafkaTopics")
    assert evidence["query"] == "strimzi_drift topic=team-a.orders"
    assert "spec.partitions: Strimzi 6, Kafka 3" in evidence["observedValue"]
    window = evidence["timeWindow"]
    assert window["start"] == window["end"] == evidence["capturedAt"]
    assert topic["runbook"] == {
        "runbook": "strimzi",
        "section": "drift",
        "title": "Clusters run by Strimzi",
    }
    stripped = found[f"principal/{LEGACY}"]
    assert stripped["severity"] == "High"
    assert "deletes its ACLs and quotas" in stripped["summary"]
    assert [f["subject"] for f in diagnosis["findings"]].index(f"principal/{LEGACY}") < [
        f["subject"] for f in diagnosis["findings"]
    ].index("topic/team-a.orders")
