"""Which Kafka resources a change holds while it runs: one active change per resource.

Topics, consumer groups and ACL principals, scoped by the KafkaCluster they live in, so
two requests on the same topic name in different clusters do not wait for each other;
and the Deployment an offset reset scales, which no two changes may scale at once.
"""

from kcr.engine.observations import Blocker
from kcr.model import AlterAcls, KafkaChangeRequestSpec, ResetConsumerGroupOffsets
from kcr.policy import affected_topics


def claims(namespace: str, spec: KafkaChangeRequestSpec) -> frozenset[str]:
    scope = f"{namespace}/{spec.cluster}"
    member = spec.change.member
    keys = {f"{scope}/topic/{topic}" for topic in affected_topics(spec.change)}
    if isinstance(member, ResetConsumerGroupOffsets):
        keys.add(f"{scope}/group/{member.group}")
        if member.scale_deployment is not None:
            # A Deployment is one whatever Kafka cluster its consumers read.
            ref = member.scale_deployment
            keys.add(f"*/*/deployment/{ref.namespace}/{ref.name}")
    if isinstance(member, AlterAcls):
        keys |= {f"{scope}/principal/{b.principal}" for b in [*member.add, *member.remove]}
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
