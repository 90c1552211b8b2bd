"""Risk is computed here from the change and the cluster policy, never taken from a draft.

LOW: reversible, no effect on live data flow. MEDIUM: reversible, touches live traffic.
HIGH: irreversible or data-affecting. CRITICAL: topic deletion or a protected topic.
"""

from dataclasses import dataclass, field

from kcr.model import (
    AclPermission,
    AlterAcls,
    AlterTopicConfig,
    Change,
    ClusterPolicy,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    ObservedState,
    ResetConsumerGroupOffsets,
    Risk,
)
from kcr.policy.acl_breadth import acl_breadth
from kcr.policy.blast_radius import affected_topics
from kcr.policy.data_loss import config_data_losses
from kcr.policy.protected import protected_matches


@dataclass(frozen=True)
class Assessment:
    risk: Risk
    reasons: list[str] = field(default_factory=list)
    irreversible: list[str] = field(default_factory=list)
    """Plain-words statements of what cannot be undone; empty when all is reversible."""

    @property
    def reversible(self) -> bool:
        return not self.irreversible


def assess(change: Change, observed: ObservedState | None, policy: ClusterPolicy) -> Assessment:
    """ACL bindings name patterns, so they weigh their own reach over protected topics."""
    if isinstance(change.member, AlterAcls):
        return _alter_acls(change.member, policy)
    risk, reasons, irreversible = _by_kind(change, observed)
    protected = protected_matches(affected_topics(change), policy)
    if protected:
        risk = Risk.CRITICAL
        reasons.append("touches protected topics: " + ", ".join(protected))
    return Assessment(risk=risk, reasons=reasons, irreversible=irreversible)


def _by_kind(change: Change, observed: ObservedState | None) -> tuple[Risk, list[str], list[str]]:
    member = change.member
    if isinstance(member, CreateTopic):
        return Risk.LOW, ["a new topic carries no traffic yet"], []
    if isinstance(member, IncreasePartitions):
        return _increase_partitions(member, observed)
    if isinstance(member, AlterTopicConfig):
        return _alter_config(member, observed)
    if isinstance(member, ResetConsumerGroupOffsets):
        return (
            Risk.HIGH,
            [
                f"moves the committed offsets of group {member.group} to "
                f"{member.to.describe()}: its consumers skip or re-read messages"
            ],
            [],
        )
    assert isinstance(member, DeleteTopic)
    seen = observed.topic(member.topic) if observed else None
    size = f"its {seen.partitions} partitions and " if seen and seen.exists else ""
    return (
        Risk.CRITICAL,
        ["deletes a topic"],
        [
            f"deleting topic {member.topic} destroys {size}every record in it; recreating "
            "the topic brings back an empty one"
        ],
    )


def _increase_partitions(
    member: IncreasePartitions, observed: ObservedState | None
) -> tuple[Risk, list[str], list[str]]:
    seen = observed.topic(member.topic) if observed else None
    before = f"{seen.partitions}" if seen and seen.exists else "the current count"
    return (
        Risk.HIGH,
        ["adds partitions, which moves keys to other partitions"],
        [
            f"Kafka cannot remove partitions: going from {before} to {member.partitions} "
            f"partitions on {member.topic} is permanent, and records with the same key "
            "land on a different partition afterwards, so per-key ordering breaks across "
            "the change"
        ],
    )


def _alter_config(
    member: AlterTopicConfig, observed: ObservedState | None
) -> tuple[Risk, list[str], list[str]]:
    losses = [
        loss for topic in member.topics for loss in config_data_losses(member, topic, observed)
    ]
    if losses:
        risk = max((loss.risk for loss in losses), key=lambda r: r.rank)
        return risk, ["the new configuration can destroy data"], [loss.note for loss in losses]
    keys = ", ".join([*member.set, *member.delete])
    return Risk.MEDIUM, [f"changes {keys} on topics that carry live traffic"], []


def _alter_acls(member: AlterAcls, policy: ClusterPolicy) -> Assessment:
    if member.remove:
        risk = Risk.HIGH
        reasons = [
            f"removes {len(member.remove)} ACL bindings: clients relying on them lose access"
        ]
    elif any(b.permission is AclPermission.DENY for b in member.add):
        risk, reasons = Risk.MEDIUM, ["adds Deny bindings, which can cut off running clients"]
    else:
        risk, reasons = Risk.LOW, ["only grants access; nothing running loses any"]
    for binding in [*member.add, *member.remove]:
        for found in acl_breadth(binding, policy):
            risk = max(risk, found.risk, key=lambda r: r.rank)
            reasons.append(found.reason)
    return Assessment(risk=risk, reasons=reasons)
