"""On a Strimzi-managed cluster kcr refuses what Strimzi would undo, and says what to
change in Strimzi instead: at review, and again right before each write."""

import pytest
import pytest_asyncio
import yaml
from kafka_setup import acl, draft, topic
from operator_harness import Harness
from strimzi_world import create_strimzi, manage_with_strimzi, serve_strimzi

from kcr.kafka.fake import FakeCluster
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

RETENTION = {"retention.ms": "172800000"}


def proposal(message: str) -> dict:
    """The YAML a refusal carries for a pull request: everything after its last colon line."""
    document = message[message.index("apiVersion: ") :]
    loaded: dict = yaml.safe_load(document)
    return loaded


@pytest_asyncio.fixture
async def strimzi(harness: Harness) -> Harness:
    serve_strimzi(harness.kube)
    await manage_with_strimzi(harness.kubectl.client)
    return harness


async def test_a_topic_config_change_on_a_kafkatopic_is_refused_with_its_pull_request(
    strimzi: Harness, fake_cluster: FakeCluster
) -> None:
    await topic(fake_cluster, "orders", retention_ms="86400000")
    await create_strimzi(
        strimzi.kubectl.client,
        "kafkatopics",
        "orders-topic",
        {
            "topicName": "orders",
            "partitions": 3,
            "replicas": 3,
            "config": {"cleanup.policy": "delete"},
        },
    )
    spec = await draft(strimzi.kafka, AlterTopicConfig(topics=["orders"], set=RETENTION))
    await strimzi.start()
    await strimzi.kubectl.create("retention", spec)
    status = await strimzi.kubectl.wait_phase("retention", "Invalid", "AwaitingApproval")

    assert status["phase"] == "Invalid"
    assert status["history"][-1]["reason"] == "ManagedByStrimzi"
    assert (
        "topic orders is managed by Strimzi (KafkaTopic team-a/orders-topic)" in status["message"]
    )
    wanted = proposal(status["message"])
    assert wanted["metadata"] == {
        "name": "orders-topic",
        "namespace": "team-a",
        "labels": {"strimzi.io/cluster": "prod-kafka"},
    }
    assert wanted["spec"]["config"] == {"cleanup.policy": "delete", "retention.ms": "172800000"}


@pytest.mark.parametrize(
    ("cluster", "annotations"),
    [
        pytest.param("other-kafka", {}, id="another-strimzi-cluster"),
        pytest.param("prod-kafka", {"strimzi.io/managed": "false"}, id="unmanaged-annotation"),
    ],
)
async def test_a_kafkatopic_strimzi_does_not_enforce_here_does_not_block(
    strimzi: Harness, fake_cluster: FakeCluster, cluster: str, annotations: dict[str, str]
) -> None:
    await topic(fake_cluster, "orders", retention_ms="86400000")
    await create_strimzi(
        strimzi.kubectl.client,
        "kafkatopics",
        "orders",
        {"partitions": 3, "replicas": 3, "config": {}},
        cluster=cluster,
        annotations=annotations,
    )
    spec = await draft(strimzi.kafka, AlterTopicConfig(topics=["orders"], set=RETENTION))
    await strimzi.start()
    await strimzi.kubectl.create("retention", spec)
    status = await strimzi.kubectl.wait_phase("retention", "Invalid", "AwaitingApproval")
    assert status["phase"] == "AwaitingApproval", status["message"]


async def test_a_kafkatopic_created_after_approval_stops_the_change_before_its_write(
    strimzi: Harness, fake_cluster: FakeCluster
) -> None:
    await topic(fake_cluster, "orders", retention_ms="86400000")
    spec = await draft(strimzi.kafka, AlterTopicConfig(topics=["orders"], set=RETENTION))
    await strimzi.start()
    await strimzi.kubectl.create("retention", spec)
    review = await strimzi.kubectl.wait_phase("retention", "Invalid", "AwaitingApproval")
    assert review["phase"] == "AwaitingApproval", review["message"]
    await create_strimzi(
        strimzi.kubectl.client,
        "kafkatopics",
        "orders",
        {"partitions": 3, "replicas": 3, "config": {"retention.ms": "86400000"}},
    )
    await strimzi.kubectl.approve("retention", "bob", "carol")
    status = await strimzi.kubectl.wait_phase("retention", "Failed", "Succeeded", "RolledBack")

    assert status["phase"] == "Failed"
    assert status["history"][-1]["reason"] == "ManagedByStrimzi"
    assert "nothing was written" in status["message"]
    assert proposal(status["message"])["spec"]["config"] == RETENTION
    assert fake_cluster.topics["orders"].overrides["retention.ms"] == "86400000"


async def test_an_acl_change_for_a_kafkauser_is_refused_with_its_acl_list(
    strimzi: Harness, fake_cluster: FakeCluster
) -> None:
    await topic(fake_cluster, "orders")
    fake_cluster.acls.append(acl("Write"))
    rules = [
        {
            "resource": {"type": "topic", "name": "orders", "patternType": "literal"},
            "operations": ["Write", "Describe"],
            "host": "*",
            "type": "allow",
        }
    ]
    await create_strimzi(
        strimzi.kubectl.client,
        "kafkausers",
        "bob",
        {"authentication": {"type": "tls"}, "authorization": {"type": "simple", "acls": rules}},
    )
    spec = await draft(strimzi.kafka, AlterAcls(add=[acl("Read")], remove=[acl("Write")]))
    await strimzi.start()
    await strimzi.kubectl.create("acls", spec)
    status = await strimzi.kubectl.wait_phase("acls", "Invalid", "AwaitingApproval")

    assert status["phase"] == "Invalid"
    assert "principal User:bob is managed by Strimzi (KafkaUser team-a/bob)" in status["message"]
    assert proposal(status["message"])["spec"]["authorization"]["acls"] == [
        {**rules[0], "operations": ["Describe"]},
        {**rules[0], "operations": ["Read"]},
    ]
