"""``strimzi_drift``: where Kafka differs from the Strimzi resources that manage it.

Strimzi's operators win every disagreement at their next reconciliation: the Topic
Operator sets a topic back to its KafkaTopic, the User Operator a user's ACLs and quotas
back to its KafkaUser, and strips users no KafkaUser claims. Each row says which of these
will happen. A tenant sees the KafkaTopics of its topics and the users named under its
prefixes, and is told how many others were left out.
"""

from datetime import datetime
from typing import Any

from pydantic import Field

from kcr.kafka import KafkaPortError, TopicInfo
from kcr.kafka.quota_model import QuotaEntityType, entity_label
from kcr.kube.errors import KubeError
from kcr.mcp.evidence import principal_subject, quota_subject, topic_subject
from kcr.mcp.gate.calls import ToolDeniedError, ToolFailedError
from kcr.mcp.gate.identity import Scope
from kcr.mcp.masking import mask_value
from kcr.mcp.strimzi import live_topic, read_resources, read_user_states
from kcr.mcp.tools.env import ToolEnv
from kcr.model import (
    AclBinding,
    AclPatternType,
    AclResourceType,
    Evidence,
    EvidenceKind,
    TimeWindow,
)
from kcr.model.base import KubeModel
from kcr.model.names import Principal, TopicName
from kcr.model.strimzi import StrimziManagement, StrimziResources, StrimziTopic, user_name
from kcr.policy.strimzi_drift import DriftRow, stripped_users, topic_drift, user_drift
from kcr.policy.strimzi_users import UserState

MAX_ROWS = 500
MAX_TOPICS = 200
CONFIG_PATH = "spec.config['"


class DriftResult(KubeModel):
    strimzi_cluster: str = Field(description="The Strimzi Kafka resource, namespace/name")
    rows: list[DriftRow] = Field(description="One per difference, with what Strimzi will do")
    topics_compared: int
    users_compared: int
    withheld: int = Field(
        default=0, description="KafkaTopics, users and ACLs outside your scope, not named"
    )
    truncated: int = Field(default=0, description="Rows left out past the first 500")
    notes: list[str] = Field(default_factory=list, description="What could not be compared")
    observed_at: datetime
    source: str


async def strimzi_drift(
    env: ToolEnv, topic: TopicName | None = None, principal: Principal | None = None
) -> DriftResult:
    """Where Kafka differs from the KafkaTopics and KafkaUsers of a Strimzi-managed cluster
    (partitions, replication factor, topic config overrides; ACLs and quotas), and what
    Strimzi's Topic and User Operators will do about each at their next reconciliation;
    also the User: principals whose ACLs and quotas the User Operator will delete because
    no KafkaUser claims them, each with the KafkaUser to create. Name a topic or a principal
    to narrow it."""
    management = strimzi_of(env)
    if topic is not None:
        env.require_topic(topic)
    if principal is not None and not _user_visible(env.scope, principal):
        raise_outside(env, principal)
    topics = [topic] if topic is not None else None
    result = await collect(env, management, topics, principal, users=topic is None)
    _remember(env, result, topic, principal)
    return result


async def collect(
    env: ToolEnv,
    management: StrimziManagement,
    topics: list[str] | None,
    principal: str | None,
    *,
    users: bool,
) -> DriftResult:
    """The drift of the named topics' KafkaTopics (all when None, none with a principal),
    and with ``users`` of the KafkaUsers and stripped principals (``principal``'s only)."""
    resources = await read_resources(env.kube(), management)
    notes = [f"{kind} is not served by the API server" for kind in resources.missing]
    kafka_topics = [t for t in resources.topics if t.managed and principal is None]
    if topics is not None:
        kafka_topics = [t for t in kafka_topics if t.topic_name in topics]
    shown_topics = [t for t in kafka_topics if env.scope.allows_topic(t.topic_name)]
    withheld = len(kafka_topics) - len(shown_topics)
    if len(shown_topics) > MAX_TOPICS:
        notes.append(f"{len(shown_topics) - MAX_TOPICS} KafkaTopic(s) past {MAX_TOPICS} skipped")
        shown_topics = shown_topics[:MAX_TOPICS]
    rows = await _topic_rows(env, shown_topics, management)
    users_compared = 0
    if users:
        user_rows, users_compared, hidden = await _user_rows(env, resources, principal, notes)
        rows += user_rows
        withheld += hidden
    return DriftResult(
        strimzi_cluster=f"{management.namespace}/{management.cluster_name}",
        rows=rows[:MAX_ROWS],
        topics_compared=len(shown_topics),
        users_compared=users_compared,
        withheld=withheld,
        truncated=max(0, len(rows) - MAX_ROWS),
        notes=notes,
        observed_at=env.now(),
        source=drift_source(env, management),
    )


async def strimzi_drift_facts(
    env: ToolEnv, topics: list[str], principal: str | None, notes: list[str]
) -> dict[str, Any]:
    """For a diagnosis: the drift of the topics in question and of the principal asked
    about, as ``Facts`` fields; a note instead when it cannot be read."""
    management = env.services.cluster.strimzi
    if management is None or not (topics or principal):
        return {}
    if env.services.kube is None:
        notes.append("Strimzi drift was not checked: no Kubernetes API is configured")
        return {}
    if principal is not None and not _user_visible(env.scope, principal):
        principal = None
    try:
        result = await collect(env, management, topics, None, users=False)
        if principal is not None:
            users = await collect(env, management, [], principal, users=True)
            result = result.model_copy(update={"rows": result.rows + users.rows})
    except (KubeError, KafkaPortError) as error:
        notes.append(f"Strimzi drift could not be read: {error}")
        return {}
    notes += result.notes
    return {
        "strimzi_drift": tuple(result.rows),
        "strimzi_observed_at": result.observed_at,
        "strimzi_source": result.source,
    }


