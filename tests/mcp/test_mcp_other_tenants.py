"""What a tenant learns of other tenants' topics and change requests: nothing, not even that
they exist. Requests live in the kmock Kubernetes emulator, drafted through the server."""

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
from kcr.mcp.drafts import KubeDraftSink
from kcr.mcp.gate.audit import Outcome
from kcr.mcp.kube_client import KubernetesApi, open_kube

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def kube(emulator: Any) -> AsyncIterator[KubernetesApi]:
    api = open_kube(str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        yield api
    finally:
        await api.close()


async def test_out_of_scope_and_missing_requests_get_the_same_answer(kube: KubernetesApi) -> None:
    run = uuid.uuid4().hex[:6]
    topic = f"team-b-{run}.invoices"
    fake = FakeKafka()
    await kinds.apply(fake, CreateTopic(topic=topic, partitions=1, replication_factor=1))
    owner = build(fake, who=caller("bea"), drafts=KubeDraftSink(kube), kube=kube)
    async with Client(owner.mcp) as client:
        draft = structured(
            await client.call_tool(
                "draft_alter_topic_config",
                {
                    "topics": [topic],
                    "set": {"max.message.bytes": "2097152"},
                    "reason": "invoices with attachments exceed one megabyte",
                },
            )
        )
    existing, missing = draft["name"], f"absent-{run}"
    stranger = build(fake, who=caller("sam", topics=("team-z.",), groups=("team-z.",)), kube=kube)
    async with Client(stranger.mcp) as client:
        hidden = error_text(await client.call_tool("get_change_request", {"name": existing}))
        absent = error_text(await client.call_tool("get_change_request", {"name": missing}))
    assert hidden.replace(existing, "NAME") == absent.replace(missing, "NAME")
    assert f"no KafkaChangeRequest {existing} that you may read in namespace {NAMESPACE}" in hidden
    assert topic not in hidden
    outcomes = [r.outcome for r in stranger.audit.records]
    assert outcomes == [Outcome.DENIED, Outcome.INVALID]


async def test_a_name_collision_with_another_tenants_topic_is_not_named_in_a_yaml_draft() -> None:
    await collision_is_refused_without_the_name(None)


async def test_a_name_collision_with_another_tenants_topic_is_not_named_in_a_kube_draft(
    kube: KubernetesApi,
) -> None:
    await collision_is_refused_without_the_name(KubeDraftSink(kube))


async def collision_is_refused_without_the_name(drafts: KubeDraftSink | None) -> None:
    run = uuid.uuid4().hex[:6]
    foreign, wanted = f"team-a_{run}", f"team-a.{run}"
    fake = FakeKafka()
    await kinds.apply(fake, CreateTopic(topic=foreign, partitions=1, replication_factor=1))
    tenant = caller("tina", topics=("team-a.",), groups=("team-a.",))
    built = build(fake, who=tenant, drafts=drafts)
    create = {"topic": wanted, "partitions": 3, "replicationFactor": 1}
    reason = "a topic for the new invoicing pipeline"
    async with Client(built.mcp) as client:
        preview = structured(
            await client.call_tool(
                "preview_change",
                {"change": {"type": "CreateTopic", "createTopic": create}, "reason": reason},
            )
        )
        refused = error_text(
            await client.call_tool(
                "draft_create_topic",
                {"topic": wanted, "partitions": 3, "replication_factor": 1, "reason": reason},
            )
        )
    (violation,) = preview["review"]["violations"]
    assert preview["review"]["valid"] is False
    assert f"topic {wanted} collides with an existing topic outside your scope" in violation
    assert "refuses to create it; choose another name" in violation
    assert "the change breaks the cluster policy and was not drafted" in refused
    assert "collides with an existing topic outside your scope" in refused
    for shown in (str(preview), refused):
        assert foreign not in shown
    assert [t["name"] for t in preview["observed"]["topics"]] == [wanted]
