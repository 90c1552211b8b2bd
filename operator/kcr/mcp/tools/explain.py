"""``explain_current_state``: gather the facts about a topic or group, then diagnose.

The gathering is I/O (Kafka, the sampler, Kubernetes); the ranking is the pure engine in
:mod:`kcr.mcp.diagnosis`. Every finding carries its evidence and the runbook to read.
"""

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from kcr.kafka import (
    ClusterOverview,
    KafkaPortError,
    LagReport,
    NotFoundError,
    ReassignmentReport,
    TopicConfigs,
    TopicInfo,
)
from kcr.kafka.quota_model import QuotaEntityType, entity_label
from kcr.kube.errors import KubeError
from kcr.mcp.broker_metrics import MetricFamily, MetricRange
from kcr.mcp.cluster import OwnerInfo
from kcr.mcp.connect import ConnectError, ConnectReport
from kcr.mcp.diagnosis import (
    RUNBOOK_SECTIONS,
    AccessCheck,
    Facts,
    Finding,
    FindingKind,
    RunbookRef,
    diagnose,
)
from kcr.mcp.evidence import group_subject, quota_subject, topic_subject
from kcr.mcp.gate.calls import ToolFailedError, ToolInvalidError
from kcr.mcp.schemas import SchemaHistory, SchemaRegistryError, SchemaType
from kcr.mcp.tools.access import read_access
from kcr.mcp.tools.broker_reads import read_log_sizes, read_metrics, read_quotas
from kcr.mcp.tools.connectors import visible
from kcr.mcp.tools.deployments import workloads_for_group
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.groups import scoped_report, visible_consumers
from kcr.mcp.tools.schema_tools import ProducerSchema, producer_schema_check
from kcr.mcp.tools.strimzi_tools import strimzi_drift_facts
from kcr.mcp.workloads import Workload
from kcr.model import AclOperation, AclResourceType
from kcr.model.base import KubeModel
from kcr.model.names import GroupId, Principal, TopicName

MAX_GROUPS_FOR_DEPLOYMENTS = 10
MAX_TOPICS_FOR_SCHEMAS = 10


class Diagnosis(KubeModel):
    subject: str
    owner: OwnerInfo | None = Field(default=None, description="From the ownership map")
    healthy: bool
    summary: str
    findings: list[Finding] = Field(description="Most urgent first; each cites its evidence")
    groups_considered: list[str]
    notes: list[str] = Field(default_factory=list, description="What could not be checked")
    observed_at: datetime


