"""Read tools about consumer groups: lag, one group in detail, and sampled rebalances."""

import asyncio
from datetime import datetime
from typing import Annotated

from pydantic import Field

from kcr.kafka import GroupMember, HotPartition, LagReport, TopicPartition
from kcr.mcp.cluster import OwnerInfo
from kcr.mcp.evidence import group_subject, topic_subject
from kcr.mcp.flat_schema import FlatSchema
from kcr.mcp.gate.identity import Scope
from kcr.mcp.paging import DEFAULT_LIMIT, Cursor, Limit, decode_position, page
from kcr.mcp.sampler import RebalanceEvent
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.tools.lag_rows import GroupRows, group_rows, page_rows
from kcr.model import Evidence, EvidenceKind, GroupState, TimeWindow
from kcr.model.base import KubeModel
from kcr.model.names import GroupId, TopicName


def scoped_report(report: LagReport, scope: Scope) -> LagReport:
    """Only groups and topics in scope; totals recomputed so nothing leaks through a sum."""
    if scope.unrestricted:
        return report
    groups = []
    for row in report.groups:
        if not scope.allows_group(row.group):
            continue
        topics = [t for t in row.topics if scope.allows_topic(t.topic)]
        groups.append(
            row.model_copy(update={"topics": topics, "total_lag": sum(t.total_lag for t in topics)})
        )
    hot = [
        h
        for h in report.hot_partitions
        if scope.allows_group(h.group) and scope.allows_topic(h.topic)
    ]
    return report.model_copy(
        update={
            "groups": groups,
            "hot_partitions": hot,
            "total_lag": sum(g.total_lag for g in groups),
            "partitions": sum(len(t.partitions) for g in groups for t in g.topics),
        }
    )


class LagResult(FlatSchema, KubeModel):
    groups: list[GroupRows]
    hot_partitions: list[HotPartition] = Field(description="Hottest first")
    total_lag: int
    partitions: int = Field(description="Partition rows returned")
    rows_truncated: bool = False
    total_groups: int = Field(description="Groups matching the query in your scope")
    next_cursor: str | None = None
    observed_at: datetime
    source: str


async def consumer_lag(
    env: ToolEnv,
    group: GroupId | None = None,
    topic: TopicName | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor | None = None,
) -> LagResult:
    """Per-partition lag of one group or all groups in scope, hot partitions flagged.
    All pages of one query come from a single read of every group's offsets, taken when
    the first page was asked for (``observedAt``)."""
    if topic is not None:
        env.require_topic(topic)
    key = f"consumer_lag|{group}|{topic}"
    if group is not None:
        names = [env.require_group(group)]
        chosen, following = page(names, cursor, limit, key)
        raw = await shared_lag(env, chosen, topic, describe=True)
        report = scoped_report(raw, env.scope)
    else:
        visible, snapshot = await paged_consumers(env, topic, cursor, limit, key)
        names = [g.group for g in visible.groups]
        chosen, following = page(names, cursor, limit, key, snapshot=snapshot)
        report = narrowed(visible, set(chosen))
    shown, truncated = page_rows([g for g in report.groups if g.topics or group is not None])
    result = LagResult(
        groups=shown,
        hot_partitions=report.hot_partitions,
        total_lag=sum(g.total_lag for g in shown),
        partitions=sum(len(t.partitions) for g in shown for t in g.topics),
        rows_truncated=truncated,
        total_groups=len(names),
        next_cursor=following,
        observed_at=report.observed_at,
        source=f"kafka/{env.services.cluster.name}: OffsetFetch + ListOffsets",
    )
    for row in shown:
        env.remember(
            {group_subject(row.group), *(topic_subject(t.topic) for t in row.topics)},
            [group_lag_evidence(env, report, row)],
        )
    return result


async def paged_consumers(
    env: ToolEnv, topic: str | None, cursor: str | None, limit: int, key: str
) -> tuple[LagReport, str | None]:
    """The read a page is cut from, and the snapshot id its next cursor carries: a first
    page reads (and keeps the read when more pages follow), a later page reuses it."""
    snapshots = env.services.lag_snapshots
    position = decode_position(cursor, key) if cursor is not None else None
    if position is not None and position.snapshot is not None:
        return snapshots.get(env.caller.principal, position.snapshot), position.snapshot
    visible = await visible_consumers(env, topic)
    if len(visible.groups) <= limit:
        return visible, None
    return visible, snapshots.put(env.caller.principal, visible, visible.partitions)


