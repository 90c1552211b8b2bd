"""Detector on Kafka Connect: a failed sink task behind a lagging ``connect-*`` group.

When a sink's task fails, Connect stops consuming for it and nothing on the Kafka side
says why: the group just lags, with no member. The task's state and trace in Connect's
REST API name the cause, so this finding outranks every other lag finding.
"""

from kcr.mcp.connect import Connector, ConnectReport
from kcr.mcp.diagnosis.findings import (
    Facts,
    Finding,
    FindingKind,
    Severity,
    lag_evidence,
)
from kcr.model import Evidence, EvidenceKind, TimeWindow

FAILED_SINK_SCORE = 99.5


def failed_sink_tasks(facts: Facts) -> list[Finding]:
    if facts.connect is None or facts.lag is None:
        return []
    findings = []
    for connector in facts.connect.connectors:
        failed = connector.failed_tasks
        if connector.type != "sink" or connector.group is None:
            continue
        if not failed and connector.state != "FAILED":
            continue
        row = facts.lag.group(connector.group)
        if row is None or row.total_lag <= 0:
            continue
        what = f"{len(failed)} failed task(s)" if failed else "the connector itself failed"
        findings.append(
            Finding(
                kind=FindingKind.CONNECTOR_TASK_FAILED,
                severity=Severity.HIGH,
                score=FAILED_SINK_SCORE,
                subject=f"group/{connector.group}",
                group=connector.group,
                topic=connector.topics[0] if connector.topics else None,
                summary=(
                    f"group {connector.group} lags by {row.total_lag} because sink connector "
                    f"{connector.name} has {what} in Kafka Connect: nothing consumes for it "
                    "until the task is fixed and restarted"
                ),
                evidence=[
                    _connect_evidence(facts.connect, connector),
                    lag_evidence(
                        facts,
                        facts.lag,
                        f"consumer_lag group={connector.group}",
                        f"total lag {row.total_lag}",
                    ),
                ],
            )
        )
    return findings


def _connect_evidence(report: ConnectReport, connector: Connector) -> Evidence:
    tasks = "; ".join(
        f"task {t.id} {t.state} on {t.worker_id or 'no worker'}"
        + (f": {t.trace.splitlines()[0]}" if t.trace else "")
        for t in connector.tasks
    )
    return Evidence(
        kind=EvidenceKind.CONNECTOR,
        source=f"kafka-connect {report.url}: GET /connectors?expand=status"[:256],
        query=f"connector_status connector={connector.name}",
        observed_value=(
            f"connector {connector.name} ({connector.type}) {connector.state}, "
            f"topics {connector.topics}; {tasks or 'no tasks'}"
        )[:4096],
        time_window=TimeWindow.at(report.observed_at),
        captured_at=report.observed_at,
    )
