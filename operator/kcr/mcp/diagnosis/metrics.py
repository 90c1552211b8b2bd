"""Detectors on broker metrics from Prometheus: a throughput spike, quota pressure, one
broker slower than the rest, and a log dir filesystem filling up.

Each compares values inside the window it cites: a spike is the recent rate against the
window's earlier baseline while consumers lag; quota pressure is any throttle time; a slow
broker is one whose p99 latency is several times the others' median; disk pressure is a
log dir filesystem whose latest used fraction is at or above the threshold.
"""

import statistics

from kcr.mcp.broker_metrics import MetricFamily, MetricRange, metric_evidence, summary
from kcr.mcp.diagnosis.findings import Facts, Finding, FindingKind, Severity, group_rows

SPIKE_FACTOR = 3.0
SPIKE_FLOOR_BYTES = 10_240.0
SLOW_FACTOR = 3.0
SLOW_FLOOR_MS = 50.0


def throughput_spike(facts: Facts) -> list[Finding]:
    reading = facts.metrics.get(MetricFamily.BYTES_IN)
    lagging = {t.topic for row in group_rows(facts) for t in row.topics if t.total_lag > 0}
    if reading is None or not lagging:
        return []
    findings = []
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
        findings.append(
            Finding(
                kind=FindingKind.THROUGHPUT_SPIKE,
                severity=Severity.MEDIUM,
                score=66.0,
                subject=f"topic/{topic}",
                topic=topic,
                summary=(
                    f"producers to {topic} wrote {recent:,.0f} bytes/s at the peak, against a "
                    f"baseline of {baseline:,.0f} bytes/s earlier in the window, while its "
                    "consumers lag: the lag may be the spike, not a slower consumer"
                ),
                evidence=[metric_evidence(reading, summary(_only(reading, topic)))],
            )
        )
    return findings


def quota_pressure(facts: Facts) -> list[Finding]:
    reading = facts.metrics.get(MetricFamily.THROTTLE_TIME)
    if reading is None:
        return []
    throttled = [s for s in reading.series if s.values and max(s.values) > 0]
    if not throttled:
        return []
    brokers = ", ".join(sorted(s.labels.get("broker", "?") for s in throttled))
    worst = max(max(s.values) for s in throttled)
    return [
        Finding(
            kind=FindingKind.QUOTA_PRESSURE,
            severity=Severity.MEDIUM,
            score=64.0,
            subject=f"brokers/{brokers}",
            summary=(
                f"client quotas throttle requests on broker(s) {brokers} (mean throttle time "
                f"up to {worst:,.0f} ms): throttled producers or consumers fall behind"
            ),
            evidence=[metric_evidence(reading, summary(reading))],
        )
    ]


def slow_broker(facts: Facts) -> list[Finding]:
    findings = []
    for family in (MetricFamily.PRODUCE_LATENCY, MetricFamily.FETCH_LATENCY):
        reading = facts.metrics.get(family)
        if reading is None:
            continue
        latest = {s.labels.get("broker", "?"): s.values[-1] for s in reading.series if s.values}
        if len(latest) < 3:
            continue
        slowest = max(latest, key=lambda b: latest[b])
        others = statistics.median(v for b, v in latest.items() if b != slowest)
        if latest[slowest] < max(SLOW_FACTOR * others, SLOW_FLOOR_MS):
            continue
        what = "produce" if family is MetricFamily.PRODUCE_LATENCY else "fetch"
        findings.append(
            Finding(
                kind=FindingKind.SLOW_BROKER,
                severity=Severity.HIGH,
                score=72.0,
                subject=f"broker/{slowest}",
                summary=(
                    f"broker {slowest} answers {what} requests in {latest[slowest]:,.0f} ms "
                    f"(p99), the other brokers in {others:,.0f} ms: one slow broker holds back "
                    "every client of the partitions it leads"
                ),
                evidence=[metric_evidence(reading, summary(reading))],
            )
        )
    return findings


def disk_pressure(facts: Facts) -> list[Finding]:
    reading = facts.metrics.get(MetricFamily.LOG_DIR_DISK_USED)
    if reading is None:
        return []
    limit = facts.thresholds.disk_pressure_used_fraction
    findings = []
    for series in reading.series:
        if not series.values or series.values[-1] < limit:
            continue
        broker = series.labels.get("broker", "?")
        mountpoint = series.labels.get("mountpoint", "?")
        used = series.values[-1]
        only = reading.model_copy(update={"series": [series]})
        findings.append(
            Finding(
                kind=FindingKind.DISK_PRESSURE,
                severity=Severity.HIGH,
                score=74.0,
                subject=f"broker/{broker}",
                summary=(
                    f"broker {broker}'s log dir filesystem ({mountpoint}) is {used:.1%} used, "
                    f"at or above the {limit:.1%} threshold: a full disk takes the log "
                    "directory offline and its replicas with it"
                ),
                evidence=[metric_evidence(only, summary(only))],
            )
        )
    return findings


def _only(reading: MetricRange, topic: str) -> MetricRange:
    kept = [s for s in reading.series if s.labels.get("topic") == topic]
    return reading.model_copy(update={"series": kept})
