"""Refuse a change Strimzi would undo, and say what to change in Strimzi instead.

Pure: given a change (or one step of it) and the KafkaTopics and KafkaUsers read just now,
each refusal names the Strimzi resource and carries, as YAML for a pull request, that
resource with the change made in its spec (or the word to delete it). A change for a user
no KafkaUser claims is not refused but warned about: the User Operator would delete it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kcr.model.kinds import ChangeKind
from kcr.model.strimzi import ResourceEdit, StrimziResources
from kcr.policy.strimzi_specs import strimzi_manifest
from kcr.policy.strimzi_users import (
    UserState,
    kafka_user_proposal,
    kafka_user_spec,
    stripped,
    stripped_explanation,
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
    for principal in written_principals(kind, member):
        user = resources.user(principal)
        if user is not None:
            edit = kind.strimzi_user_edit(member, principal, user.spec)
            refusals.append(
                Refusal(f"KafkaUser {user.namespace}/{user.name}", f"principal {principal}", edit)
            )
    return [with_yaml(refusal, resources) for refusal in refusals]


def user_operator_warnings(
    kind: ChangeKind,
    member: Any,
    resources: StrimziResources | None,
    states: Mapping[str, UserState] | None = None,
    *,
    complete: bool = True,
) -> list[str]:
    """A warning per principal the change writes for that no KafkaUser claims: Strimzi
    would delete what the change adds. Each proposes the KafkaUser to create instead, from
    what Kafka holds for the principal (``states``; ``complete`` when they hold all of it,
    not only what the change names) with the change made."""
    if resources is None:
        return []
    warnings = []
    for principal in written_principals(kind, member):
        if not stripped(resources, principal):
            continue
        base = kafka_user_spec(principal, (states or {}).get(principal, UserState()))
        edit = kind.strimzi_user_edit(member, principal, base)
        spec = edit.spec if edit is not None and edit.spec is not None else base
        partial = (
            ""
            if complete
            else " (add the principal's other ACLs and quotas, as strimzi_drift lists them: "
            "this one holds only what the change names)"
        )
        warnings.append(
            f"{stripped_explanation(principal, resources)}, this change's included; create "
            "its KafkaUser instead (in a pull request; the User Operator then applies what it "
            f"lists){partial}:\n{kafka_user_proposal(principal, resources, spec)}"
        )
    return warnings


def strimzi_may_own(kind: ChangeKind, member: Any) -> bool:
    """Whether any KafkaTopic or KafkaUser could own what ``member`` writes; when none could
    (an offset reset, a wait for a move, an election), Strimzi need not be read for it."""
    return bool(written_principals(kind, member)) or any(
        kind.strimzi_topic_edit(member, topic, {}) is not None for topic in kind.topics(member)
    )


def written_principals(kind: ChangeKind, member: Any) -> list[str]:
    """Principals whose ACLs or own quotas the change writes."""
    return sorted(
        {binding.principal for binding in kind.acl_bindings(member)}
        | quota_principals(kind, member)
    )


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
    text = strimzi_manifest(kind, namespace, name, resources.management.cluster_name, edit.spec)
    return Refusal(refusal.resource, refusal.owns, ResourceEdit(edit.spec, edit.summary, text))
