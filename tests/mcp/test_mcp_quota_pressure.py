"""Quota pressure and a hot partition through explain_current_state over the Kafka fake: the
throttled client named with the quota that holds it and the raise to draft, a tenant kept
from other tenants' clients, and a partition that takes most of a topic's bytes.

Prometheus is a stub answering the throttle-time query with the series the JMX exporter
rules give a throttled client (``resource``, ``user``, ``clientId``); the same path on
Apache Kafka and a real Prometheus is the lab's quota-pressure scenario.
"""

from datetime import UTC, datetime, timedelta

import pytest
from mcp import Client
from mcp_support import build, caller, structured

from kcr.kafka import QuotaAlteration, QuotaEntityType, QuotaKey
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.mcp.prometheus import MetricPoint, MetricSeries

pytestmark = pytest.mark.asyncio

CLIENT = QuotaEntityType.CLIENT_ID
PRODUCE = QuotaKey.PRODUCER_BYTE_RATE
TENANT = caller("carol", topics=("team-a.",), groups=("team-a.",))
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
REASON = "the ingest producer is throttled by its client quota"


class ThrottleTime:
    """Answers the quota sensors' query with fixed series; every other family is empty."""

    url = "http://prometheus.test:9090"

    def __init__(self, series: list[dict[str, str]], peak: float = 250.0) -> None:
        self.series = series
        self.peak = peak
        self.queries: list[str] = []

    async def query_range(
        self, query: str, start: datetime, end: datetime, step_seconds: int
    ) -> list[MetricSeries]:
        self.queries.append(query)
        if "kafka_server_quota_throttle_time" not in query:
            return []
        points = [MetricPoint(at=end - timedelta(seconds=30), value=0.0)]
        points.append(MetricPoint(at=end, value=self.peak))
        return [MetricSeries(labels=labels, points=points) for labels in self.series]


def throttled(client_id: str, broker: str = "1", label: str = "clientId") -> dict[str, str]:
    """Labels as exporter rules give them: Strimzi's ``clientId``, or lower-cased."""
    return {"broker": broker, "resource": "Produce", label: client_id}


async def quota_kafka(*quotas: QuotaAlteration) -> FakeKafka:
    cluster = FakeCluster(brokers=3)
    await cluster.create_topic("team-a.events", 3, 3, {})
    fake = FakeKafka(cluster)
    await fake.alter_client_quotas(list(quotas))
    return fake


async def test_a_throttled_client_is_named_with_its_quota_and_the_raise_to_draft() -> None:
    kafka = await quota_kafka(
        QuotaAlteration(entity={CLIENT: "team-a.ingest"}, values={PRODUCE: 51200})
    )
    prometheus = ThrottleTime(
        [throttled("team-a.ingest", "1"), throttled("team-a.ingest", "2", label="clientid")]
    )
    built = build(kafka, who=TENANT, prometheus=prometheus)
    async with Client(built.mcp) as client:
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"topic": "team-a.events"})
        )
        top = diagnosis["findings"][0]
        change = top["proposal"]["change"]
        drafted = structured(
            await client.call_tool(
                "draft_alter_client_quotas",
                {"entities": change["alterClientQuotas"]["entities"], "reason": REASON},
            )
        )
    assert (top["kind"], top["subject"]) == ("QuotaPressure", "quota/client-id=team-a.ingest")
    assert "on broker(s) 1, 2 from client-id=team-a.ingest" in top["summary"]
    assert "held to producer_byte_rate=51200 set on client-id=team-a.ingest" in top["summary"]
    assert change["alterClientQuotas"]["entities"] == [
        {"user": None, "clientId": "team-a.ingest", "quotas": {"producer_byte_rate": 102400}}
    ]
    metric, config = top["evidence"]
    assert metric["kind"] == "Metric"
    assert metric["query"] == "max without (instance, job) (kafka_server_quota_throttle_time{})"
    assert metric["timeWindow"]["start"] < metric["timeWindow"]["end"]
    assert config["query"] == "describe_quotas client_id=team-a.ingest"
    assert config["source"] == "kafka/prod: DescribeClientQuotas"
    assert drafted["review"]["risk"] == "LOW"
    cited = [e["query"] for e in drafted["evidence"]]
    assert metric["query"] in cited, "the draft cites the throttle time the diagnosis read"