async def shared_lag(
    env: ToolEnv, names: list[str], topic: str | None, *, describe: bool
) -> LagReport:
    """The lag of ``names``, read once for every caller asking the same within a second."""
    kafka = env.services.kafka
    topics = [topic] if topic else None
    return await env.services.shared.get(
        ("lag_report", tuple(names), topic, describe),
        lambda: kafka.lag_report(names, topics=topics, describe_groups=describe),
    )


async def visible_consumers(env: ToolEnv, topic: str | None) -> LagReport:
    """Lag of the groups in scope with a commit on a topic in scope (on ``topic``, when
    given), each with its state and members: pages and totals count only groups the caller
    is shown a row of. Kafka keeps no index from topic to group, so finding them reads every
    group's offsets once, and that read is their lag. For one topic only the groups found
    are described, right after; for all topics, every group in scope is described during
    the read. Either way every page of a report shows one moment."""
    kafka = env.services.kafka
    listed = await env.services.shared.get(("list_consumer_groups",), kafka.list_consumer_groups)
    names = [g.group for g in listed if env.scope.allows_group(g.group)]
    if not names:
        return LagReport(observed_at=env.now())
    if topic is None:  # nearly every group has a commit: describe them during the read
        report = scoped_report(await shared_lag(env, names, None, describe=True), env.scope)
        return narrowed(report, {g.group for g in report.groups if g.topics})
    report = scoped_report(await shared_lag(env, names, topic, describe=False), env.scope)
    return await described(env, report, [g.group for g in report.groups if g.topics])


async def described(env: ToolEnv, report: LagReport, groups: list[str]) -> LagReport:
    """``report`` narrowed to ``groups``, each row with its state and members."""
    kafka = env.services.kafka
    descriptions = (
        await env.services.shared.get(
            ("describe_consumer_groups", tuple(groups)),
            lambda: kafka.describe_consumer_groups(groups),
        )
        if groups
        else []
    )
    wanted = set(groups)
    found = {d.group: d for d in descriptions}
    rows = [
        row.model_copy(update={"state": d.state, "members": len(d.members)})
        if (d := found.get(row.group)) is not None
        else row
        for row in report.groups
        if row.group in wanted
    ]
    return narrowed(report.model_copy(update={"groups": rows}), wanted)


def narrowed(report: LagReport, groups: set[str]) -> LagReport:
    """``report`` with only ``groups``, its totals recomputed."""
    rows = [row for row in report.groups if row.group in groups]
    return report.model_copy(
        update={
            "groups": rows,
            "hot_partitions": [h for h in report.hot_partitions if h.group in groups],
            "total_lag": sum(g.total_lag for g in rows),
            "partitions": sum(len(t.partitions) for g in rows for t in g.topics),
        }
    )


def group_lag_evidence(env: ToolEnv, report: LagReport, row: GroupRows) -> Evidence:
    parts = [
        f"{t.topic}/{p['partition']}={p['lag']}{' (hot)' if p['hot'] else ''}"
        for t in row.topics
        for p in t.partitions
        if p["lag"]
    ]
    value = f"group {row.group} ({row.state}): total lag {row.total_lag}; " + ", ".join(parts)
    return Evidence(
        kind=EvidenceKind.LAG,
        source=f"kafka/{env.services.cluster.name}: OffsetFetch + ListOffsets",
        query=f"consumer_lag group={row.group}",
        observed_value=value[:4096],
        time_window=TimeWindow.at(report.observed_at),
        captured_at=report.observed_at,
    )


class MemberInfo(KubeModel):
    member_id: str
    client_id: str
    host: str
    group_instance_id: str | None = None
    assignments: list[TopicPartition]
    hidden_assignments: int = Field(default=0, description="Partitions of topics outside scope")


class GroupDetail(FlatSchema, KubeModel):
    group: str
    exists: bool
    state: GroupState
    assignor: str | None
    coordinator: int | None
    generation: int | None
    members: list[MemberInfo]
    lag: GroupRows | None
    owner: OwnerInfo | None = None
    observed_at: datetime
    source: str


