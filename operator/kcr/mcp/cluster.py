"""The Kafka cluster the server speaks for: its KafkaCluster name, policy and owners."""

from dataclasses import dataclass, field

from pydantic import Field

from kcr.model import ClusterPolicy, Ownership, Storage
from kcr.model.base import KubeModel
from kcr.model.strimzi import StrimziManagement
from kcr.policy.ownership import owner_of_group, owner_of_topic


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
    storage: Storage = Storage.LOCAL
    strimzi: StrimziManagement | None = None
    """The Strimzi cluster that runs it (``spec.managedBy.strimzi``), if one does."""

    def owner_of_topic(self, topic: str) -> Ownership | None:
        return owner_of_topic(self.ownership, topic)

    def owner_of_group(self, group: str) -> Ownership | None:
        return owner_of_group(self.ownership, group)
