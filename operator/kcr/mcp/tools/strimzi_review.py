"""A draft on a Strimzi-managed cluster is reviewed as the operator will review it.

What a KafkaTopic or KafkaUser owns is refused with the edit to make there instead; a
change for a user no KafkaUser claims is drafted with a warning and the KafkaUser to
create, built from what Kafka holds for that user now. The operator checks again at its
own review and before each write.
"""

from dataclasses import replace

from kcr.kube.errors import KubeError
from kcr.mcp.strimzi import read_resources, read_user_states
from kcr.mcp.tools.env import ToolEnv
from kcr.model import Change
from kcr.plan import Review
from kcr.policy.strimzi import (
    strimzi_may_own,
    strimzi_refusals,
    user_operator_warnings,
    written_principals,
)
from kcr.policy.strimzi_users import stripped


async def with_strimzi(env: ToolEnv, change: Change, review: Review) -> Review:
    management = env.services.cluster.strimzi
    if management is None or not strimzi_may_own(change.kind, change.member):
        return review
    kube = env.services.kube
    unread = (
        "Strimzi's KafkaTopics and KafkaUsers were not read ({why}): the operator reads them "
        "at its review and refuses a change to what they own"
    )
    if kube is None:
        why = "this server has no Kubernetes API"
        return replace(review, warnings=[*review.warnings, unread.format(why=why)])
    try:
        resources = await read_resources(kube, management)
    except KubeError as error:
        return replace(review, warnings=[*review.warnings, unread.format(why=error)])
    refusals = strimzi_refusals(change.kind, change.member, resources)
    principals = [
        p for p in written_principals(change.kind, change.member) if stripped(resources, p)
    ]
    states = await read_user_states(env.services.kafka, principals) if principals else None
    warnings = user_operator_warnings(
        change.kind, change.member, resources, states.states if states else None
    )
    return replace(
        review,
        violations=[*review.violations, *(f"spec.change: {r.explain()}" for r in refusals)],
        warnings=[*review.warnings, *warnings, *(states.notes if states else [])],
    )
