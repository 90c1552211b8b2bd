"""A KafkaRebalance for a pull request: the way to move replicas where Cruise Control runs.

kcr never creates, annotates or approves one. It drafts the resource, checks the brokers it
names against the cluster, and says what happens after the pull request: Cruise Control
computes a proposal, a person approves it with an annotation, Cruise Control may compute
the plan again at that moment, and stopping rolls back the moves in flight.
"""

import hashlib
import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from kcr.model.strimzi import StrimziManagement
from kcr.policy.strimzi_specs import strimzi_manifest

MAX_BROKERS = 100
MAX_GOALS = 30
REBALANCE_ANNOTATION = "strimzi.io/rebalance"


class RebalanceMode(StrEnum):
    FULL = "full"
    ADD_BROKERS = "add-brokers"
    REMOVE_BROKERS = "remove-brokers"


def rebalance_spec(
    mode: RebalanceMode,
    brokers: Sequence[int],
    goals: Sequence[str],
    skip_hard_goal_check: bool,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"mode": str(mode)}
    if brokers:
        spec["brokers"] = sorted(set(brokers))
    if goals:
        spec["goals"] = list(dict.fromkeys(goals))
    if skip_hard_goal_check:
        spec["skipHardGoalCheck"] = True
    return spec


def rebalance_problems(
    mode: RebalanceMode, brokers: Sequence[int], known: Sequence[int], max_replicas: int
) -> list[str]:
    """What makes the KafkaRebalance wrong for this cluster, each naming the argument."""
    if mode is RebalanceMode.FULL:
        if brokers:
            return ["brokers: a full rebalance spreads replicas over every broker; name none"]
        return []
    if not brokers:
        return [f"brokers: mode {mode} needs the brokers to move replicas onto or off"]
    unknown = sorted(set(brokers) - set(known))
    if unknown:
        return [
            f"brokers: {', '.join(map(str, unknown))} not in the cluster (its brokers: "
            f"{', '.join(map(str, sorted(known)))}); a new broker must have joined before "
            "replicas can move onto it"
        ]
    left = len(set(known) - set(brokers))
    if mode is RebalanceMode.REMOVE_BROKERS and left < max_replicas:
        return [
            f"brokers: removing {len(set(brokers))} broker(s) leaves {left}, fewer than the "
            f"largest replication factor ({max_replicas}): Cruise Control cannot place every "
            "replica"
        ]
    return []


def rebalance_name(spec: dict[str, Any]) -> str:
    """The same request drafts the same name, so a second draft is the same pull request."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    return f"kcr-{spec['mode']}-{digest}"


def rebalance_manifest(management: StrimziManagement, name: str, spec: dict[str, Any]) -> str:
    return strimzi_manifest(
        "KafkaRebalance", management.namespace, name, management.cluster_name, spec
    )


def approval_text(management: StrimziManagement, name: str) -> str:
    """What happens after the pull request, and who does it: never kcr."""
    where = f"kafkarebalance {name} -n {management.namespace}"
    return (
        "kcr never creates, annotates or approves a KafkaRebalance: commit this YAML in a "
        "pull request. Once applied, Cruise Control computes an optimization proposal "
        "(status.optimizationResult, state ProposalReady). A person reviews it and approves "
        f"with: kubectl annotate {where} {REBALANCE_ANNOTATION}=approve. Cruise Control may "
        "recompute the plan at approval time, so the moves it runs can differ from the "
        f"proposal reviewed. {REBALANCE_ANNOTATION}=stop stops the rebalance and rolls back "
        "the moves in flight, and the resource may read Stopped before that rollback has "
        "finished: check list_reassignments before anything else moves replicas. "
        f"{REBALANCE_ANNOTATION}=refresh asks for a fresh proposal."
    )
