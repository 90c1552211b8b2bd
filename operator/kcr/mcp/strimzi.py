"""Strimzi as the MCP server sees it: the resources that manage the cluster, read only, and
what Kafka holds for the topics and users they name.

kcr writes none of Strimzi's resources: it lists KafkaTopics and KafkaUsers to compare and
to review, and drafts edits (and KafkaRebalances) as YAML for a person's pull request.
"""

from dataclasses import dataclass, field

from kcr.kafka import AclFilter, ClientQuota, KafkaPort, QuotaEntityType, TopicConfigs, TopicInfo
from kcr.kafka.quota_model import ClientQuotaFilter
from kcr.mcp.kube import KubePort
from kcr.model import AclBinding
from kcr.model.strimzi import (
    USER_PREFIX,
    StrimziManagement,
    StrimziResources,
    strimzi_resources,
)
from kcr.policy.strimzi_drift import LiveTopic
from kcr.policy.strimzi_users import UserState


async def read_resources(kube: KubePort, management: StrimziManagement) -> StrimziResources:
    """The KafkaTopics and KafkaUsers labelled for the cluster; ``KubeError`` when unreadable."""
    where, name = management.namespace, management.cluster_name
    topics = await kube.list_strimzi(where, "kafkatopics", name)
    users = await kube.list_strimzi(where, "kafkausers", name)
    return strimzi_resources(management, topics, users)


@dataclass
class UserStates:
    """ACLs and own quotas per ``User:`` principal, and what could not be read."""

    states: dict[str, UserState] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def read_user_states(kafka: KafkaPort, principals: list[str] | None = None) -> UserStates:
    """Every ``User:`` principal's ACLs and its quotas as a user alone (the entity a KafkaUser
    owns); ``principals`` narrows the read to those."""
    capabilities = await kafka.capabilities()
    found = UserStates()
    acls: list[AclBinding] = []
    if capabilities.describe_acls:
        filters = [AclFilter(principal=p) for p in principals or []] or [AclFilter()]
        for acl_filter in filters:
            acls += await kafka.describe_acls(acl_filter)
    else:
        found.notes.append(f"ACLs were not read: {capabilities.reason('describeAcls')}")
    quotas: list[ClientQuota] = []
    if capabilities.describe_client_quotas:
        names = [p.removeprefix(USER_PREFIX) for p in principals or []]
        wanted: list[ClientQuotaFilter | None] = [
            ClientQuotaFilter.exactly({QuotaEntityType.USER: n}) for n in names
        ]
        for quota_filter in wanted or [None]:
            quotas += await kafka.describe_client_quotas(quota_filter)
    else:
        why = capabilities.reason("describeClientQuotas")
        found.notes.append(f"client quotas were not read: {why}")
    by_principal: dict[str, list[AclBinding]] = {}
    for binding in acls:
        if binding.principal.startswith(USER_PREFIX):
            by_principal.setdefault(binding.principal, []).append(binding)
    own = {
        f"{USER_PREFIX}{q.entity[QuotaEntityType.USER]}": q.values
        for q in quotas
        if set(q.entity) == {QuotaEntityType.USER} and q.entity[QuotaEntityType.USER] is not None
    }
    for principal in sorted(set(by_principal) | set(own)):
        if principals is None or principal in principals:
            found.states[principal] = UserState(
                acls=tuple(by_principal.get(principal, [])), quotas=own.get(principal, {})
            )
    return found


def live_topic(info: TopicInfo, configs: TopicConfigs | None) -> LiveTopic:
    entries = configs.configs if configs else {}
    return LiveTopic(
        partitions=info.partition_count,
        replication_factor=info.replication_factor,
        configs={k: None if e.sensitive else e.value for k, e in entries.items()},
        overrides=frozenset(configs.overrides() if configs else ()),
    )
