"""Refuse a change Strimzi would undo, and say what to change in Strimzi instead.

Pure: given a change (or one step of it) and the KafkaTopics and KafkaUsers read just now,
each refusal names the Strimzi resource and carries, as YAML for a pull request, that
resource with the change made in its spec (or the word to delete it).
"""

from dataclasses import dataclass
from typing import Any

import yaml

from kcr.model.kinds import ChangeKind
from kcr.model.strimzi import (
    CLUSTER_LABEL,
    STRIMZI_GROUP_VERSION,
    ResourceEdit,
    StrimziResources,
)


@dataclass(frozen=True)
class Refusal:
    """One Strimzi resource that owns what the change writes, and the edit to make there."""

    resource: str
    """``KafkaTopic team-a/orders``."""
    owns: str
    """What of Kafka it owns: ``topic orders``, ``principal User:billing``."""
    edit: ResourceEdit | None

    def explain(self) -> str:
        head = (
            f"{self.owns} is managed by Strimzi ({self.resource}), which would undo a write "
            "made around it"
        )
        if self.edit is None:
            return f"{head}; change {self.resource} instead"
        return f"{head}; {self.edit.summary} instead, with this pull request:\n{self.edit.yaml}"


def strimzi_refusals(
    kind: ChangeKind, member: Any, resources: StrimziResources | None
) -> list[Refusal]:
    """Every Strimzi resource that owns what ``member`` writes; empty when none does."""
    if resources is None:
        return []
    refusals: list[Refusal] = []
    for topic_name in kind.topics(member):
        topic = resources.topic(topic_name)
        if topic is None:
            continue
        edit = kind.strimzi_topic_edit(member, topic_name, topic.spec)
        if edit is not None:
            refusals.append(
                Refusal(f"KafkaTopic {topic.namespace}/{topic.name}", f"topic {topic_name}", edit)
            )
    principals = sorted(
        {binding.principal for binding in kind.acl_bindings(member)}
        | quota_principals(kind, member)
    )
    for principal in principals:
        user = resources.user(principal)
        if user is not None:
            edit = kind.strimzi_user_edit(member, principal, user.spec)
            refusals.append(
                Refusal(f"KafkaUser {user.namespace}/{user.name}", f"principal {principal}", edit)
            )
    return [with_yaml(refusal, resources) for refusal in refusals]


def quota_principals(kind: ChangeKind, member: Any) -> set[str]:
    """Users whose own quotas the change sets: a KafkaUser's ``spec.quotas`` holds exactly
    those (a user and client id together, or a default, is not Strimzi's)."""
    return {
        f"User:{entity['user']}"
        for entity in kind.quota_entities(member)
        if set(entity) == {"user"} and entity["user"] is not None
    }


def with_yaml(refusal: Refusal, resources: StrimziResources) -> Refusal:
    """The edit's spec rendered as the whole resource a pull request would carry."""
    edit = refusal.edit
    if edit is None or edit.spec is None:
        return refusal
    kind, _, where = refusal.resource.partition(" ")
    namespace, _, name = where.partition("/")
    body = {
        "apiVersion": STRIMZI_GROUP_VERSION,
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {CLUSTER_LABEL: resources.management.cluster_name},
        },
        "spec": dict(edit.spec),
    }
    text = yaml.safe_dump(body, sort_keys=False, default_flow_style=False)
    return Refusal(refusal.resource, refusal.owns, ResourceEdit(edit.spec, edit.summary, text))
