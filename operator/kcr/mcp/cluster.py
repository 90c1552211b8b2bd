"""The Kafka cluster the server speaks for: its KafkaCluster name, policy and owners."""

from collections.abc import Callable
from dataclasses import dataclass, field

from kcr.model import ClusterPolicy, Ownership


@dataclass(frozen=True)
class ClusterContext:
    name: str
    namespace: str
    policy: ClusterPolicy = field(default_factory=ClusterPolicy)
    ownership: tuple[Ownership, ...] = ()

    def owner_of_topic(self, topic: str) -> Ownership | None:
        return _longest(self.ownership, topic, lambda o: o.topic_prefixes)

    def owner_of_group(self, group: str) -> Ownership | None:
        return _longest(self.ownership, group, lambda o: o.group_prefixes)


def _longest(
    owners: tuple[Ownership, ...], name: str, prefixes_of: Callable[[Ownership], list[str]]
) -> Ownership | None:
    """The most specific entry wins, as in routing tables."""
    best: tuple[int, Ownership] | None = None
    for owner in owners:
        for prefix in prefixes_of(owner):
            if name.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), owner)
    return best[1] if best else None
