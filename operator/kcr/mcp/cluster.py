"""The Kafka cluster the server speaks for: its KafkaCluster name, policy and owners."""

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import Field

from kcr.model import ClusterPolicy, Ownership
from kcr.model.base import KubeModel


class OwnerInfo(KubeModel):
    """The owning team as the tools show it: who to call and what to read."""

    team: str
    contact: str = ""
    runbooks: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, owner: Ownership | None) -> "OwnerInfo | None":
        if owner is None:
            return None
        return cls(team=owner.team, contact=owner.contact, runbooks=owner.runbooks)


@dataclass(frozen=True)
class ClusterContext:
    name: str
    namespace: str
    policy: ClusterPolicy = field(default_factory=ClusterPolicy)
    ownership: tuple[Ownership, ...] = ()

    def owner_of_topic(self, topic: str) -> Ownership | None:
        return owner_of_topic(self.ownership, topic)

    def owner_of_group(self, group: str) -> Ownership | None:
        return owner_of_group(self.ownership, group)


def owner_of_topic(owners: tuple[Ownership, ...], topic: str) -> Ownership | None:
    return _longest(owners, topic, lambda o: o.topic_prefixes)


def owner_of_group(owners: tuple[Ownership, ...], group: str) -> Ownership | None:
    return _longest(owners, group, lambda o: o.group_prefixes)


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
