"""Ranking: every detector's findings, most urgent first, each with its runbook."""

from kcr.mcp.cluster import OwnerInfo
from kcr.mcp.diagnosis.access import access_denied
from kcr.mcp.diagnosis.connectors import failed_sink_tasks
from kcr.mcp.diagnosis.consumers import (
    idle_stuck_or_slow,
    lag_after_rollout,
    rebalance_storms,
)
from kcr.mcp.diagnosis.findings import Facts, Finding
from kcr.mcp.diagnosis.lag import hot_partitions, lag_beyond_retention
from kcr.mcp.diagnosis.metrics import broker_metric_findings
from kcr.mcp.diagnosis.moves import reassignments_in_progress
from kcr.mcp.diagnosis.partitions import hot_partitions_by_size
from kcr.mcp.diagnosis.quotas import quota_pressure
from kcr.mcp.diagnosis.replication import leader_skew, offline_partitions, under_replicated
from kcr.mcp.diagnosis.schemas import schema_changed, schema_incompatible
from kcr.mcp.diagnosis.strimzi import strimzi_drift
from kcr.policy.ownership import owner_of_group, owner_of_topic


def diagnose(facts: Facts) -> list[Finding]:
    found = [
        *offline_partitions(facts),
        *access_denied(facts),
        *schema_incompatible(facts),
        *under_replicated(facts),
        *reassignments_in_progress(facts),
        *strimzi_drift(facts),
        *broker_metric_findings(facts),
        *quota_pressure(facts),
        *schema_changed(facts),
        *lag_beyond_retention(facts),
        *failed_sink_tasks(facts),
        *hot_partitions(facts),
        *hot_partitions_by_size(facts),
        *idle_stuck_or_slow(facts),
        *rebalance_storms(facts),
        *lag_after_rollout(facts),
        *leader_skew(facts),
    ]
    found = _merged(found)
    found.sort(key=lambda f: (-f.score, f.kind.value, f.subject))
    return [
        f.model_copy(
            update={
                "rank": index + 1,
                "runbook": facts.runbooks.get(f.kind),
                "owner": _owner(facts, f),
                "past_incidents": facts.incidents.like(f.kind.value, f.topic or _topic(f)),
            }
        )
        for index, f in enumerate(found)
    ]


def _merged(found: list[Finding]) -> list[Finding]:
    """One finding per kind and subject (a partition hot by its lag and by its bytes): the
    higher-scored one's words, with the evidence of both."""
    kept: dict[tuple[str, str], Finding] = {}
    for finding in found:
        key = (finding.kind.value, finding.subject)
        other = kept.get(key)
        if other is None:
            kept[key] = finding
            continue
        first, second = (other, finding) if other.score >= finding.score else (finding, other)
        kept[key] = first.model_copy(update={"evidence": [*first.evidence, *second.evidence]})
    return list(kept.values())


def _topic(finding: Finding) -> str | None:
    """A finding about a partition (``topic/partition``) is about its topic too."""
    head, _, partition = finding.subject.rpartition("/")
    return head if head and partition.isdigit() else None


def _owner(facts: Facts, finding: Finding) -> OwnerInfo | None:
    """The group's team first (they run the consumers), else the topic's."""
    owner = None
    if finding.group is not None:
        owner = owner_of_group(facts.ownership, finding.group)
    if owner is None and finding.topic is not None:
        owner = owner_of_topic(facts.ownership, finding.topic)
    return OwnerInfo.of(owner)
