"""The target replicas a replica-move draft asks for: given, or computed from the live
assignment for a broker drain or a new replication factor, within the caller's scope."""

from collections import Counter

from kcr.kinds.placement import PlacementError, drain, replica_load, resize
from kcr.kinds.replica_model import TopicReplicas
from kcr.mcp.gate.calls import ToolInvalidError
from kcr.mcp.tools.env import ToolEnv


async def move_targets(
    env: ToolEnv,
    *,
    targets: list[TopicReplicas] | None,
    drain_broker: int | None,
    replication_factor: int | None,
    topics: list[str] | None,
) -> list[TopicReplicas]:
    """Exactly one of the three ways. A drain covers ``topics``, or every topic the caller
    may see (Kafka's internal ones too, when in scope); other callers' topics stay put."""
    ways = [targets is not None, drain_broker is not None, replication_factor is not None]
    if sum(ways) != 1:
        raise ToolInvalidError(
            "give exactly one of targets (explicit replica lists), drain_broker or "
            "replication_factor"
        )
    if targets is not None:
        if topics:
            raise ToolInvalidError(
                "topics chooses the topics of drain_broker or replication_factor; targets name "
                "their own topics"
            )
        return targets
    for topic in topics or []:
        env.require_topic(topic)
    kafka = env.services.kafka
    listed = await kafka.list_topics(include_internal=True)
    brokers = sorted(b.id for b in (await kafka.cluster_overview()).brokers)
    named = set(topics or [])
    unknown = sorted(named - {t.name for t in listed})
    if unknown:
        raise ToolInvalidError(f"topics: {', '.join(unknown)} do not exist")
    chosen = [t for t in listed if (t.name in named if named else env.scope.allows_topic(t.name))]
    assignment = {t.name: {p.partition: p.replicas for p in t.partitions} for t in chosen}
    load = replica_load({t.name: {p.partition: p.replicas for p in t.partitions} for t in listed})
    try:
        if drain_broker is not None:
            return _drained(assignment, brokers, drain_broker, load, env)
        if not topics:
            raise ToolInvalidError("replication_factor needs topics: the topics to change")
        assert replication_factor is not None
        return [resize(t, assignment[t], brokers, replication_factor, load) for t in topics]
    except PlacementError as error:
        raise ToolInvalidError(str(error)) from None


def _drained(
    assignment: dict[str, dict[int, list[int]]],
    brokers: list[int],
    broker: int,
    load: Counter[int],
    env: ToolEnv,
) -> list[TopicReplicas]:
    if broker not in brokers:
        raise ToolInvalidError(
            f"drain_broker: broker {broker} is not in the cluster (its brokers: "
            f"{', '.join(map(str, brokers))})"
        )
    moved = drain(assignment, brokers, broker, load)
    if not moved:
        raise ToolInvalidError(
            f"no partition of the chosen topics (your scope: "
            f"{env.scope.describe_topics()}) has a replica on broker {broker}: nothing to move"
        )
    return moved
