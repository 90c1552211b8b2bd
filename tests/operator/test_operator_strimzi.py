"""On a Strimzi-managed cluster kcr refuses what Strimzi would undo, and says what to
change in Strimzi instead: at review, and again right before each write."""

import asyncio

import pytest
import pytest_asyncio
import yaml
from kafka_setup import acl, draft, topic
from operator_harness import NAMESPACE, Harness
from strimzi_world import create_strimzi, manage_with_strimzi, serve_strimzi
from tests.strimzi_crds import requests_to

from kcr.kafka.fake import FakeCluster
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.reassign_partitions import ReassignPartitions

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
        {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": rules},
        },
    )
    spec = await draft(strimzi.kafka, AlterAcls(add=[acl("Read")], remove=[acl("Write")]))
    await strimzi.start()
    await strimzi.kubectl.create("acls", spec)
    status = await strimzi.kubectl.wait_phase("acls", "Invalid", "AwaitingApproval")

    assert status["phase"] == "Invalid"
    assert "principal User:bob is managed by Strimzi (KafkaUser team-a/bob)" in status["message"]
    assert proposal(status["message"])["spec"]["authorization"]["acls"] == [
        {**rules[0], "operations": ["Describe", "Read"]}
    ]


def listings(harness: Harness, plural: str) -> int:
    return sum(method == "GET" for method, _ in requests_to(harness.kube, plural))


async def test_strimzi_is_listed_right_before_each_write_and_never_while_baking(
    strimzi: Harness, fake_cluster: FakeCluster
) -> None:
    """Counted at the emulator: one listing for the review, one before each write, none
    while the request bakes in Executing and its health gate is checked."""
    strimzi.kube.emulator.kept_requests = 100_000
    for name in ("orders", "invoices"):
        await topic(fake_cluster, name, retention_ms="86400000")
    member = AlterTopicConfig(topics=["orders", "invoices"], set=RETENTION)
    spec = await draft(strimzi.kafka, member, bake_seconds=3, batch_size=1)
    await strimzi.start()
    await strimzi.kubectl.create("retention", spec)
    await strimzi.kubectl.wait_phase("retention", "AwaitingApproval")
    assert (listings(strimzi, "kafkatopics"), listings(strimzi, "kafkausers")) == (1, 1)

    await strimzi.kubectl.approve("retention", "bob", "carol")
    await strimzi.kubectl.wait_for(
        "retention",
        lambda s: any(c["reason"] == "Baking" for c in s.get("conditions", [])),
        "the canary's bake",
    )
    await asyncio.sleep(2.0)  # four polls of 0.5 s while baking
    baking = await strimzi.kubectl.status("retention")
    assert baking["phase"] == "Executing"
    assert [s["state"] for st in baking["plan"]["stages"] for s in st["steps"]] == [
        "Succeeded",
        "Pending",
    ]
    assert (listings(strimzi, "kafkatopics"), listings(strimzi, "kafkausers")) == (2, 2)

    await strimzi.kubectl.wait_phase("retention", "Succeeded", timeout=30)
    assert (listings(strimzi, "kafkatopics"), listings(strimzi, "kafkausers")) == (3, 3)
    assert fake_cluster.topics["invoices"].overrides["retention.ms"] == RETENTION["retention.ms"]


async def test_a_bad_ignored_users_pattern_is_refused_naming_the_field(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    serve_strimzi(harness.kube)
    await manage_with_strimzi(harness.kubectl.client, ignoredUsersPattern="(?<=x)CN=.*")
    await topic(fake_cluster, "orders")
    spec = await draft(harness.kafka, AlterAcls(add=[acl("Read")]))
    await harness.start()
    await harness.kubectl.create("acls", spec)
    status = await harness.kubectl.wait_for(
        "acls", lambda s: "ignoredUsersPattern" in s.get("message", ""), "the cluster's problem"
    )
    assert (
        "spec.managedBy.strimzi.ignoredUsersPattern: is not a regular expression"
        in (status["message"])
    )
    assert status["phase"] == "Pending"


async def test_an_acl_for_a_user_strimzi_would_strip_is_warned_about_not_refused(
    strimzi: Harness, fake_cluster: FakeCluster
) -> None:
    await topic(fake_cluster, "orders")
    spec = await draft(strimzi.kafka, AlterAcls(add=[acl("Read", "User:CN=billing")]))
    await strimzi.start()
    await strimzi.kubectl.create("acls", spec)
    status = await strimzi.kubectl.wait_phase("acls", "Invalid", "AwaitingApproval")

    assert status["phase"] == "AwaitingApproval", status["message"]
    assert "User:CN=billing has no KafkaUser 'billing'" in status["message"]
    proposed = proposal(status["message"].split("\n. needs")[0])
    assert proposed["kind"] == "KafkaUser"
    assert proposed["metadata"]["name"] == "billing"
    assert proposed["spec"]["authentication"] == {"type": "tls"}


async def test_a_replica_move_on_a_cruise_control_cluster_points_at_a_kafkarebalance(
    harness: Harness, fake_cluster: FakeCluster
) -> None:
    """kcr refuses the move and never touches a KafkaRebalance, even one a person applied."""
    serve_strimzi(harness.kube)
    harness.kube.emulator.kept_requests = 100_000
    await manage_with_strimzi(harness.kubectl.client, cruiseControl=True)
    await create_strimzi(harness.kubectl.client, "kafkarebalances", "full", {"mode": "full"})
    await fake_cluster.create_topic("orders", 1, 2, {})
    move = ReassignPartitions.model_validate(
        {
            "topics": [{"topic": "orders", "partitions": [{"partition": 0, "replicas": [2, 0]}]}],
            "throttleBytesPerSecond": 10_000_000,
        }
    )
    spec = await draft(harness.kafka, move)
    await harness.start()
    await harness.kubectl.create("move", spec)
    status = await harness.kubectl.wait_phase("move", "Invalid", "AwaitingApproval")

    assert status["phase"] == "Invalid"
    assert "draft_kafka_rebalance" in status["message"]
    assert requests_to(harness.kube, "kafkarebalances") == [
        ("POST", f"/apis/kafka.strimzi.io/v1beta2/namespaces/{NAMESPACE}/kafkarebalances")
    ]  # the test's own, as a person applies one; kcr sent none
