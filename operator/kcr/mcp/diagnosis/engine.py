"""Ranking: every detector's findings, most urgent first, each with its runbook."""

from kcr.mcp.diagnosis.consumers import (
    idle_stuck_or_slow,
    lag_after_rollout,
    rebalance_storms,
)
from kcr.mcp.diagnosis.findings import Facts, Finding
from kcr.mcp.diagnosis.lag import hot_partitions, lag_beyond_retention
from kcr.mcp.diagnosis.replication import leader_skew, offline_partitions, under_replicated


def diagnose(facts: Facts) -> list[Finding]:
    found = [
        *offline_partitions(facts),
        *under_replicated(facts),
        *lag_beyond_retention(facts),
        *hot_partitions(facts),
        *idle_stuck_or_slow(facts),
        *rebalance_storms(facts),
        *lag_after_rollout(facts),
        *leader_skew(facts),
    ]
    found.sort(key=lambda f: (-f.score, f.kind.value, f.subject))
    return [
        f.model_copy(update={"rank": index + 1, "runbook": facts.runbooks.get(f.kind)})
        for index, f in enumerate(found)
    ]
