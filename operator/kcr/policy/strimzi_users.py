"""``User:`` principals no KafkaUser claims: Strimzi's User Operator strips them.

At each periodic reconciliation the User Operator lists every user Kafka holds ACLs or
quotas for, and deletes them for a user no KafkaUser names, unless its Kafka name matches
STRIMZI_IGNORED_USERS_PATTERN. Pure: a change for such a principal would be undone, so the
review warns and proposes the KafkaUser that makes Strimzi keep (and apply) what it needs.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kcr.model.acl import AclBinding
from kcr.model.names import KUBE_NAME_PATTERN
from kcr.model.strimzi import USER_PREFIX, StrimziResources, user_name
from kcr.policy.strimzi_specs import STRIMZI_QUOTA_KEYS, strimzi_manifest, strimzi_rules

MAX_KUBE_NAME = 253
_KUBE_NAME = re.compile(KUBE_NAME_PATTERN)


@dataclass(frozen=True)
class UserState:
    """What Kafka holds for one principal: its ACLs and its own quotas (the user alone)."""

    acls: tuple[AclBinding, ...] = ()
    quotas: Mapping[str, float] = field(default_factory=dict)


def stripped(resources: StrimziResources, principal: str) -> bool:
    """The User Operator deletes this principal's ACLs and quotas at periodic reconciliation."""
    return (
        principal.startswith(USER_PREFIX)
        and not resources.claims(principal)
        and not resources.management.ignores(principal)
    )


def kafka_user_spec(principal: str, state: UserState) -> dict[str, Any]:
    """The KafkaUser spec that keeps what Kafka holds for ``principal`` as it is.

    A ``CN=`` name is a certificate user (``authentication: tls``); for any other name the
    spec names no authentication, so the principal stays exactly ``User:<name>``.
    """
    spec: dict[str, Any] = {}
    if principal.removeprefix(USER_PREFIX).startswith("CN="):
        spec["authentication"] = {"type": "tls"}
    if state.acls:
        spec["authorization"] = {"type": "simple", "acls": strimzi_rules(state.acls)}
    quotas = {
        STRIMZI_QUOTA_KEYS[k]: int(v) if float(v).is_integer() else v
        for k, v in sorted(state.quotas.items())
        if k in STRIMZI_QUOTA_KEYS
    }
    if quotas:
        spec["quotas"] = quotas
    return spec


def kafka_user_proposal(
    principal: str, resources: StrimziResources, spec: Mapping[str, Any]
) -> str:
    """The KafkaUser as YAML for a pull request, or why no KafkaUser can own the principal."""
    name = user_name(principal) or ""
    if len(name) > MAX_KUBE_NAME or not _KUBE_NAME.fullmatch(name):
        return (
            f"no KafkaUser can own it: {name!r} is not a valid Kubernetes name; add the name "
            "to STRIMZI_IGNORED_USERS_PATTERN (and to spec.managedBy.strimzi."
            "ignoredUsersPattern) instead"
        )
    where = resources.management
    return strimzi_manifest("KafkaUser", where.namespace, name, where.cluster_name, spec)


def stripped_explanation(principal: str, resources: StrimziResources) -> str:
    """Why Strimzi deletes what ``principal`` holds: no KafkaUser, no matching pattern."""
    where = resources.management
    pattern = where.ignored_users_pattern
    ignored = (
        f"STRIMZI_IGNORED_USERS_PATTERN {pattern!r} does not match "
        f"{principal.removeprefix(USER_PREFIX)!r}"
        if pattern is not None
        else "no STRIMZI_IGNORED_USERS_PATTERN is declared (spec.managedBy.strimzi."
        "ignoredUsersPattern)"
    )
    return (
        f"{principal} has no KafkaUser {user_name(principal)!r} in Strimzi cluster "
        f"{where.namespace}/{where.cluster_name} and {ignored}: the User Operator deletes "
        "its ACLs and quotas at its next periodic reconciliation"
    )