async def test_a_default_quota_is_raised_on_the_clients_own_entity() -> None:
    """Doubling the default would let every client without a quota run faster."""
    kafka = await quota_kafka(QuotaAlteration(entity={CLIENT: None}, values={PRODUCE: 1000}))
    built = build(kafka, prometheus=ThrottleTime([throttled("team-a.ingest")]))
    async with Client(built.mcp) as client:
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"topic": "team-a.events"})
        )
    (finding,) = diagnosis["findings"]
    assert "held to producer_byte_rate=1000 set on client-id=<default>" in finding["summary"]
    assert finding["proposal"]["change"]["alterClientQuotas"]["entities"] == [
        {"user": None, "clientId": "team-a.ingest", "quotas": {"producer_byte_rate": 2000}}
    ]


async def test_a_tenant_sees_neither_another_tenants_throttled_client_nor_its_quota() -> None:
    kafka = await quota_kafka(
        QuotaAlteration(entity={CLIENT: "payments-app"}, values={PRODUCE: 512})
    )
    built = build(kafka, who=TENANT, prometheus=ThrottleTime([throttled("payments-app")]))
    async with Client(built.mcp) as client:
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"topic": "team-a.events"})
        )
        reading = structured(await client.call_tool("broker_metrics", {"family": "throttle_time"}))
    assert diagnosis["findings"] == []
    assert (reading["series"], reading["withheld"]) == ([], 1)
    admin = build(kafka, prometheus=ThrottleTime([throttled("payments-app")]))
    async with Client(admin.mcp) as client:
        seen = structured(
            await client.call_tool("explain_current_state", {"topic": "team-a.events"})
        )
    assert [f["subject"] for f in seen["findings"]] == ["quota/client-id=payments-app"]


async def test_a_partition_taking_most_of_the_bytes_is_hot_with_no_change_proposed() -> None:
    cluster = FakeCluster(brokers=3)
    await cluster.create_topic("team-a.orders", 3, 2, {})
    cluster.produce("team-a.orders", 0, 300)
    cluster.produce("team-a.orders", 1, 20_000)  # 2 MB at 100 bytes a fake record
    cluster.produce("team-a.orders", 2, 300)
    built = build(FakeKafka(cluster), who=TENANT)
    async with Client(built.mcp) as client:
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"topic": "team-a.orders"})
        )
    (finding,) = diagnosis["findings"]
    assert (finding["kind"], finding["subject"]) == ("HotPartition", "team-a.orders/1")
    assert finding["proposal"] is None
    assert "holds 1.9 MiB of the 2.0 MiB of team-a.orders (97%" in finding["summary"]
    assert finding["runbook"]["section"] == "hot-partitions"
    (evidence,) = finding["evidence"]
    assert evidence["source"] == "kafka/prod: DescribeLogDirs"
    assert evidence["query"] == "log_dir_sizes topic=team-a.orders"
    assert evidence["observedValue"].startswith("team-a.orders/1 2000000 bytes")


async def test_partitions_of_even_size_are_not_hot() -> None:
    cluster = FakeCluster(brokers=3)
    await cluster.create_topic("team-a.orders", 3, 2, {})
    for partition in range(3):
        cluster.produce("team-a.orders", partition, 20_000)
    built = build(FakeKafka(cluster), who=TENANT)
    async with Client(built.mcp) as client:
        diagnosis = structured(
            await client.call_tool("explain_current_state", {"topic": "team-a.orders"})
        )
    assert diagnosis["findings"] == []
