"""When is a reviewed plan stale? When the live state differs from ``spec.observed`` in a fact
the plan, its rollback, its risk or the cluster limits were computed from.

The facts are chosen per change kind and leave out what moves on its own (offsets, high
watermarks, lag, group members, Deployment replicas): those never make a plan wrong, only
older. A fact the draft did not observe is not compared. Independently of the draft, a
change that the live state makes impossible (topic already there, partitions already at
the target) is stale too, because running it is no longer the change that was approved.
"""

from kcr.model import ClusterPolicy, Facts, KafkaChangeRequestSpec, ObservedState
from kcr.policy import limit_violations


def plan_facts(spec: KafkaChangeRequestSpec, observed: ObservedState) -> Facts:
    """The facts of ``observed`` that the plan of ``spec`` depends on, as readable keys."""
    return spec.change.kind.plan_facts(spec.change.member, observed)


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
    return spec.change.kind.left_facts(spec.change.member, state)


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
