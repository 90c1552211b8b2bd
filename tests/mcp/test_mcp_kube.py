"""Drafts and workloads against the kmock Kubernetes emulator, with Kafka from the broker.

The drafts sink creates real KafkaChangeRequests over HTTP; reading them back from the
emulator shows the spec, the requester and the observed state exactly as stored.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from mcp import Client
from mcp_support import (
    BILLING_COMMITTED,
    NAMESPACE,
    PAYMENTS_PER_PARTITION,
    Built,
    Incident,
    build,
    caller,
    commit_offsets,
    create_topic,
    error_text,
    structured,
)

from kcr import kinds
from kcr.kafka.connect import open_kafka
from kcr.kafka.fake import FakeKafka
from kcr.kafka.settings import ClientSettings
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.mcp.drafts import KubeDraftSink
from kcr.mcp.kube_client import KubernetesApi, open_kube
from kcr.model import KafkaChangeRequest

pytestmark = [pytest.mark.asyncio, pytest.mark.kafka, pytest.mark.slow]


@pytest_asyncio.fixture
async def kube(emulator: Any) -> AsyncIterator[KubernetesApi]:
    api = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        yield api
    finally:
        await api.close()


@pytest_asyncio.fixture
async def drafting(kafka_bootstrap: str, kube: KubernetesApi) -> AsyncIterator[Built]:
    kafka = open_kafka(kafka_bootstrap, settings=ClientSettings(request_timeout=10))
    try:
        yield build(
            kafka,
            who=caller("alice", tenant="team-a"),
            drafts=KubeDraftSink(kube),
            kube=kube,
        )
    finally:
        await kafka.close()


async def test_a_draft_lands_in_kubernetes_once(
    drafting: Built, kube: KubernetesApi, incident: Incident
) -> None:
    arguments = {
        "group": incident.billing_group,
        "topics": [incident.payments],
        "to": {"latest": True},
        "reason": "billing is far behind; skip the backlog as agreed with the team",
    }
    async with Client(drafting.mcp) as client:
        first = structured(await client.call_tool("draft_reset_consumer_group_offsets", arguments))
        again = structured(await client.call_tool("draft_reset_consumer_group_offsets", arguments))
        listed = structured(await client.call_tool("list_change_requests", {}))
        fetched = structured(await client.call_tool("get_change_request", {"name": first["name"]}))
    assert (first["created"], again["created"]) == (True, False)
    assert (first["alreadyOpen"], again["alreadyOpen"]) == (False, True)
    assert again["name"] == first["name"]
    assert again["existingRequester"] == "alice"
    stored = await kube.get_change_request(first["name"])
    assert stored is not None
    request = KafkaChangeRequest.model_validate({k: v for k, v in stored.items() if k != "status"})
    spec = request.spec
    assert request.metadata.namespace == NAMESPACE
    assert spec.cluster == "prod"
    assert (spec.requested_by.principal, spec.requested_by.tenant) == ("alice", "team-a")
    assert spec.requested_by.correlation_id == drafting.audit.records[0].correlation_id
    reset = spec.change.member
    assert isinstance(reset, ResetConsumerGroupOffsets)
    assert reset.to.latest is True
    assert spec.observed is not None
    (group,) = spec.observed.consumer_groups
    assert group.group == incident.billing_group
    assert group.members == 0
    assert [(p.partition, p.committed, p.log_end) for p in group.partitions] == [
        (0, BILLING_COMMITTED, PAYMENTS_PER_PARTITION),
        (1, BILLING_COMMITTED, PAYMENTS_PER_PARTITION),
    ]
    assert any(e.kind == "ConsumerGroup" for e in spec.evidence)
    assert [r["name"] for r in listed["requests"]].count(first["name"]) == 1
    assert fetched["spec"]["requestedBy"]["principal"] == "alice"


def deployment(name: str, group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "billing",
            "uid": f"uid-{name}",
            "labels": {"kcr.dev/consumer-group": group},
            "annotations": {"deployment.kubernetes.io/revision": "2"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {"spec": {"containers": [{"name": "app", "image": "billing:2.1"}]}},
        },
    }


def replica_set(name: str, revision: int, image: str, created: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-{revision}",
            "namespace": "billing",
            "labels": {"app": name},
            "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": f"uid-{name}"}
            ],
        },
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"spec": {"containers": [{"name": "app", "image": image}]}},
        },
    }


async def test_recent_rollout_is_found_and_cited(
    drafting: Built, kube: KubernetesApi, incident: Incident
) -> None:
    apps = "/apis/apps/v1/namespaces/billing"
    now = datetime.now(UTC)
    await kube.client.create(
        f"{apps}/deployments",
        deployment("billing-worker", incident.billing_group),
        "creating Deployment billing/billing-worker",
    )
    for revision, image, created in [
        (1, "billing:2.0", now - timedelta(days=3)),
        (2, "billing:2.1", now - timedelta(minutes=10)),
    ]:
        await kube.client.create(
            f"{apps}/replicasets",
            replica_set("billing-worker", revision, image, created),
            f"creating ReplicaSet billing/billing-worker-{revision}",
        )
    async with Client(drafting.mcp) as client:
        deployments = structured(
            await client.call_tool("recent_deployments", {"group": incident.billing_group})
        )
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"group": incident.billing_group})
        )
    (workload,) = deployments["workloads"]
    assert (workload["namespace"], workload["name"]) == ("billing", "billing-worker")
    assert [(r["revision"], r["images"], r["previousImages"]) for r in workload["rollouts"]] == [
        (2, ["billing:2.1"], ["billing:2.0"])
    ]
    kinds = [f["kind"] for f in diagnosis["findings"]]
    assert kinds == ["LagAfterRollout", "NoActiveConsumer"]
    rollout = diagnosis["findings"][0]
    assert "billing/billing-worker rolled out revision 2" in rollout["summary"]
    assert rollout["evidence"][0]["kind"] == "Deployment"
    assert "billing:2.0" in rollout["evidence"][0]["observedValue"]


async def test_a_tenant_is_not_shown_other_teams_consumer_groups(
    kafka_bootstrap: str, kube: KubernetesApi
) -> None:
    """The stored request names every consumer of the topic; the tenant who drafted it sees
    only the groups of their scope, and how many others there are."""
    run = uuid.uuid4().hex[:6]
    prefix = f"team-a-{run}."
    topic, foreign = f"{prefix}invoices", f"team-b-{run}.invoices-reader"
    own = [f"{prefix}invoicer"]
    create_topic(kafka_bootstrap, topic, 1)
    for group in (*own, foreign):
        commit_offsets(kafka_bootstrap, group, {(topic, 0): 0})
    tenant = caller("tina", topics=(prefix,), groups=(prefix,), tenant="team-a")
    arguments = {
        "topics": [topic],
        "set": {"retention.ms": "259200000"},
        "reason": "keep three days while billing catches up",
    }
    change = {
        "type": "AlterTopicConfig",
        "alterTopicConfig": {"topics": arguments["topics"], "set": arguments["set"]},
    }
    kafka = open_kafka(kafka_bootstrap, settings=ClientSettings(request_timeout=10))
    try:
        drafting = build(kafka, who=tenant, drafts=KubeDraftSink(kube), kube=kube)
        async with Client(drafting.mcp) as client:
            draft = structured(await client.call_tool("draft_alter_topic_config", arguments))
            preview = structured(
                await client.call_tool(
                    "preview_change", {"change": change, "reason": arguments["reason"]}
                )
            )
            fetched = structured(
                await client.call_tool("get_change_request", {"name": draft["name"]})
            )
        reviewer = build(kafka, who=caller("rita"), kube=kube)
        async with Client(reviewer.mcp) as client:
            full = structured(await client.call_tool("get_change_request", {"name": draft["name"]}))
        stranger = build(
            kafka, who=caller("sam", topics=("team-z.",), groups=("team-z.",)), kube=kube
        )
        async with Client(stranger.mcp) as client:
            refused = await client.call_tool("get_change_request", {"name": draft["name"]})
    finally:
        await kafka.close()
    for shown in (draft, preview, fetched):
        assert foreign not in str(shown)
        assert shown["withheld"] == (
            "1 consumer group(s) outside your scope are not named here; the change request "
            "names them for its reviewers"
        )
    assert draft["observed"]["consumersOfTopics"] == own
    assert draft["review"]["blastRadius"]["consumerGroups"] == own
    assert preview["review"]["blastRadius"]["consumerGroups"] == own
    assert fetched["spec"]["observed"]["consumersOfTopics"] == own
    consumers = next(e for e in draft["evidence"] if e["query"] == "consumers of topics")
    assert consumers["observedValue"] == (
        f"consumer groups of the affected topics: {', '.join(own)}; and 1 outside your scope"
    )
    stored = await kube.get_change_request(draft["name"])
    assert stored is not None
    assert stored["spec"]["observed"]["consumersOfTopics"] == sorted([*own, foreign])
    assert full["spec"]["observed"]["consumersOfTopics"] == sorted([*own, foreign])
    assert full.get("withheld") is None
    assert f"no KafkaChangeRequest {draft['name']} that you may read" in error_text(refused)


async def test_a_withheld_group_named_like_a_topic_leaves_the_request_readable(
    kube: KubernetesApi,
) -> None:
    """The group's name goes from the group fields only: the change's topic keeps it."""
    run = uuid.uuid4().hex[:6]
    prefix = f"team-a-{run}."
    topics = [f"{prefix}invoices", f"{prefix}refunds"]
    own = f"{prefix}app-billing"
    fake = FakeKafka()
    for topic in topics:
        await kinds.apply(fake, CreateTopic(topic=topic, partitions=1, replication_factor=3))
        fake.cluster.commit(own, {(topic, 0): 0})
    fake.cluster.commit(topics[0], {(topics[0], 0): 0})
    tenant = caller("tina", topics=(prefix,), groups=(f"{prefix}app",), tenant="team-a")
    arguments = {"topics": topics, "set": {"retention.ms": "259200000"}, "reason": "keep more"}
    async with Client(build(fake, who=tenant, drafts=KubeDraftSink(kube), kube=kube).mcp) as c:
        draft = structured(await c.call_tool("draft_alter_topic_config", arguments))
        fetched = structured(await c.call_tool("get_change_request", {"name": draft["name"]}))
    spec = fetched["spec"]
    assert spec["change"]["alterTopicConfig"]["topics"] == topics
    assert spec["observed"]["consumersOfTopics"] == [own]
    assert [t["name"] for t in spec["observed"]["topics"]] == topics
    assert fetched["withheld"] == (
        "1 consumer group(s) outside your scope are not named here; the change request "
        "names them for its reviewers"
    )
    stored = await kube.get_change_request(draft["name"])
    assert stored is not None
    assert stored["spec"]["observed"]["consumersOfTopics"] == sorted([own, topics[0]])
