"""An offset reset drafted through MCP may scale only a Deployment that consumes its group.

The Deployments live in the kmock Kubernetes emulator and are found by their labels, as
the server finds them in a real cluster.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from mcp import Client
from mcp_support import NAMESPACE, build, caller, error_text, structured

from kcr import kinds
from kcr.kafka.fake import FakeKafka
from kcr.kinds.create_topic import CreateTopic
from kcr.mcp.kube_client import KubernetesApi, open_kube
from kcr.model import Ownership

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def kube(emulator: Any) -> AsyncIterator[KubernetesApi]:
    api = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        yield api
    finally:
        await api.close()


def deployment(namespace: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"spec": {"containers": [{"name": "app", "image": "app:1"}]}},
        },
    }


async def test_a_reset_may_scale_only_a_deployment_that_consumes_its_group(
    kube: KubernetesApi,
) -> None:
    run = uuid.uuid4().hex[:6]
    group, other = f"payments-{run}.settle", f"billing-{run}.api"
    team = f"payments-{run}"
    for namespace, name, labels in [
        ("billing", f"billing-api-{run}", {"kcr.dev/consumer-group": other}),
        ("payments", f"settle-{run}", {"kcr.dev/consumer-group": group}),
        ("payments", f"batch-{run}", {"kcr.dev/team": team}),
        ("payments", f"mislabelled-{run}", {"kcr.dev/team": team, "kcr.dev/consumer-group": other}),
        ("payments", f"unlabelled-{run}", {}),
    ]:
        await kube.client.create(
            f"/apis/apps/v1/namespaces/{namespace}/deployments",
            deployment(namespace, name, labels),
            f"creating Deployment {namespace}/{name}",
        )
    fake = FakeKafka()
    topic = f"payments-{run}.ledger"
    await kinds.apply(fake, CreateTopic(topic=topic, partitions=1, replication_factor=1))
    fake.cluster.produce(topic, 0, 5)
    fake.cluster.commit(group, {(topic, 0): 1})
    tenant = caller("pat", topics=(f"payments-{run}.",), groups=(f"payments-{run}.",))
    owners = (Ownership(team=team, group_prefixes=[f"payments-{run}."]),)
    built = build(fake, who=tenant, kube=kube, ownership=owners)

    async def draft(namespace: str, name: str) -> Any:
        arguments = {
            "group": group,
            "topics": [topic],
            "to": {"latest": True},
            "reason": "skip the poisoned batch as agreed with the team",
            "scale_deployment": {"namespace": namespace, "name": name},
        }
        return await client.call_tool("draft_reset_consumer_group_offsets", arguments)

    async with Client(built.mcp) as client:
        foreign = error_text(await draft("billing", f"billing-api-{run}"))
        mislabelled = error_text(await draft("payments", f"mislabelled-{run}"))
        unlabelled = error_text(await draft("payments", f"unlabelled-{run}"))
        missing = error_text(await draft("payments", f"gone-{run}"))
        by_label = structured(await draft("payments", f"settle-{run}"))
        by_owner = structured(await draft("payments", f"batch-{run}"))

    field = "spec.change.resetConsumerGroupOffsets.scaleDeployment"
    rule = f"may only scale a Deployment labelled kcr.dev/consumer-group={group}"
    assert f"{field}: Deployment billing/billing-api-{run} was not found among" in foreign
    assert f"Deployment payments/mislabelled-{run} consumes group {other}, not {group}" in (
        mislabelled
    )
    assert f"Deployment payments/unlabelled-{run} was not found among" in unlabelled
    assert f"Deployment payments/gone-{run} was not found" in missing
    for refusal in (foreign, mislabelled, unlabelled, missing):
        assert rule in refusal
        assert f"kcr.dev/team={team}" in refusal
    for drafted in (by_label, by_owner):
        assert drafted["review"]["valid"] is True
    assert [r.outcome.value for r in built.audit.records][:4] == ["denied"] * 4


async def test_without_kubernetes_a_reset_that_scales_is_refused_with_the_reason() -> None:
    fake = FakeKafka()
    await kinds.apply(fake, CreateTopic(topic="orders", partitions=1, replication_factor=1))
    built = build(fake, kube=None)
    async with Client(built.mcp) as client:
        refused = await client.call_tool(
            "draft_reset_consumer_group_offsets",
            {
                "group": "orders-app",
                "topics": ["orders"],
                "to": {"earliest": True},
                "reason": "replay everything after the schema fix",
                "scale_deployment": {"namespace": "apps", "name": "orders"},
            },
        )
    said = error_text(refused)
    assert "ResetConsumerGroupOffsets names Deployment apps/orders: this server has no " in said
    assert "Kubernetes API" in said
