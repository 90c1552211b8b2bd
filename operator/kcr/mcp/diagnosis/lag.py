"""Detectors on lag: data lost or about to be lost to retention, and hot partitions."""

import math

from kcr.kafka import GroupLag
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.mcp.diagnosis.findings import (
    Facts,
    Finding,
    FindingKind,
    Proposal,
    Severity,
    consumer_score,
    group_rows,
    lag_evidence,
    source,
)
from kcr.mcp.sampler import GroupSample
from kcr.model import Change, Evidence, EvidenceKind, TimeWindow

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
RETENTION_FACTOR = 4
"""A retention raised for lag keeps at least four times today's, and twice the lag's age."""


def lag_beyond_retention(facts: Facts) -> list[Finding]:
    findings = []
    for row in group_rows(facts):
        assert facts.lag is not None
        lost = [
            p
            for t in row.topics
            for p in t.partitions
            if p.committed is not None and 0 <= p.committed < p.log_start
        ]
        if lost:
            deleted = sum(p.log_start - (p.committed or 0) for p in lost)
            listed = ", ".join(
                f"{p.topic}/{p.partition} committed {p.committed} < log start {p.log_start}"
                for p in lost[:20]
            )
            findings.append(
                Finding(
                    kind=FindingKind.LAG_BEYOND_RETENTION,
                    severity=Severity.CRITICAL,
                    score=round(95.0 + min(4.0, math.log10(1 + deleted)), 2),
                    subject=f"group/{row.group}",
                    group=row.group,
                    summary=(
                        f"group {row.group} lags behind retention: {deleted} record(s) were "
                        "deleted before it read them"
                    ),
                    evidence=[
                        lag_evidence(facts, facts.lag, f"consumer_lag group={row.group}", listed)
                    ],
                    proposal=_keep_longer(facts, sorted({p.topic for p in lost}), age_ms=0.0),
                )
            )
            continue
        risk = _retention_risk(facts, row)
        if risk is not None:
            findings.append(risk)
    return findings


def _rate(samples: list[GroupSample], attribute: str) -> float | None:
    """Per second, between the first and last sample; None without two samples apart in time."""
    if len(samples) < 2:
        return None
    seconds = (samples[-1].at - samples[0].at).total_seconds()
    if seconds <= 0:
        return None
    return float(getattr(samples[-1], attribute) - getattr(samples[0], attribute)) / seconds


def _duration(milliseconds: float) -> str:
    """Seconds, minutes, hours or days, whichever reads naturally, as people say retention."""
    minutes = milliseconds / 60_000
    if minutes < 2:
        return f"{milliseconds / 1000:.0f} s"
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


def _retention_risk(facts: Facts, row: GroupLag) -> Finding | None:
    """Age of the lag ≈ lag ÷ production rate; at risk when it nears ``retention.ms``."""
    samples = facts.history.get(row.group, [])
    produced = _rate(samples, "log_end_total")
    if row.total_lag <= 0 or produced is None or produced <= 0:
        return None
    retention = _shortest_retention(facts, [t.topic for t in row.topics if t.total_lag > 0])
    if retention is None:
        return None
    topic, retention_ms, config_source = retention
    age_ms = row.total_lag / produced * 1000
    if age_ms < facts.thresholds.retention_risk_fraction * retention_ms:
        return None
    assert facts.lag is not None
    beyond = age_ms / retention_ms - facts.thresholds.retention_risk_fraction
    return Finding(
        kind=FindingKind.LAG_BEYOND_RETENTION,
        severity=Severity.HIGH,
        score=round(85.0 + min(9.0, 10.0 * beyond), 2),
        subject=f"group/{row.group}",
        group=row.group,
        topic=topic,
        summary=(
            f"group {row.group}'s lag is about {_duration(age_ms)} old at the current "
            f"production rate, {'past' if age_ms >= retention_ms else 'close to'} {topic}'s "
            f"retention of {_duration(retention_ms)}: data will be deleted before it is read"
        ),
        evidence=[
            lag_evidence(
                facts, facts.lag, f"consumer_lag group={row.group}", f"total lag {row.total_lag}"
            ),
            Evidence(
                kind=EvidenceKind.CONSUMER_GROUP,
                source="kcr-mcp group sampler",
                query=f"recent samples of {row.group}",
                observed_value=(
                    f"production rate {produced:.2f} records/s over {len(samples)} samples"
                ),
                time_window=TimeWindow(start=samples[0].at, end=samples[-1].at),
                captured_at=samples[-1].at,
            ),
            Evidence(
                kind=EvidenceKind.CONFIG,
                source=source(facts, "DescribeConfigs"),
                query=f"describe_topic {topic}",
                observed_value=f"retention.ms={retention_ms} ({config_source})",
                time_window=TimeWindow.at(facts.topics_observed_at),
                captured_at=facts.topics_observed_at,
            ),
        ],
        proposal=_keep_longer(facts, [topic], age_ms=age_ms),
    )


