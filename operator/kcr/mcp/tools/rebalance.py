"""``draft_kafka_rebalance``: replica moves on a Strimzi cluster where Cruise Control runs.

There kcr refuses ReassignPartitions (Cruise Control would fight moves made behind its
back) and drafts a KafkaRebalance instead, as YAML for a pull request, with the skew it
rests on. Nothing is written anywhere: not the KafkaRebalance, not its annotations.
"""

from typing import Annotated

from pydantic import Field

from kcr.mcp.evidence import topic_subject
from kcr.mcp.gate.calls import ToolDeniedError, ToolInvalidError
from kcr.mcp.tools.cluster import partition_skew, skew_evidence
from kcr.mcp.tools.drafting import DraftReason
from kcr.mcp.tools.env import ToolEnv
from kcr.model import Evidence
from kcr.model.base import KubeModel
from kcr.model.strimzi import StrimziManagement
from kcr.policy.strimzi_rebalance import (
    MAX_BROKERS,
    MAX_GOALS,
    RebalanceMode,
    approval_text,
    rebalance_manifest,
    rebalance_name,
    rebalance_problems,
    rebalance_spec,
)

BrokerIds = Annotated[
    list[Annotated[int, Field(ge=0, le=2**31 - 1)]],
    Field(
        max_length=MAX_BROKERS,
        description="add-brokers: the new brokers to move replicas onto; remove-brokers: "
        "the brokers to empty; full: none",
    ),
]
Goals = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z][\w.]*$")]],
    Field(
        max_length=MAX_GOALS,
        description="Cruise Control goals in priority order (e.g. RackAwareGoal, "
        "ReplicaDistributionGoal); omitted: the cluster's default goals",
    ),
]


class RebalanceDraft(KubeModel):
    name: str
    namespace: str
    yaml: str = Field(description="The KafkaRebalance, for a pull request; kcr applies nothing")
    reason: str = Field(description="Why, for the pull request's description")
    leader_skew: float = Field(description="Most leaders on one broker ÷ the mean; 1.0 is even")
    records_skew: float = Field(description="Most records led by one broker ÷ the mean")
    replicas_per_broker: dict[int, int]
    evidence: list[Evidence]
    approval: str = Field(description="Who approves it, how, and what stopping it does")


async def draft_kafka_rebalance(
    env: ToolEnv,
    *,
    reason: DraftReason,
    mode: RebalanceMode = RebalanceMode.FULL,
    brokers: BrokerIds | None = None,
    goals: Goals | None = None,
    skip_hard_goal_check: Annotated[
        bool, Field(description="Let goals name fewer than Cruise Control's hard goals")
    ] = False,
) -> RebalanceDraft:
    """Draft a KafkaRebalance (Strimzi with Cruise Control): full, add-brokers or
    remove-brokers, returned as YAML for a pull request with the skew it rests on. kcr
    never applies or approves it: a person approves with strimzi.io/rebalance=approve."""
    management = _cruise_control(env)
    if not env.scope.unrestricted:
        raise ToolDeniedError(
            "a KafkaRebalance moves replicas of every topic on the cluster: only a caller "
            "whose scope covers every topic and group may draft one"
        )
    skew = await partition_skew(env)
    known = [b.broker for b in skew.brokers]
    topics = await env.services.kafka.list_topics(include_internal=True)
    largest = max((t.replication_factor for t in topics), default=1)
    problems = rebalance_problems(mode, brokers or [], known, largest)
    if problems:
        raise ToolInvalidError("; ".join(problems))
    spec = rebalance_spec(mode, brokers or [], goals or [], skip_hard_goal_check)
    name = rebalance_name(spec)
    measured = skew_evidence(skew)
    subjects = {topic_subject(t.name) for t in topics}
    shown = env.services.ledger.relevant(env.caller.principal, subjects, env.now())
    return RebalanceDraft(
        name=name,
        namespace=management.namespace,
        yaml=rebalance_manifest(management, name, spec),
        reason=reason,
        leader_skew=skew.leader_skew,
        records_skew=skew.records_skew,
        replicas_per_broker={b.broker: b.replicas for b in skew.brokers},
        evidence=[measured, *(e for e in shown if e != measured)],
        approval=approval_text(management, name),
    )


def _cruise_control(env: ToolEnv) -> StrimziManagement:
    management = env.services.cluster.strimzi
    if management is None or not management.cruise_control:
        raise ToolInvalidError(
            f"cluster {env.services.cluster.name} does not declare Cruise Control under "
            "Strimzi (spec.managedBy.strimzi.cruiseControl: true), so there is no "
            "KafkaRebalance to draft; draft replica moves with draft_reassign_partitions"
        )
    return management
