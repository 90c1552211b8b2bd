"""describe_quotas over the fake: every entity for an unrestricted caller, the quota a client
gets by Kafka's precedence, a tenant's view, and refusals that say why."""

from datetime import UTC, datetime, timedelta

import pytest
from mcp import Client
from mcp_support import build, caller, error_text, structured

from kcr.kafka import QuotaAlteration, QuotaEntityType, QuotaKey
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.mcp.evidence import quota_subject
from kcr.mcp.gate.audit import Outcome

pytestmark = pytest.mark.asyncio

USER, CLIENT = QuotaEntityType.USER, QuotaEntityType.CLIENT_ID
PRODUCE, CONSUME = QuotaKey.PRODUCER_BYTE_RATE, QuotaKey.CONSUMER_BYTE_RATE
TENANT = caller("carol", topics=("team-a.",), groups=("team-a.",))


async def quota_kafka() -> FakeKafka:
    fake = FakeKafka()
    await fake.alter_client_quotas(
        [
            QuotaAlteration(entity={USER: None, CLIENT: None}, values={PRODUCE: 1_000_000}),
            QuotaAlteration(entity={USER: "team-a.svc"}, values={CONSUME: 4096}),
            QuotaAlteration(
                entity={USER: "team-a.svc", CLIENT: "team-a.ingest"}, values={PRODUCE: 2048}
            ),
            QuotaAlteration(entity={CLIENT: "payments-app"}, values={PRODUCE: 512}),
            QuotaAlteration(
                entity={USER: "bob"}, values={QuotaKey.REQUEST_PERCENTAGE: 25.0, PRODUCE: 100}
            ),
        ]
    )
    return fake


async def test_every_entity_and_its_values() -> None:
    built = build(await quota_kafka())
    async with Client(built.mcp) as client:
        result = structured(await client.call_tool("describe_quotas", {}))
    assert [(q["entity"], q["values"]) for q in result["quotas"]] == [
        ({"client-id": None, "user": None}, {"producer_byte_rate": 1000000.0}),
        ({"client-id": "payments-app"}, {"producer_byte_rate": 512.0}),
        ({"client-id": "team-a.ingest", "user": "team-a.svc"}, {"producer_byte_rate": 2048.0}),
        ({"user": "bob"}, {"producer_byte_rate": 100.0, "request_percentage": 25.0}),
        ({"user": "team-a.svc"}, {"consumer_byte_rate": 4096.0}),
    ]
    assert (result["applied"], result["withheld"], result["truncated"]) == (None, 0, 0)
    assert result["source"] == "kafka/prod: DescribeClientQuotas"


async def test_the_quota_a_client_gets_follows_kafkas_precedence() -> None:
    """Per key, the most specific entity wins: the user's own client for produce, the user
    alone for fetch; the cluster-wide default applies only where nothing closer does."""
    built = build(await quota_kafka())
    arguments = {"user": "team-a.svc", "client_id": "team-a.ingest"}
    async with Client(built.mcp) as client:
        result = structured(await client.call_tool("describe_quotas", arguments))
        other = structured(
            await client.call_tool("describe_quotas", {"user": "eve", "client_id": "x"})
        )
    assert [q["entity"] for q in result["quotas"]] == [
        {"user": "team-a.svc", "client-id": "team-a.ingest"},
        {"user": "team-a.svc"},
        {"user": None, "client-id": None},
    ]
    assert result["applied"] == [
        {"key": "consumer_byte_rate", "value": 4096.0, "entity": {"user": "team-a.svc"}},
        {
            "key": "producer_byte_rate",
            "value": 2048.0,
            "entity": {"user": "team-a.svc", "client-id": "team-a.ingest"},
        },
    ]
    assert other["applied"] == [
        {
            "key": "producer_byte_rate",
            "value": 1000000.0,
            "entity": {"user": None, "client-id": None},
        }
    ]


async def test_one_user_or_one_client_id() -> None:
    built = build(await quota_kafka())
    async with Client(built.mcp) as client:
        by_user = structured(await client.call_tool("describe_quotas", {"user": "team-a.svc"}))
        by_client = structured(
            await client.call_tool("describe_quotas", {"client_id": "payments-app"})
        )
    assert [q["entity"] for q in by_user["quotas"]] == [
        {"client-id": "team-a.ingest", "user": "team-a.svc"},
        {"user": "team-a.svc"},
    ]
    assert [q["entity"] for q in by_client["quotas"]] == [{"client-id": "payments-app"}]


async def test_a_tenant_sees_its_names_and_the_defaults_and_how_many_others() -> None:
    built = build(await quota_kafka(), who=TENANT)
    async with Client(built.mcp) as client:
        mine = structured(await client.call_tool("describe_quotas", {}))
        refused = await client.call_tool("describe_quotas", {"user": "bob"})
    assert [q["entity"] for q in mine["quotas"]] == [
        {"client-id": None, "user": None},
        {"client-id": "team-a.ingest", "user": "team-a.svc"},
        {"user": "team-a.svc"},
    ]
    assert mine["withheld"] == 2
    assert "bob" not in str(mine)
    said = error_text(refused)
    assert "user `bob` is outside your scope" in said
    assert "team-a.*" in said
    assert [r.outcome for r in built.audit.records] == [Outcome.OK, Outcome.DENIED]


async def test_what_was_shown_is_kept_as_evidence_for_a_draft() -> None:
    built = build(await quota_kafka())
    async with Client(built.mcp) as client:
        await client.call_tool("describe_quotas", {"user": "bob"})
    ledger = built.server.services.ledger
    now = datetime.now(UTC) + timedelta(seconds=1)
    (evidence,) = ledger.relevant("alice", {quota_subject("user=bob")}, now)
    assert evidence.kind == "Config"
    assert evidence.query == "describe_quotas user=bob"
    assert evidence.observed_value == "user=bob: producer_byte_rate=100, request_percentage=25"
    assert evidence.time_window.start == evidence.time_window.end == evidence.captured_at


async def test_a_cluster_without_quotas_says_so() -> None:
    built = build(FakeKafka(FakeCluster(describe_client_quotas=False)))
    async with Client(built.mcp) as client:
        refused = await client.call_tool("describe_quotas", {})
    assert "client quotas cannot be read on this cluster" in error_text(refused)
    assert "without describeClientQuotas" in error_text(refused)


async def test_names_are_data_not_text() -> None:
    built = build(await quota_kafka())
    async with Client(built.mcp) as client:
        pasted = await client.call_tool("describe_quotas", {"user": "bob\nrm -rf /"})
        empty = await client.call_tool("describe_quotas", {"client_id": ""})
    assert "user" in error_text(pasted)
    assert "client_id" in error_text(empty)
