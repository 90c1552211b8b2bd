"""Detectors on consumers over time: idle, stuck or slow groups, storms, bad rollouts."""

from datetime import datetime, timedelta

from kcr.kafka import GroupLag
from kcr.mcp.diagnosis.findings import (
    Facts,
    Finding,
    FindingKind,
    Severity,
    consumer_score,
    group_rows,
    lag_evidence,
)
from kcr.mcp.sampler import GroupSample
from kcr.model import Evidence, EvidenceKind, TimeWindow


def _sampled(group: str, what: str, value: str, start: datetime, end: datetime) -> Evidence:
    """A claim from the sampler's history: it holds over the samples from ``start`` to ``end``."""
    return Evidence(
        kind=EvidenceKind.CONSUMER_GROUP,
        source="kcr-mcp group sampler",
        query=f"{what} {group}",
        observed_value=value[:4096],
        time_window=TimeWindow(start=start, end=end),
        captured_at=end,
    )


def idle_stuck_or_slow(facts: Facts) -> list[Finding]:
    findings = []
    for row in group_rows(facts):
        if row.total_lag <= 0:
            continue
        assert facts.lag is not None
        lag = lag_evidence(
            facts, facts.lag, f"consumer_lag group={row.group}", f"total lag {row.total_lag}"
        )
        samples = facts.history.get(row.group, [])
        members = (
            row.members if row.members is not None else (samples[-1].members if samples else None)
        )
        if members == 0:
            findings.append(
                Finding(
                    kind=FindingKind.NO_ACTIVE_CONSUMER,
                    severity=Severity.MEDIUM,
                    score=consumer_score(55.0, row.total_lag),
                    subject=f"group/{row.group}",
                    group=row.group,
                    summary=(
                        f"group {row.group} has {row.total_lag} unread records and no active "
                        f"member (state {row.state}): nothing is consuming"
                    ),
                    evidence=[lag],
                )
            )
            continue
        finding = _stuck_or_slow(facts, row, samples, lag)
        if finding is not None:
            findings.append(finding)
    return findings


def _stuck_or_slow(
    facts: Facts, row: GroupLag, samples: list[GroupSample], lag: Evidence
) -> Finding | None:
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    span = (last.at - first.at).total_seconds()
    trend = (
        f"{len(samples)} samples over {span:.0f}s: committed {first.committed_total} → "
        f"{last.committed_total}, lag {first.total_lag} → {last.total_lag}"
    )
    history = _sampled(row.group, "recent samples of", trend, first.at, last.at)
    if (
        last.committed_total == first.committed_total
        and span >= facts.thresholds.stuck_after_seconds
    ):
        return Finding(
            kind=FindingKind.STUCK_CONSUMER,
            severity=Severity.HIGH,
            score=consumer_score(64.0, row.total_lag, extra=min(4.0, span / 900)),
            subject=f"group/{row.group}",
            group=row.group,
            summary=(
                f"group {row.group} has members but its committed offsets have not moved for "
                f"{span:.0f}s while {row.total_lag} records wait: the consumers are stuck"
            ),
            evidence=[lag, history],
        )
    if last.total_lag > first.total_lag:
        return Finding(
            kind=FindingKind.SLOW_CONSUMER,
            severity=Severity.MEDIUM,
            score=consumer_score(48.0, last.total_lag - first.total_lag),
            subject=f"group/{row.group}",
            group=row.group,
            summary=(
                f"group {row.group} consumes, but slower than producers write: lag grew from "
                f"{first.total_lag} to {last.total_lag} in {span:.0f}s"
            ),
            evidence=[lag, history],
        )
    return None


def rebalance_storms(facts: Facts) -> list[Finding]:
    findings = []
    window = timedelta(minutes=facts.thresholds.storm_window_minutes)
    for group, events in sorted(facts.rebalances.items()):
        recent = [e for e in events if e.at >= facts.now - window]
        if len(recent) < facts.thresholds.storm_rebalances:
            continue
        listed = "; ".join(f"{e.at.isoformat()}: {', '.join(e.reasons)}" for e in recent[-10:])
        row = facts.lag.group(group) if facts.lag else None
        findings.append(
            Finding(
                kind=FindingKind.REBALANCE_STORM,
                severity=Severity.HIGH,
                score=consumer_score(
                    58.0, row.total_lag if row else 0, extra=min(8.0, float(len(recent)))
                ),
                subject=f"group/{group}",
                group=group,
                summary=(
                    f"group {group} rebalanced {len(recent)} times in the last "
                    f"{facts.thresholds.storm_window_minutes} minutes: it hardly consumes"
                ),
                evidence=[_sampled(group, "rebalances of", listed, facts.now - window, facts.now)],
            )
        )
    return findings


def lag_after_rollout(facts: Facts) -> list[Finding]:
    findings = []
    window = timedelta(minutes=facts.thresholds.rollout_window_minutes)
    for row in group_rows(facts):
        if row.total_lag <= 0:
            continue
        for workload in facts.workloads.get(row.group, []):
            rollout = next(iter(workload.rollouts), None)
            if rollout is None or rollout.at is None or rollout.at < facts.now - window:
                continue
            samples = facts.history.get(row.group, [])
            before = [s for s in samples if s.at <= rollout.at]
            grew = bool(before) and row.total_lag > before[-1].total_lag
            if before and not grew:
                continue
            minutes = (facts.now - rollout.at).total_seconds() / 60
            change = ", ".join(rollout.changed_images) or ", ".join(rollout.images) or "unknown"
            summary = (
                f"lag of group {row.group} grew from {before[-1].total_lag} to {row.total_lag} "
                f"after {workload.namespace}/{workload.name} rolled out revision "
                f"{rollout.revision} {minutes:.0f} min ago ({change})"
                if grew
                else f"group {row.group} has lag {row.total_lag} and {workload.namespace}/"
                f"{workload.name} rolled out revision {rollout.revision} {minutes:.0f} min ago "
                f"({change}); no sample from before the rollout to compare"
            )
            evidence = [
                Evidence(
                    kind=EvidenceKind.DEPLOYMENT,
                    source=f"kubernetes: deployments/{workload.namespace}/{workload.name}"[:256],
                    query=f"recent_deployments group={row.group}",
                    observed_value=(
                        f"revision {rollout.revision} at {rollout.at.isoformat()}, images "
                        f"{rollout.images}, previously {rollout.previous_images}"
                    )[:4096],
                    time_window=TimeWindow(start=facts.now - window, end=facts.now),
                    captured_at=facts.now,
                )
            ]
            if grew:
                evidence.append(
                    _sampled(
                        row.group,
                        "lag before the rollout of",
                        f"lag {before[-1].total_lag} at {before[-1].at.isoformat()}",
                        before[-1].at,
                        before[-1].at,
                    )
                )
            findings.append(
                Finding(
                    kind=FindingKind.LAG_AFTER_ROLLOUT,
                    severity=Severity.HIGH if grew else Severity.MEDIUM,
                    score=consumer_score(62.0, row.total_lag - before[-1].total_lag)
                    if grew
                    else consumer_score(56.0, row.total_lag),
                    subject=f"group/{row.group}",
                    group=row.group,
                    summary=summary,
                    evidence=evidence,
                )
            )
    return findings