async def explain_current_state(
    env: ToolEnv,
    *,
    topic: TopicName | None = None,
    group: GroupId | None = None,
    principal: Annotated[
        Principal | None,
        Field(
            description="A client reported refused or failing (User:name): its access is "
            "checked against the topic's or group's ACLs"
        ),
    ] = None,
    operation: Annotated[
        AclOperation | None,
        Field(description="What that client tries: Write to a topic, Read a group by default"),
    ] = None,
    schema: ProducerSchema | None = None,
    schema_type: SchemaType = SchemaType.AVRO,
) -> Diagnosis:
    """A ranked diagnosis of a topic or group: lag shape, consumers, rebalances, replication,
    retention, recent rollouts and, for a named client, its access; for a producer's schema
    (given with a topic), whether the registry accepts it for ``<topic>-value``. Every claim
    with its evidence, a runbook section and the Kafka change it calls for, if any."""
    if (topic is None) == (group is None):
        raise ToolInvalidError("give exactly one of topic or group")
    if operation is not None and principal is None:
        raise ToolInvalidError("operation needs principal: the client whose access to check")
    if schema is not None and topic is None:
        raise ToolInvalidError("schema needs topic: the topic whose value subject to check")
    notes: list[str] = []
    if topic is not None:
        env.require_topic(topic)
        report = await _lag_or_note(env, _lag_for_topic(env, topic), notes)
        topics = [topic]
        subject = f"topic/{topic}"
        owner = env.services.cluster.owner_of_topic(topic)
    else:
        assert group is not None
        env.require_group(group)
        report = scoped_report(
            await _lag_or_note(env, env.services.kafka.lag_report([group]), notes), env.scope
        )
        row = report.group(group)
        topics = [t.topic for t in row.topics] if row else []
        subject = f"group/{group}"
        owner = env.services.cluster.owner_of_group(group)
    groups = [g.group for g in report.groups]
    infos, configs, overview = await _metadata(env, topics)
    moves = await _reassignments(env, topics, notes)
    connect = await _connect(env, groups, notes)
    metrics = await read_metrics(env, topics, notes)
    quotas = await read_quotas(env, metrics, notes)
    log_sizes = await read_log_sizes(env, topics, notes)
    schemas = await _schemas(env, topics, notes)
    if groups:
        await env.services.sampler.sample(groups)
    workloads = await _workloads(env, report, notes)
    access = await _access(
        env, principal=principal, operation=operation, topic=topic, group=group, notes=notes
    )
    facts = _facts(
        env,
        infos=infos,
        configs=configs,
        overview=overview,
        report=report,
        groups=groups,
        workloads=workloads,
        reassignments=moves,
        connect=connect,
        metrics=metrics,
        schemas=schemas,
    )
    checks = await producer_schema_check(env, topic, schema, schema_type, notes)
    drift = await strimzi_drift_facts(env, topics, principal, notes)
    facts = replace(
        facts, access=access, schema_checks=checks, quotas=quotas, log_sizes=log_sizes, **drift
    )
    findings = diagnose(facts)
    env.remember(
        {topic_subject(t) for t in topics} | {group_subject(g) for g in groups},
        [e for f in findings for e in f.evidence],
    )
    for finding in findings:
        _remember_for_proposal(env, finding)
    return Diagnosis(
        subject=subject,
        owner=OwnerInfo.of(owner),
        healthy=not findings,
        summary=findings[0].summary if findings else f"nothing wrong found with {subject}",
        findings=findings,
        groups_considered=groups,
        notes=notes,
        observed_at=facts.now,
    )


def _remember_for_proposal(env: ToolEnv, finding: Finding) -> None:
    """A proposal about client quotas is drafted on quota entities, not topics: its
    finding's evidence is kept under them too, for the draft to cite."""
    if finding.proposal is None:
        return
    change = finding.proposal.change
    entities = change.kind.quota_entities(change.member)
    if entities:
        env.remember(
            {
                quota_subject(entity_label({QuotaEntityType(k): v for k, v in e.items()}))
                for e in entities
            },
            finding.evidence,
        )


async def _access(
    env: ToolEnv,
    *,
    principal: str | None,
    operation: AclOperation | None,
    topic: str | None,
    group: str | None,
    notes: list[str],
) -> tuple[AccessCheck, ...]:
    if principal is None:
        return ()
    if topic is not None:
        kind, name, default = AclResourceType.TOPIC, topic, AclOperation.WRITE
    else:
        assert group is not None
        kind, name, default = AclResourceType.GROUP, group, AclOperation.READ
    try:
        check = await read_access(
            env, principal=principal, operation=operation or default, kind=kind, name=name
        )
        return (check,)
    except ToolFailedError as error:
        notes.append(str(error))
        return ()


async def _lag_or_note(env: ToolEnv, read: Awaitable[LagReport], notes: list[str]) -> LagReport:
    """Lag is one fact among several: when Kafka cannot give it (a partition without a
    leader fails ListOffsets), the diagnosis goes on from metadata and says what is missing."""
    try:
        return await read
    except NotFoundError:
        raise
    except KafkaPortError as error:
        notes.append(f"consumer lag could not be read: {error.message}")
        return LagReport(observed_at=env.now())


async def _lag_for_topic(env: ToolEnv, topic: str) -> LagReport:
    """The topic's consumers in scope and their lag, each described."""
    return await visible_consumers(env, topic)


async def _metadata(
    env: ToolEnv, topics: list[str]
) -> tuple[list[TopicInfo], dict[str, TopicConfigs], ClusterOverview]:
    """Topics, their configs and the brokers, read together; the overview's time stamps them."""
    kafka = env.services.kafka
    if not topics:
        return [], {}, await kafka.cluster_overview()
    infos, configs, overview = await asyncio.gather(
        kafka.describe_topics(topics), kafka.topic_configs(topics), kafka.cluster_overview()
    )
    return infos, {c.topic: c for c in configs}, overview


