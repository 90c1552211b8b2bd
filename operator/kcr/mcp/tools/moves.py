"""``list_reassignments``: partitions whose replicas are moving, within the caller's scope."""

from datetime import datetime

from pydantic import Field

from kcr.kafka import Reassignment
from kcr.mcp.evidence import topic_subject
from kcr.mcp.tools.env import ToolEnv
from kcr.model import Evidence, EvidenceKind, TimeWindow
from kcr.model.base import KubeModel
from kcr.model.names import TopicName

MAX_MOVES = 500


class ReassignmentsResult(KubeModel):
    reassignments: list[Reassignment] = Field(description="In progress now, by topic")
    truncated: int = Field(default=0, description="Moves left out past the first 500")
    observed_at: datetime
    source: str


async def list_reassignments(env: ToolEnv, topic: TopicName | None = None) -> ReassignmentsResult:
    """Reassignments in progress (ListPartitionReassignments): which partitions move, the
    brokers receiving and giving up replicas. One topic, or every topic in your scope."""
    if topic is not None:
        env.require_topic(topic)
    report = await env.services.kafka.reassignments([topic] if topic is not None else None)
    visible = [m for m in report.reassignments if env.scope.allows_topic(m.topic)]
    result = ReassignmentsResult(
        reassignments=visible[:MAX_MOVES],
        truncated=max(0, len(visible) - MAX_MOVES),
        observed_at=report.observed_at,
        source=f"kafka/{env.services.cluster.name}: ListPartitionReassignments",
    )
    for name in sorted({m.topic for m in visible}):
        moves = [m for m in visible if m.topic == name]
        env.remember(
            {topic_subject(name)},
            [
                Evidence(
                    kind=EvidenceKind.METADATA,
                    source=result.source,
                    query=f"list_reassignments topic={name}",
                    observed_value="; ".join(
                        f"{name}/{m.partition} adding {m.adding}, removing {m.removing}"
                        for m in moves[:50]
                    )[:4096],
                    time_window=TimeWindow.at(report.observed_at),
                    captured_at=report.observed_at,
                )
            ],
        )
    return result