async def describe_consumer_group(env: ToolEnv, group: GroupId) -> GroupDetail:
    """State, members and their assignments, and the group's lag per partition."""
    env.require_group(group)
    kafka = env.services.kafka
    (described,), report = await asyncio.gather(
        kafka.describe_consumer_groups([group]), kafka.lag_report([group], describe_groups=False)
    )
    scoped = scoped_report(report, env.scope)
    lag = scoped.group(group)
    result = GroupDetail(
        group=group,
        exists=described.exists,
        state=described.state,
        assignor=described.assignor,
        coordinator=described.coordinator,
        generation=described.generation,
        members=[_member(m, env.scope) for m in described.members],
        lag=group_rows(
            lag.model_copy(update={"state": described.state, "members": len(described.members)})
        )
        if lag
        else None,
        owner=OwnerInfo.of(env.services.cluster.owner_of_group(group)),
        observed_at=described.observed_at,
        source=f"kafka/{env.services.cluster.name}: DescribeGroups + OffsetFetch + ListOffsets",
    )
    env.remember(
        {group_subject(group)},
        [
            Evidence(
                kind=EvidenceKind.CONSUMER_GROUP,
                source=result.source[:256],
                query=f"describe_consumer_group {group}",
                observed_value=(
                    f"group {group}: {result.state}, {len(result.members)} member(s), "
                    f"total lag {lag.total_lag if lag else 0}"
                ),
                time_window=TimeWindow.at(result.observed_at),
                captured_at=result.observed_at,
            )
        ],
    )
    return result


def _member(member: GroupMember, scope: Scope) -> MemberInfo:
    visible = [a for a in member.assignments if scope.allows_topic(a.topic)]
    return MemberInfo(
        member_id=member.member_id,
        client_id=member.client_id,
        host=member.host,
        group_instance_id=member.group_instance_id,
        assignments=visible,
        hidden_assignments=len(member.assignments) - len(visible),
    )


Minutes = Annotated[int, Field(ge=1, le=1440, description="How far back to look, in minutes")]


class GroupRebalances(KubeModel):
    group: str
    rebalances: int
    events: list[RebalanceEvent] = Field(description="Newest last")
    state: GroupState
    members: int
    samples: int
    sampled_since: datetime | None


class RebalancesResult(KubeModel):
    groups: list[GroupRebalances] = Field(description="This page's groups, most rebalances first")
    total_groups: int = Field(description="Groups matching the query in your scope")
    next_cursor: str | None = None
    window_minutes: int
    sampling_interval_seconds: float
    note: str
    observed_at: datetime


async def recent_rebalances(
    env: ToolEnv,
    group: GroupId | None = None,
    minutes: Minutes = 60,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor | None = None,
) -> RebalancesResult:
    """Rebalances seen by the server's sampler: generation, membership and state changes.
    Groups are paged by id; each page samples only its own groups."""
    sampler = env.services.sampler
    if group is not None:
        names = [env.require_group(group)]
    else:
        listed = await env.services.kafka.list_consumer_groups()
        names = [g.group for g in listed if env.scope.allows_group(g.group)]
    chosen, following = page(names, cursor, limit, f"recent_rebalances|{group}|{minutes}")
    await sampler.sample(chosen)
    since = sampler.window(minutes)
    rows = []
    for name in chosen:
        samples = sampler.samples(name)
        if not samples:
            continue
        events = sampler.rebalances(name, since)
        rows.append(
            GroupRebalances(
                group=name,
                rebalances=len(events),
                events=events[-50:],
                state=samples[-1].state,
                members=samples[-1].members,
                samples=len(samples),
                sampled_since=samples[0].at,
            )
        )
    rows.sort(key=lambda r: (-r.rebalances, r.group))
    return RebalancesResult(
        groups=rows,
        total_groups=len(names),
        next_cursor=following,
        window_minutes=minutes,
        sampling_interval_seconds=sampler.interval,
        note=(
            "rebalances are inferred from samples of group state, generation and membership; "
            "changes between two samples count once"
        ),
        observed_at=env.now(),
    )
