"""draft_alter_client_quotas and draft_restart_workload as an assistant calls them: the
evidence describe_quotas gathered goes into the draft, a tenant reaches only its own quota
entities and Deployments, and bad arguments are refused naming the field and the rule."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml
from mcp import Client
from mcp_support import NAMESPACE, build, caller, error_text, structured

from kcr import kinds
from kcr.kafka import QuotaAlteration, QuotaEntityType, QuotaKey
from kcr.kafka.fake import FakeKafka
from kcr.kinds.create_topic import CreateTopic
from kcr.mcp.gate.audit import Outcome
from kcr.mcp.kube_client import KubernetesApi, open_kube

pytestmark = pytest.mark.asyncio

USER = QuotaEntityType.USER
TENANT = caller("carol", topics=("team-a.",), groups=("team-a.",))
REASON = "the team-a ingest service floods the brokers during backfills"


async def quota_kafka() -> FakeKafka:
    fake = FakeKafka()
    await fake.alter_client_quotas(
        [
            QuotaAlteration(
                entity={USER: "team-a.svc"}, values={QuotaKey.CONSUMER_BYTE_RATE: 4096}
            ),
            QuotaAlteration(entity={USER: "bob"}, values={QuotaKey.PRODUCER_BYTE_RATE: 100}),
        ]
    )
    return fake


def entity(user: str, **quotas: float | None) -> dict[str, Any]:
    return {"user": user, "quotas": quotas}


async def test_a_quota_draft_cites_what_describe_quotas_showed() -> None:
    built = build(await quota_kafka(), who=TENANT)
    async with Client(built.mcp) as client:
        await client.call_tool("describe_quotas", {"user": "team-a.svc"})
        drafted = structured(
            await client.call_tool(
                "draft_alter_client_quotas",
                {
                    "entities": [entity("team-a.svc", consumer_byte_rate=2048)],
                    "reason": REASON,
                },
            )
        )
    review = drafted["review"]
    assert review["risk"] == "MEDIUM"
    assert review["riskReasons"] == [
        "lowers consumer_byte_rate of user=team-a.svc from 4096 to 2048: its clients that run "
        "faster are throttled"
    ]
    assert review["blastRadius"]["principals"] == ["User:team-a.svc"]
    assert drafted["observed"]["clientQuotas"] == [
        {"user": "team-a.svc", "clientId": None, "values": {"consumer_byte_rate": 4096.0}}
    ]
    cited = [e for e in drafted["evidence"] if e["query"] == "describe_quotas user=team-a.svc"]
    assert [e["observedValue"] for e in cited] == ["user=team-a.svc: consumer_byte_rate=4096"]
    document = yaml.safe_load(drafted["yaml"])
    assert document["spec"]["change"] == {
        "type": "AlterClientQuotas",
        "alterClientQuotas": {
            "entities": [{"user": "team-a.svc", "quotas": {"consumer_byte_rate": 2048}}]
        },
    }


async def test_a_tenant_sets_quotas_only_for_names_under_its_prefixes() -> None:
    built = build(await quota_kafka(), who=TENANT)
    bob = {
        "type": "AlterClientQuotas",
        "alterClientQuotas": {"entities": [entity("bob", producer_byte_rate=1)]},
    }
    async with Client(built.mcp) as client:
        foreign = await client.call_tool(
            "draft_alter_client_quotas",
            {"entities": [entity("bob", producer_byte_rate=1)], "reason": REASON},
        )
        default = await client.call_tool(
            "draft_alter_client_quotas",
            {"entities": [entity("<default>", producer_byte_rate=1)], "reason": REASON},
        )
        previewed = await client.call_tool("preview_change", {"change": bob, "reason": REASON})
    assert "user `bob` is outside your scope" in error_text(foreign)
    assert "team-a.*" in error_text(foreign)
    assert "the default user quota reaches every client" in error_text(default)
    assert "user `bob` is outside your scope" in error_text(previewed)
    assert "100" not in error_text(previewed)
    assert [r.outcome for r in built.audit.records] == [Outcome.DENIED] * 3


@pytest.mark.parametrize(
    ("quotas", "said"),
    [
        pytest.param(
            {"producer_byte_rate": 0},
            "greater than 0",
            id="zero",
        ),
        pytest.param(
            {"fetch_rate": 10},
            "unknown quota key 'fetch_rate'",
            id="unknown-key",
        ),
    ],
)
async def test_bad_quotas_are_refused_naming_field_and_rule(
    quotas: dict[str, Any], said: str
) -> None:
    built = build(await quota_kafka())
    async with Client(built.mcp) as client:
        refused = await client.call_tool(
            "draft_alter_client_quotas",
            {"entities": [{"user": "alice", "quotas": quotas}], "reason": REASON},
        )
    assert "entities.0.quotas" in error_text(refused)  # the SDK's own wording of the path
    assert said in error_text(refused)


@pytest_asyncio.fixture
async def kube(emulator: Any) -> AsyncIterator[KubernetesApi]:
    api = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        yield api
    finally:
        await api.close()


async def create_deployment(
    emulator: Any, namespace: str, name: str, labels: dict[str, str]
) -> None:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"spec": {"containers": [{"name": "app", "image": "app:1"}]}},
        },
    }
    async with httpx.AsyncClient(base_url=emulator.kube.url) as http:
        answer = await http.post(f"/apis/apps/v1/namespaces/{namespace}/deployments", json=body)
        answer.raise_for_status()


async def test_a_restart_reaches_only_a_deployment_of_the_group(
    emulator: Any, kube: KubernetesApi
) -> None:
    run = uuid.uuid4().hex[:6]
    group, topic = f"team-a.billing-{run}", f"team-a.orders-{run}"
    await create_deployment(emulator, "shop", f"billing-{run}", {"kcr.dev/consumer-group": group})
    await create_deployment(emulator, "shop", f"audit-{run}", {"kcr.dev/consumer-group": "audit"})
    fake = FakeKafka()
    await kinds.apply(fake, CreateTopic(topic=topic, partitions=2, replication_factor=1))
    fake.cluster.produce(topic, 0, 5)
    fake.cluster.join(group, "billing-1", client_id="billing")
    fake.cluster.commit(group, {(topic, 0): 3})
    built = build(fake, who=TENANT, kube=kube)

    async def restart(name: str, group: str = group) -> Any:
        arguments = {
            "group": group,
            "deployment": {"namespace": "shop", "name": name},
            "reason": "billing holds a stale schema registry client",
        }
        return await client.call_tool("draft_restart_workload", arguments)

    async with Client(built.mcp) as client:
        drafted = structured(await restart(f"billing-{run}"))
        other = error_text(await restart(f"audit-{run}"))
        outside = error_text(await restart(f"audit-{run}", group="audit"))

    review = drafted["review"]
    assert (review["risk"], review["valid"]) == ("MEDIUM", True)
    assert review["irreversible"][0].startswith("a rollout restart cannot be undone")
    assert review["blastRadius"]["consumerGroups"] == [group]
    assert review["blastRadius"]["topics"] == [topic]
    (seen,) = drafted["observed"]["consumerGroups"]
    assert (seen["members"], seen["memberIds"]) == (1, ["billing-1"])
    assert (
        f"spec.change.restartWorkload.deployment: Deployment shop/audit-{run} was not found "
        f"among the Deployments that consume group {group}" in other
    )
    assert f"may only restart a Deployment labelled kcr.dev/consumer-group={group}" in other
    assert "consumer group `audit` is outside your scope" in outside


async def test_without_kubernetes_the_restart_tool_is_not_offered() -> None:
    built = build(FakeKafka(), kube=None)
    change = {
        "type": "RestartWorkload",
        "restartWorkload": {"group": "billing", "deployment": {"namespace": "shop", "name": "b"}},
    }
    async with Client(built.mcp) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        previewed = await client.call_tool(
            "preview_change", {"change": change, "reason": "a stale registry client"}
        )
    assert "draft_alter_client_quotas" in names
    assert "draft_restart_workload" not in names
    assert "RestartWorkload names Deployment shop/b: this server has no Kubernetes API" in (
        error_text(previewed)
    )
