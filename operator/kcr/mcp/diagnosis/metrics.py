"""Detectors on broker metrics from Prometheus, one table: a throughput spike, one broker
slower than the rest, and a log dir filesystem filling up (quota pressure, which proposes a
change, is :mod:`kcr.mcp.diagnosis.quotas`).

Each rule compares values inside the window it cites: a spike is the recent rate against the
window's earlier baseline while consumers lag; a slow broker is one whose p99 latency is
several times the others' median; disk pressure is a log dir filesystem whose latest used
fraction is at or above the threshold. A rule names its outliers and the series each claim
rests on; the finding is built the same way for all.
"""

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from kcr.mcp.broker_metrics import MetricFamily, MetricRange, metric_evidence, summary
from kcr.mcp.diagnosis.findings import Facts, Finding, FindingKind, Severity, group_rows

SPIKE_FACTOR = 3.0
SPIKE_FLOOR_BYTES = 10_240.0
SLOW_FACTOR = 3.0
SLOW_FLOOR_MS = 50.0


@dataclass(frozen=True)
class Outlier:
    subject: str
    summary: str
    shown: MetricRange
    """The series the claim rests on, cited as its evidence."""
    topic: str | None = None


@dataclass(frozen=True)
class MetricRule:
    families: tuple[MetricFamily, ...]
    kind: FindingKind
    severity: Severity
    score: float
    outliers: Callable[[Facts, MetricRange], list[Outlier]]


def _of_topic(reading: MetricRange, topic: str) -> MetricRange:
    kept = [s for s in reading.series if s.labels.get("topic") == topic]
    return reading.model_copy(update={"series": kept})


def _spikes(facts: Facts, reading: MetricRange) -> list[Outlier]:
    lagging = {t.topic for row in group_rows(facts) for t in row.topics if t.total_lag > 0}
    found = []
    for series in reading.series:
        topic = series.labels.get("topic", "")
        values = series.values
        if topic not in lagging or len(values) < 6:
            continue
        split = len(values) * 2 // 3
        baseline = statistics.median(values[:split])
        recent = max(values[split:])
        if recent < max(SPIKE_FACTOR * baseline, SPIKE_FLOOR_BYTES):
            continue
        found.append(
            Outlier(
                subject=f"topic/{topic}",
                topic=topic,
                summary=(
                    f"producers to {topic} wrote {recent:,.0f} bytes/s at the peak, against a "
                    f"baseline of {baseline:,.0f} bytes/s earlier in the window, while its "
                    "consumers lag: the lag may be the spike, not a slower consumer"
                ),
                shown=_of_topic(reading, topic),
            )
        )
    return found


def _slowest(facts: Facts, reading: MetricRange) -> list[Outlier]:
    latest = {s.labels.get("broker", "?"): s.values[-1] for s in reading.series if s.values}
    if len(latest) < 3:
        return []
    slowest = max(latest, key=lambda b: latest[b])
    others = statistics.median(v for b, v in latest.items() if b != slowest)
    if latest[slowest] < max(SLOW_FACTOR * others, SLOW_FLOOR_MS):
        return []
    what = "produce" if reading.family is MetricFamily.PRODUCE_LATENCY else "fetch"
    return [
        Outlier(
            subject=f"broker/{slowest}",
            summary=(
                f"broker {slowest} answers {what} requests in {latest[slowest]:,.0f} ms "
                f"(p99), the other brokers in {others:,.0f} ms: one slow broker holds back "
                "every client of the partitions it leads"
            ),
            shown=reading,
        )
    ]


def _full_disks(facts: Facts, reading: MetricRange) -> list[Outlier]:
    limit = facts.thresholds.disk_pressure_used_fraction
    found = []
    for series in reading.series:
        if not series.values or series.values[-1] < limit:
            continue
        broker = series.labels.get("broker", "?")
        mountpoint = series.labels.get("mountpoint", "?")
        found.append(
            Outlier(
                subject=f"broker/{broker}",
                summary=(
                    f"broker {broker}'s log dir filesystem ({mountpoint}) is "
                    f"{series.values[-1]:.1%} used, at or above the {limit:.1%} threshold: a "
                    "full disk takes the log directory offline and its replicas with it"
                ),
                shown=reading.model_copy(update={"series": [series]}),
            )
        )
    return found


RULES = (
    MetricRule(
        (MetricFamily.BYTES_IN,), FindingKind.THROUGHPUT_SPIKE, Severity.MEDIUM, 66.0, _spikes
    ),
    MetricRule(
        (MetricFamily.PRODUCE_LATENCY, MetricFamily.FETCH_LATENCY),
        FindingKind.SLOW_BROKER,
        Severity.HIGH,
        72.0,
        _slowest,
    ),
    MetricRule(
        (MetricFamily.LOG_DIR_DISK_USED,),
        FindingKind.DISK_PRESSURE,
        Severity.HIGH,
        74.0,
        _full_disks,
    ),
)


def broker_metric_findings(facts: Facts) -> list[Finding]:
    return [
        Finding(
            kind=rule.kind,
            severity=rule.severity,
            score=rule.score,
            subject=outlier.subject,
            topic=outlier.topic,
            summary=outlier.summary,
            evidence=[metric_evidence(outlier.shown, summary(outlier.shown))],
        )
        for rule in RULES
        for family in rule.families
        if (reading := facts.metrics.get(family)) is not None
        for outlier in rule.outliers(facts, reading)
    ]