def strimzi_of(env: ToolEnv) -> StrimziManagement:
    management = env.services.cluster.strimzi
    if management is None:
        raise ToolFailedError(
            f"cluster {env.services.cluster.name} is not managed by Strimzi (its KafkaCluster "
            "has no spec.managedBy.strimzi): there is no KafkaTopic or KafkaUser to compare"
        )
    return management


def drift_source(env: ToolEnv, management: StrimziManagement) -> str:
    return (
        f"kubernetes/{management.namespace}: KafkaTopics, KafkaUsers (strimzi.io/cluster="
        f"{management.cluster_name}) vs kafka/{env.services.cluster.name}: Metadata, "
        "DescribeConfigs, DescribeAcls, DescribeClientQuotas"
    )


def raise_outside(env: ToolEnv, principal: str) -> None:
    raise ToolDeniedError(
        f"principal `{principal}` is outside your scope: you see the users named under your "
        f"topic prefixes `{env.scope.describe_topics()}` or group prefixes "
        f"`{env.scope.describe_groups()}`"
    )


async def _topic_rows(
    env: ToolEnv, topics: list[StrimziTopic], management: StrimziManagement
) -> list[DriftRow]:
    if not topics:
        return []
    kafka = env.services.kafka
    existing = {t.name: t for t in await kafka.list_topics(include_internal=True)}
    present = sorted({t.topic_name for t in topics if t.topic_name in existing})
    configs = {c.topic: c for c in await kafka.topic_configs(present)} if present else {}
    rows = []
    for kafka_topic in sorted(topics, key=lambda t: t.topic_name):
        info: TopicInfo | None = existing.get(kafka_topic.topic_name)
        live = live_topic(info, configs.get(info.name)) if info is not None else None
        found = topic_drift(kafka_topic, live, cruise_control=management.cruise_control)
        rows += [_masked(row) for row in found]
    return rows


async def _user_rows(
    env: ToolEnv, resources: StrimziResources, principal: str | None, notes: list[str]
) -> tuple[list[DriftRow], int, int]:
    """Rows about KafkaUsers and stripped principals, how many users were compared, and how
    many users or ACLs were withheld."""
    read = await read_user_states(env.services.kafka, [principal] if principal else None)
    notes += read.notes
    users = [u for u in resources.users if principal is None or u.principal == principal]
    shown = [u for u in users if _user_visible(env.scope, u.principal)]
    hidden = len(users) - len(shown)
    rows: list[DriftRow] = []
    for user in shown:
        rows += user_drift(user, read.states.get(user.principal, UserState()))
    states = {p: s for p, s in read.states.items() if _user_visible(env.scope, p)}
    hidden += len(read.states) - len(states)
    rows += stripped_users(resources, states)
    visible = [r for r in rows if r.acl is None or _acl_visible(env.scope, r.acl)]
    return visible, len(shown), hidden + len(rows) - len(visible)


def _user_visible(scope: Scope, principal: str) -> bool:
    """As for quotas: a user named under the caller's topic or group prefixes."""
    name = user_name(principal) or ""
    return scope.unrestricted or scope.allows_topic(name) or scope.allows_group(name)


def _acl_visible(scope: Scope, binding: AclBinding) -> bool:
    """An ACL row names a resource: shown only when it is the caller's."""
    name, prefixed = binding.resource_name, binding.pattern_type is AclPatternType.PREFIXED
    match binding.resource_type:
        case AclResourceType.TOPIC:
            return scope.allows_topic_prefix(name) if prefixed else scope.allows_topic(name)
        case AclResourceType.GROUP:
            return scope.allows_group_prefix(name) if prefixed else scope.allows_group(name)
        case AclResourceType.CLUSTER:
            return True
        case _:
            return scope.unrestricted or scope.allows_topic(name) or scope.allows_group(name)


def _masked(row: DriftRow) -> DriftRow:
    """A config value whose key names a secret is never shown, from either side."""
    if not row.spec_path.startswith(CONFIG_PATH):
        return row
    key = row.spec_path.removeprefix(CONFIG_PATH).removesuffix("']")
    return row.model_copy(
        update={"strimzi": mask_value(key, row.strimzi), "kafka": mask_value(key, row.kafka)}
    )


def _remember(env: ToolEnv, result: DriftResult, topic: str | None, principal: str | None) -> None:
    query = " ".join(
        ["strimzi_drift"]
        + ([f"topic={topic}"] if topic else [])
        + ([f"principal={principal}"] if principal else [])
    )
    for row in result.rows[:50]:
        env.remember(
            _subjects(row),
            [
                Evidence(
                    kind=EvidenceKind.ACL if row.acl else EvidenceKind.CONFIG,
                    source=result.source[:256],
                    query=query,
                    observed_value=drift_text(row)[:4096],
                    time_window=TimeWindow.at(result.observed_at),
                    captured_at=result.observed_at,
                )
            ],
        )


def drift_text(row: DriftRow) -> str:
    return (
        f"{row.resource} ({row.subject}) {row.spec_path}: Strimzi {row.strimzi or '(unset)'}, "
        f"Kafka {row.kafka or '(none)'}; {row.action}"
    )


def _subjects(row: DriftRow) -> set[str]:
    if row.subject.startswith("topic "):
        return {topic_subject(row.subject.removeprefix("topic "))}
    name = row.subject.removeprefix("User:")
    return {
        principal_subject(row.subject),
        quota_subject(entity_label({QuotaEntityType.USER: name})),
    }