async def _reassignments(
    env: ToolEnv, topics: list[str], notes: list[str]
) -> ReassignmentReport | None:
    """Replica moves are one fact among several: a broker that cannot list them (one
    without ListPartitionReassignments) leaves a note, not a failed diagnosis."""
    if not topics:
        return None
    try:
        return await env.services.kafka.reassignments(topics)
    except KafkaPortError as error:
        notes.append(f"reassignments in progress could not be read: {error.message}")
        return None


async def _connect(env: ToolEnv, groups: list[str], notes: list[str]) -> ConnectReport | None:
    """Connect is read when a considered group is a Connect sink's (``connect-*``)."""
    if not any(g.startswith("connect-") for g in groups):
        return None
    if env.services.connect is None:
        notes.append(
            "Kafka Connect was not checked: no Connect URL is configured (connectUrl or "
            "--connect-url)"
        )
        return None
    try:
        report = await env.services.connect.connectors()
    except ConnectError as error:
        notes.append(str(error))
        return None
    shown = [c for c in report.connectors if c.group in groups and visible(c, env.scope)]
    return report.model_copy(update={"connectors": shown})


async def _schemas(env: ToolEnv, topics: list[str], notes: list[str]) -> dict[str, SchemaHistory]:
    registry = env.services.schemas
    if registry is None or not topics:
        return {}
    found = {}
    for topic in topics[:MAX_TOPICS_FOR_SCHEMAS]:
        try:
            found[topic] = await registry.history(topic, env.now())
        except SchemaRegistryError as error:
            notes.append(f"schema history could not be read: {error}")
            break
    return found


async def _workloads(
    env: ToolEnv, report: LagReport, notes: list[str]
) -> dict[str, list[Workload]]:
    if env.services.kube is None:
        notes.append("recent deployments were not checked: no Kubernetes API is configured")
        return {}
    lagging = sorted(report.groups, key=lambda g: -g.total_lag)[:MAX_GROUPS_FOR_DEPLOYMENTS]
    found: dict[str, list[Workload]] = {}
    for row in lagging:
        if row.total_lag <= 0:
            continue
        try:
            workloads, _ = await workloads_for_group(env, env.services.kube, row.group)
        except KubeError as error:
            notes.append(f"recent deployments of {row.group} could not be read: {error}")
            continue
        found[row.group] = workloads
    return found


def _facts(
    env: ToolEnv,
    *,
    infos: list[TopicInfo],
    configs: dict[str, TopicConfigs],
    overview: ClusterOverview,
    report: LagReport,
    groups: list[str],
    workloads: dict[str, list[Workload]],
    reassignments: ReassignmentReport | None,
    connect: ConnectReport | None,
    metrics: dict[MetricFamily, MetricRange],
    schemas: dict[str, SchemaHistory],
) -> Facts:
    now = env.now()
    thresholds = env.services.thresholds
    sampler = env.services.sampler
    history_since = now - timedelta(minutes=thresholds.rollout_window_minutes)
    storm_since = now - timedelta(minutes=thresholds.storm_window_minutes)
    return Facts(
        cluster=env.services.cluster.name,
        now=now,
        topics=infos,
        topics_observed_at=overview.observed_at,
        brokers=[b.id for b in overview.brokers],
        configs=configs,
        lag=report,
        history={g: sampler.samples(g, history_since) for g in groups},
        rebalances={g: sampler.rebalances(g, storm_since) for g in groups},
        workloads=workloads,
        runbooks=_runbook_refs(env),
        thresholds=thresholds,
        ownership=env.services.cluster.ownership,
        reassignments=reassignments,
        connect=connect,
        metrics=metrics,
        incidents=env.services.incidents,
        schemas=schemas,
    )


def _runbook_refs(env: ToolEnv) -> dict[FindingKind, RunbookRef]:
    refs = {}
    for kind, (slug, section) in RUNBOOK_SECTIONS.items():
        book = env.services.runbooks.get(slug)
        if book is not None and book.section(section) is not None:
            refs[kind] = RunbookRef(runbook=slug, section=section, title=book.title)
    return refs