def _keep_longer(facts: Facts, topics: list[str], age_ms: float) -> Proposal | None:
    """Raise the shortest retention among ``topics`` so the unread records outlive the lag:
    reversible, deletes nothing, and bounded to what the lag needs."""
    found = _shortest_retention(facts, topics)
    if found is None:
        return None
    topic, retention_ms, _ = found
    wanted = max(RETENTION_FACTOR * retention_ms, 2 * age_ms, DAY_MS)
    target = int(math.ceil(wanted / HOUR_MS) * HOUR_MS)
    return Proposal(
        change=Change.of(AlterTopicConfig(topics=[topic], set={"retention.ms": str(target)})),
        reason=(
            f"keep {topic}'s records {_duration(target)} instead of {_duration(retention_ms)} "
            "so the lagging group reads them before the broker deletes them"
        ),
    )


def _shortest_retention(facts: Facts, topics: list[str]) -> tuple[str, int, str] | None:
    found = []
    for topic in topics:
        configs = facts.configs.get(topic)
        if configs is not None and not _deletes(configs.configs.get("cleanup.policy")):
            continue
        entry = configs.configs.get("retention.ms") if configs else None
        if entry is None or entry.value is None:
            continue
        try:
            value = int(entry.value)
        except ValueError:
            continue
        if value > 0:
            found.append((topic, value, entry.source.value))
    return min(found, key=lambda f: f[1]) if found else None


def _deletes(policy: object) -> bool:
    """retention.ms deletes records only where cleanup.policy has ``delete``; a compacted
    topic keeps each key's latest record whatever its age."""
    value = getattr(policy, "value", None)
    return value is None or "delete" in str(value).split(",")


def hot_partitions(facts: Facts) -> list[Finding]:
    if facts.lag is None:
        return []
    findings = []
    for hot in facts.lag.hot_partitions:
        row = facts.lag.group(hot.group)
        topic = next((t for t in row.topics if t.topic == hot.topic), None) if row else None
        total = topic.total_lag if topic else hot.lag
        share = hot.lag / total if total else 1.0
        findings.append(
            Finding(
                kind=FindingKind.HOT_PARTITION,
                severity=Severity.HIGH,
                score=consumer_score(62.0, hot.lag, extra=2.0 * share),
                subject=f"{hot.topic}/{hot.partition}",
                topic=hot.topic,
                summary=(
                    f"partition {hot.topic}/{hot.partition} holds {hot.lag} of the {total} "
                    f"unread records of group {hot.group} (its siblings average "
                    f"{hot.siblings_mean_lag:.1f}): a hot partition, usually skewed keys"
                ),
                evidence=[
                    lag_evidence(
                        facts,
                        facts.lag,
                        f"consumer_lag group={hot.group} topic={hot.topic}",
                        f"{hot.topic}/{hot.partition} lag {hot.lag}; siblings' mean lag "
                        f"{hot.siblings_mean_lag:.1f}; rule: at least "
                        f"{facts.lag.rule.factor}x the siblings and {facts.lag.rule.min_lag}",
                    )
                ],
            )
        )
    return findings
