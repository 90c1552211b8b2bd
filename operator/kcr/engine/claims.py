"""Which Kafka resources a change holds while it runs: one active change per resource.

Topics, consumer groups and ACL principals, scoped by the KafkaCluster they live in, so
two requests on the same topic name in different clusters do not wait for each other;
and the Deployment an offset reset scales, which no two changes may scale at once.
"""

from kcr.engine.observations import Blocker
from kcr.model import KafkaChangeRequestSpec
from kcr.policy import affected_topics


def claims(namespace: str, spec: KafkaChangeRequestSpec) -> frozenset[str]:
    scope = f"{namespace}/{spec.cluster}"
    change = spec.change
    keys = {f"{scope}/topic/{topic}" for topic in affected_topics(change)}
    for claim in change.kind.claims(change.member):
        # A cluster-wide claim (a Deployment) is one whatever Kafka cluster it reads.
        keys.add(f"*/{claim}" if claim.startswith("*/") else f"{scope}/{claim}")
    return frozenset(keys)


def blocked_message(blockers: tuple[Blocker, ...]) -> str:
    parts = [
        f"{b.request} ({b.phase}) which changes "
        + ", ".join(describe_claim(r) for r in b.resources)
        for b in blockers
    ]
    return "waiting for " + "; ".join(parts) + " to finish: one change per resource"


def describe_claim(key: str) -> str:
    """``ns/cluster/topic/orders`` → ``topic orders``."""
    _namespace, _cluster, kind, name = key.split("/", 3)
    return f"{kind} {name}"
