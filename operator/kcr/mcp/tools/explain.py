"""``explain_current_state``: gather the facts about a topic or group, then diagnose.

The gathering is I/O (Kafka, the sampler, Kubernetes); the ranking is the pure engine in
:mod:`kcr.mcp.diagnosis`. Every finding carries its evidence and the runbook to read.
"""

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta

from pydantic import Field

from kcr.kafka import (
    ClusterOverview,
    KafkaPortError,
    LagReport,
    NotFoundError,
    TopicConfigs,
    TopicInfo,
)
from kcr.kube.errors import KubeError
from kcr.mcp.calls import ToolInvalidError
from kcr.mcp.cluster import OwnerInfo
from kcr.mcp.diagnosis import RUNBOOK_SECTIONS, Facts, Finding, FindingKind, RunbookRef, diagnose
from kcr.mcp.evidence import group_subject, topic_subject
from kcr.mcp.tools.deployments import workloads_for_group
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.groups import scoped_report, visible_consumers
from kcr.mcp.workloads import Workload
from kcr.model.base import KubeModel
from kcr.model.names import GroupId, TopicName

MAX_GROUPS_FOR_DEPLOYMENTS = 10


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
    env: ToolEnv, topic: TopicName | None = None, group: GroupId | None = None
) -> Diagnosis:
    """A ranked diagnosis of a topic or group: lag shape, consumers, rebalances, replication,
    retention and recent rollouts, every claim with its evidence and a runbook section."""
    if (topic is None) == (group is None):
        raise ToolInvalidError("give exactly one of topic or group")
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
    if groups:
        await env.services.sampler.sample(groups)
    workloads = await _workloads(env, report, notes)
    facts = _facts(
        env,
        infos=infos,
        configs=configs,
        overview=overview,
        report=report,
        groups=groups,
        workloads=workloads,
    )
    findings = diagnose(facts)
    env.remember(
        {topic_subject(t) for t in topics} | {group_subject(g) for g in groups},
        [e for f in findings for e in f.evidence],
    )
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
    )


def _runbook_refs(env: ToolEnv) -> dict[FindingKind, RunbookRef]:
    refs = {}
    for kind, (slug, section) in RUNBOOK_SECTIONS.items():
        book = env.services.runbooks.get(slug)
        if book is not None and book.section(section) is not None:
            refs[kind] = RunbookRef(runbook=slug, section=section, title=book.title)
    return refs
