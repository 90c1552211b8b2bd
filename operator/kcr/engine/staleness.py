"""When is a reviewed plan stale? When the live state differs from ``spec.observed`` in a fact
the plan, its rollback, its risk or the cluster limits were computed from.

The facts are chosen per change kind and leave out what moves on its own (offsets, high
watermarks, lag, group members, Deployment replicas): those never make a plan wrong, only
older. A fact the draft did not observe is not compared. Independently of the draft, a
change that the live state makes impossible (topic already there, partitions already at
the target) is stale too, because running it is no longer the change that was approved.
"""

from kcr.model import (
    AclBinding,
    AlterAcls,
    AlterTopicConfig,
    ClusterPolicy,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    KafkaChangeRequestSpec,
    ObservedState,
    ObservedTopic,
    ResetConsumerGroupOffsets,
)
from kcr.policy import affected_topics, limit_violations

Facts = dict[str, str]


def plan_facts(spec: KafkaChangeRequestSpec, observed: ObservedState) -> Facts:
    """The facts of ``observed`` that the plan of ``spec`` depends on, as readable keys."""
    member = spec.change.member
    facts: Facts = {}
    if isinstance(member, CreateTopic) and observed.brokers:
        facts["brokers in the cluster"] = str(observed.brokers)
    for topic in affected_topics(spec.change):
        seen = observed.topic(topic)
        if seen is not None:
            facts.update(_topic_facts(member, seen))
    if isinstance(member, ResetConsumerGroupOffsets):
        facts.update(_group_facts(member, observed))
    if isinstance(member, AlterAcls):
        existing = {b.key() for b in observed.acls}
        for binding in [*member.add, *member.remove]:
            facts[f"ACL binding {binding.key()}"] = _present(binding, existing)
    return facts


def _topic_facts(member: object, seen: ObservedTopic) -> Facts:
    prefix = f"topic {seen.name}"
    facts = {f"{prefix}: exists": str(seen.exists).lower()}
    if not seen.exists:
        return facts
    if isinstance(member, IncreasePartitions | DeleteTopic | ResetConsumerGroupOffsets):
        facts[f"{prefix}: partitions"] = str(seen.partitions)
    if isinstance(member, AlterTopicConfig):
        if "min.insync.replicas" in member.set and seen.replication_factor:
            facts[f"{prefix}: replication factor"] = str(seen.replication_factor)
        for key in [*member.set, *member.delete]:
            config = seen.configs.get(key)
            if config is not None:
                value = "(sensitive)" if config.value is None else config.value
                facts[f"{prefix}: {key}"] = f"{value} ({config.source})"
    return facts


def _group_facts(member: ResetConsumerGroupOffsets, observed: ObservedState) -> Facts:
    seen = observed.group(member.group)
    if seen is None:
        return {}
    facts = {}
    for topic in member.topics:
        committed = sorted(
            p.partition
            for p in seen.partitions
            if p.topic == topic and p.committed is not None and p.committed >= 0
        )
        facts[f"group {member.group}: partitions of {topic} with a committed offset"] = (
            ",".join(map(str, committed)) or "none"
        )
    return facts


def _present(binding: AclBinding, existing: set[str]) -> str:
    return "present" if binding.key() in existing else "absent"


def stale_differences(
    spec: KafkaChangeRequestSpec, live: ObservedState, policy: ClusterPolicy
) -> list[str]:
    """Plain-words differences; empty when the approved plan still fits the live state."""
    found = []
    if spec.observed is not None:
        drafted = plan_facts(spec, spec.observed)
        now = plan_facts(spec, live)
        for key, before in drafted.items():
            after = now.get(key, "not observed")
            if after != before:
                found.append(f"{key} was {before} in spec.observed and is {after} now")
    found += [f"{line} (in the live state)" for line in limit_violations(spec.change, live, policy)]
    return found


def left_facts(spec: KafkaChangeRequestSpec, state: ObservedState) -> Facts:
    """What a change left that its rollback depends on: the plan's facts, without the broker
    count (brokers come and go without touching a topic), and a created topic's size."""
    facts = {k: v for k, v in plan_facts(spec, state).items() if k != "brokers in the cluster"}
    member = spec.change.member
    if isinstance(member, CreateTopic):
        seen = state.topic(member.topic)
        if seen is not None and seen.exists:
            facts[f"topic {seen.name}: partitions"] = str(seen.partitions)
    return facts


def moved_since_success(
    spec: KafkaChangeRequestSpec, left: ObservedState, live: ObservedState
) -> list[str]:
    """Plain-words differences between what the change left and the live state; a rollback
    over any of them would overwrite a change made since, so it writes nothing."""
    before = left_facts(spec, left)
    now = left_facts(spec, live)
    return [
        f"{key} was {value} when the change succeeded and is {now.get(key, 'not observed')} now"
        for key, value in before.items()
        if now.get(key, "not observed") != value
    ]
