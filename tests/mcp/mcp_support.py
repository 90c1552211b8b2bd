"""Builders for the MCP tests: servers over the fake or a broker, and real incidents.

The incident is made with confluent-kafka's own producer and consumer, not through kcr,
so the numbers the tools report are checked against what independent clients did.
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as ConfluentPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kcr.engine import ChangeRequestView, Observations, decide
from kcr.kafka import KafkaPort
from kcr.mcp.cluster import ClusterContext
from kcr.mcp.connect import ConnectPort
from kcr.mcp.diagnosis import Thresholds
from kcr.mcp.drafts import DraftSink, YamlDraftSink
from kcr.mcp.gate.audit import MemorySink
from kcr.mcp.gate.identity import Caller, Role, Scope
from kcr.mcp.gate.ratelimit import RateLimits
from kcr.mcp.incidents import IncidentLibrary
from kcr.mcp.kube import KubePort
from kcr.mcp.prometheus import PrometheusPort
from kcr.mcp.runbooks import RunbookLibrary
from kcr.mcp.sampler import GroupSampler
from kcr.mcp.schemas import SchemaRegistryClient
from kcr.mcp.server import KcrServer, ServerOptions, build_server
from kcr.mcp.services import Services
from kcr.model import ClusterPolicy, KafkaClusterSpec, Ownership, Phase
from kcr.model.strimzi import StrimziManagement

CLUSTER = "prod"
NAMESPACE = "kafka"
TIMEOUT = 20.0


def caller(
    principal: str = "alice",
    roles: tuple[Role, ...] = (Role.VIEWER, Role.DRAFTER),
    topics: tuple[str, ...] = ("*",),
    groups: tuple[str, ...] = ("*",),
    tenant: str = "",
) -> Caller:
    return Caller(
        principal=principal,
        roles=list(roles),
        tenant=tenant,
        scope=Scope(topic_prefixes=list(topics), group_prefixes=list(groups)),
    )


@dataclass
class Built:
    server: KcrServer
    audit: MemorySink

    @property
    def mcp(self) -> Any:
        return self.server.mcp


def build(
    kafka: KafkaPort,
    *,
    who: Caller | None = None,
    drafts: DraftSink | None = None,
    kube: KubePort | None = None,
    rate: RateLimits | None = None,
    ownership: tuple[Ownership, ...] = (),
    policy: ClusterPolicy | None = None,
    clock: Callable[[], datetime] | None = None,
    connect: ConnectPort | None = None,
    prometheus: PrometheusPort | None = None,
    thresholds: Thresholds | None = None,
    incidents: IncidentLibrary | None = None,
    schemas: SchemaRegistryClient | None = None,
    strimzi: StrimziManagement | None = None,
    audit: MemorySink | None = None,
    audit_sync_reads: bool = False,
) -> Built:
    audit = audit or MemorySink()
    services = Services(
        kafka=kafka,
        cluster=ClusterContext(
            name=CLUSTER,
            namespace=NAMESPACE,
            policy=policy or ClusterPolicy(),
            ownership=ownership,
            strimzi=strimzi,
        ),
        drafts=drafts or YamlDraftSink(),
        runbooks=RunbookLibrary.load(),
        sampler=GroupSampler(kafka, interval=0, **({"clock": clock} if clock else {})),
        kube=kube,
        connect=connect,
        prometheus=prometheus,
        schemas=schemas,
        **({"incidents": incidents} if incidents else {}),
        **({"thresholds": thresholds} if thresholds else {}),
        **({"clock": clock} if clock else {}),
    )
    options = ServerOptions(
        audit=audit,
        audit_sync_reads=audit_sync_reads,
        local_caller=who or caller(),
        rate_limits=rate or RateLimits(per_minute=6000, burst=1000),
    )
    return Built(server=build_server(services, options), audit=audit)


def structured(result: Any) -> dict[str, Any]:
    """The structured content of a successful call; a failed call fails the test loudly."""
    assert not result.is_error, result.content[0].text
    content: dict[str, Any] = result.structured_content
    return content


def error_text(result: Any) -> str:
    assert result.is_error, f"expected a refusal, got {result.structured_content}"
    text: str = result.content[0].text
    return text


@dataclass
class Incident:
    """What was produced and committed, as the independent clients saw it."""

    orders: str
    payments: str
    orders_group: str
    billing_group: str
    idle_group: str
    orders_log_end: dict[int, int] = field(default_factory=dict)
    payments_log_end: dict[int, int] = field(default_factory=dict)
    billing_committed: dict[int, int] = field(default_factory=dict)

    @property
    def hot_partition(self) -> int:
        return max(self.orders_log_end, key=lambda p: self.orders_log_end[p])


HOT_KEY_RECORDS = 400
SPREAD_KEYS = 45
PAYMENTS_PER_PARTITION = 300
BILLING_COMMITTED = 5


def make_incident(bootstrap: str, prefix: str) -> Incident:
    """A hot partition from one dominant key, a group far behind, and an idle group."""
    incident = Incident(
        orders=f"{prefix}.orders",
        payments=f"{prefix}.payments",
        orders_group=f"{prefix}.orders-app",
        billing_group=f"{prefix}.billing",
        idle_group=f"{prefix}.audit",
    )
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(incident.orders, 3, 1), NewTopic(incident.payments, 2, 1)],
        operation_timeout=TIMEOUT,
    )
    for future in futures.values():
        future.result(TIMEOUT)
    keys = ["customer-42"] * HOT_KEY_RECORDS + [f"customer-{i}" for i in range(SPREAD_KEYS)]
    incident.orders_log_end = _produce(bootstrap, incident.orders, keys=keys)
    incident.payments_log_end = _produce(
        bootstrap,
        incident.payments,
        partitions={0: PAYMENTS_PER_PARTITION, 1: PAYMENTS_PER_PARTITION},
    )
    commit_offsets(bootstrap, incident.orders_group, {(incident.orders, p): 0 for p in range(3)})
    incident.billing_committed = {0: BILLING_COMMITTED, 1: BILLING_COMMITTED}
    commit_offsets(
        bootstrap,
        incident.billing_group,
        {(incident.payments, p): o for p, o in incident.billing_committed.items()},
    )
    commit_offsets(
        bootstrap,
        incident.idle_group,
        {(incident.payments, p): end for p, end in incident.payments_log_end.items()},
    )
    return incident


def _produce(
    bootstrap: str,
    topic: str,
    *,
    keys: list[str] | None = None,
    partitions: dict[int, int] | None = None,
) -> dict[int, int]:
    """One record per batch (tansu moves its high watermark once per batch)."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    delivered: Counter[int] = Counter()
    failures: list[str] = []

    def report(error: Any, message: Any) -> None:
        if error is not None:
            failures.append(str(error))
        else:
            delivered[message.partition()] += 1

    if keys is not None:
        for key in keys:
            producer.produce(topic, value=b"payload", key=key.encode(), on_delivery=report)
            producer.poll(0)
    for partition, count in (partitions or {}).items():
        for _ in range(count):
            producer.produce(topic, value=b"payload", partition=partition, on_delivery=report)
            producer.poll(0)
    left = producer.flush(TIMEOUT)
    assert not failures, f"produce to {topic} failed: {failures[:3]}"
    assert not left, f"{left} records to {topic} were not delivered"
    return dict(sorted(delivered.items()))


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics(
        [NewTopic(topic, partitions, 1)], operation_timeout=TIMEOUT
    ).values():
        future.result(TIMEOUT)


def commit_offsets(bootstrap: str, group: str, offsets: dict[tuple[str, int], int]) -> None:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    try:
        consumer.commit(
            offsets=[ConfluentPartition(t, p, o) for (t, p), o in offsets.items()],
            asynchronous=False,
        )
    finally:
        consumer.close()


def wait_until(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.05)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def engine_verdict(body: dict[str, Any], approver: str) -> str:
    """Review the stored request with the engine, then approve it as ``approver``."""
    resource = ChangeRequestView.from_body(body)
    cluster = KafkaClusterSpec(bootstrap_servers="kafka:9092")
    observations = Observations(cluster=cluster)
    for _ in range(10):
        transition = decide(resource, observations, datetime.now(UTC))
        resource = resource.with_status(transition.status)
        if resource.status.phase is Phase.AWAITING_APPROVAL:
            break
    assert resource.status.phase is Phase.AWAITING_APPROVAL, resource.status.message
    approval = {
        "kcr.dev/approved-by": approver,
        "kcr.dev/approved-spec-hash": resource.status.spec_hash or "",
    }
    resource = replace(resource, annotations=approval)
    transition = decide(resource, observations, datetime.now(UTC))
    assert transition.status.phase is Phase.AWAITING_APPROVAL
    return transition.status.message
