"""Health verdicts and consumer positions from read-model values: pure, each with the
numbers it rests on."""

from collections.abc import Mapping
from datetime import datetime

from kcr.kafka.readmodel import GroupDescription, LagReport, TopicConfigs, TopicInfo
from kcr.kafka.results import Measurement, ProbeKind, ProbeVerdict
from kcr.model import ConsumerPositions, GroupPosition, GroupState

DEFAULT_MIN_INSYNC = 1
ASSUMED_MIN_INSYNC = f"broker default assumed {DEFAULT_MIN_INSYNC}"
MAX_NAMED = 5


def named(items: list[str]) -> str:
    """The first few items, and how many more."""
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _scope(topics: list[TopicInfo], whole_cluster: bool) -> str:
    return "the cluster" if whole_cluster else f"{len(topics)} topic(s)"


def offline_verdict(topics: list[TopicInfo], now: datetime, *, whole_cluster: bool) -> ProbeVerdict:
    offline = [f"{t.name}/{p.partition}" for t in topics for p in t.partitions if p.offline]
    measurement = Measurement(
        subject="offlinePartitions", value=len(offline), limit=0, passed=not offline
    )
    message = (
        f"no offline partitions in {_scope(topics, whole_cluster)}"
        if not offline
        else f"{len(offline)} partition(s) have no leader: {named(offline)}"
    )
    return ProbeVerdict(
        probe=ProbeKind.OFFLINE_PARTITIONS,
        passed=not offline,
        message=message,
        observed_at=now,
        measurements=[measurement],
    )


def under_replicated_verdict(
    topics: list[TopicInfo], baseline: int | None, now: datetime, *, whole_cluster: bool
) -> ProbeVerdict:
    urp = [f"{t.name}/{p.partition}" for t in topics for p in t.partitions if p.under_replicated]
    limit = baseline or 0
    passed = len(urp) <= limit
    measurement = Measurement(
        subject="underReplicatedPartitions", value=len(urp), limit=limit, passed=passed
    )
    if passed:
        message = (
            f"{len(urp)} under-replicated partition(s) in {_scope(topics, whole_cluster)}, "
            f"not above {limit}"
        )
    else:
        message = (
            f"{len(urp)} under-replicated partition(s), above the limit of {limit}: {named(urp)}"
        )
    return ProbeVerdict(
        probe=ProbeKind.UNDER_REPLICATED,
        passed=passed,
        message=message,
        observed_at=now,
        measurements=[measurement],
    )


def min_insync_verdict(
    topics: list[TopicInfo], configs: Mapping[str, TopicConfigs], now: datetime
) -> ProbeVerdict:
    """Per topic: the smallest ISR of any partition against min.insync.replicas."""
    measurements = []
    short = []
    assumed = []
    for topic in topics:
        limit, source = _min_insync(configs.get(topic.name))
        if source is None:
            assumed.append(topic.name)
        smallest = min((len(p.isr) for p in topic.partitions), default=0)
        passed = smallest >= limit
        measurements.append(
            Measurement(
                subject=topic.name,
                value=smallest,
                limit=limit,
                limit_source=source or ASSUMED_MIN_INSYNC,
                passed=passed,
            )
        )
        if not passed:
            short += [
                f"{topic.name}/{p.partition} (ISR {len(p.isr)} < {limit})"
                for p in topic.partitions
                if len(p.isr) < limit
            ]
    passed = not short
    message = (
        f"every partition of {len(topics)} topic(s) has at least min.insync.replicas in sync"
        if passed
        else f"{len(short)} partition(s) below min.insync.replicas: {named(short)}"
    )
    if assumed:
        message += f"; {ASSUMED_MIN_INSYNC} for {named(assumed)}, whose configuration lacks it"
    return ProbeVerdict(
        probe=ProbeKind.MIN_INSYNC,
        passed=passed,
        message=message,
        observed_at=now,
        measurements=measurements,
    )


def _min_insync(configs: TopicConfigs | None) -> tuple[int, str | None]:
    """The topic's min.insync.replicas and its source; no source when it was not reported."""
    entry = configs.configs.get("min.insync.replicas") if configs else None
    if entry is None or entry.value is None or not entry.value.isdigit():
        return DEFAULT_MIN_INSYNC, None
    return int(entry.value), f"topic config ({entry.source.value})"


def group_state_verdict(
    groups: list[GroupDescription],
    allowed: tuple[GroupState, ...],
    max_members: int | None,
    now: datetime,
) -> ProbeVerdict:
    measurements = []
    problems = []
    for group in groups:
        members = len(group.members)
        state_ok = group.state in allowed
        hidden = max_members == 0 and group.active and not group.members
        members_ok = max_members is None or (members <= max_members and not hidden)
        measurements.append(
            Measurement(
                subject=group.group,
                value=members,
                limit=max_members,
                passed=state_ok and members_ok,
            )
        )
        if not state_ok:
            problems.append(f"{group.group} is {group.state.value}")
        elif hidden:
            problems.append(
                f"{group.group} is {group.state.value}, so it has active members although the "
                "broker lists none"
            )
        elif not members_ok:
            problems.append(f"{group.group} has {members} member(s), more than {max_members}")
    wanted = "/".join(s.value for s in allowed)
    message = (
        f"{len(groups)} group(s) {wanted}"
        + (f" with at most {max_members} member(s)" if max_members is not None else "")
        if not problems
        else "; ".join(problems)
    )
    return ProbeVerdict(
        probe=ProbeKind.GROUP_STATE,
        passed=not problems,
        message=message,
        observed_at=now,
        measurements=measurements,
    )


def positions(report: LagReport, groups: list[str]) -> ConsumerPositions:
    """Each group's committed and log-end offsets summed over its committed partitions.

    A group without a commit is left out rather than given a made-up 0: a later reading
    would take its first commit for records read.
    """
    found = []
    for name in groups:
        group = report.group(name)
        rows = (
            [p for t in group.topics for p in t.partitions if p.committed is not None]
            if group
            else []
        )
        if rows:
            found.append(
                GroupPosition(
                    group=name,
                    committed=sum(max(0, p.committed or 0) for p in rows),
                    log_end=sum(p.log_end for p in rows),
                    partitions=len(rows),
                )
            )
    return ConsumerPositions(observed_at=report.observed_at, groups=found)
