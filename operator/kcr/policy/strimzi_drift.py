"""Where Kafka and a Strimzi resource's spec differ, and what Strimzi will do about it.

Strimzi's Topic Operator resyncs every KafkaTopic (every 120 s by default): it sets config
keys back to the spec, deletes topic overrides the spec does not list and adds partitions
up to ``spec.partitions``. The User Operator does the same for a KafkaUser's ACLs and
quotas, and deletes those of users no KafkaUser claims. Pure: from a resource's spec and
what Kafka holds now, one row per difference, each saying what the next reconciliation does.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import Field

from kcr.model.acl import AclBinding
from kcr.model.base import KubeModel
from kcr.model.strimzi import StrimziResources, StrimziTopic, StrimziUser
from kcr.policy.strimzi_specs import STRIMZI_QUOTA_KEYS, config_text, rule_bindings
from kcr.policy.strimzi_users import (
    UserState,
    kafka_user_proposal,
    kafka_user_spec,
    stripped,
    stripped_explanation,
)

RowMaker = Callable[[str, str | None, str | None, str], "DriftRow"]
"""Makes one row about a resource: spec path, spec value, Kafka value, action."""
TOPIC_OPERATOR = "the Topic Operator"
USER_OPERATOR = "the User Operator"


class DriftRow(KubeModel):
    """One difference between Kafka and what Strimzi enforces."""

    resource: str = Field(description="KafkaTopic or KafkaUser namespace/name; 'no KafkaUser'")
    subject: str = Field(description="What of Kafka it is about: topic orders, User:bob")
    spec_path: str = Field(description="The spec field compared, e.g. spec.config['retention.ms']")
    strimzi: str | None = Field(description="What the spec says; null when it says nothing")
    kafka: str | None = Field(description="What Kafka holds now; null when it holds nothing")
    action: str = Field(description="What Strimzi does about it at its next reconciliation")
    proposal: str | None = Field(
        default=None,
        description="For a principal Strimzi would strip: the KafkaUser to create, as YAML",
    )
    acl: AclBinding | None = Field(default=None, description="The ACL a row about ACLs is about")

    def with_acl(self, binding: AclBinding) -> "DriftRow":
        return self.model_copy(update={"acl": binding})


@dataclass(frozen=True)
class LiveTopic:
    """What Kafka holds for a topic: partitions, replication factor, its configuration."""

    partitions: int
    replication_factor: int
    configs: Mapping[str, str | None]
    """Every key's effective value; None where the broker hides it (sensitive)."""
    overrides: frozenset[str]
    """The keys set on the topic itself, the ones a missing spec key deletes."""


def topic_drift(
    topic: StrimziTopic, live: LiveTopic | None, *, cruise_control: bool
) -> list[DriftRow]:
    """Every difference between a managed KafkaTopic's spec and its topic in Kafka."""
    row = _rower(f"KafkaTopic {topic.namespace}/{topic.name}", f"topic {topic.topic_name}", topic)
    spec = topic.spec
    if live is None:
        return [row("spec", "present", None, f"creates topic {topic.topic_name} from the spec")]
    found = []
    partitions = spec.get("partitions")
    if isinstance(partitions, int) and partitions != live.partitions:
        found.append(
            row(
                "spec.partitions",
                str(partitions),
                str(live.partitions),
                _partitions_action(partitions, live.partitions),
            )
        )
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas != live.replication_factor:
        found.append(
            row(
                "spec.replicas",
                str(replicas),
                str(live.replication_factor),
                _replicas_action(replicas, live.replication_factor, cruise_control),
            )
        )
    return found + _config_drift(spec.get("config") or {}, live, row)


def _partitions_action(wanted: int, held: int) -> str:
    if wanted > held:
        return f"adds {wanted - held} partition(s), up to {wanted} (cannot be undone)"
    return (
        f"cannot remove partitions: marks the KafkaTopic NotReady and leaves {held}; set "
        f"spec.partitions to {held}"
    )


def _replicas_action(wanted: int, held: int, cruise_control: bool) -> str:
    if cruise_control:
        return (
            f"asks Cruise Control to change the replication factor from {held} to {wanted} "
            "(status.replicasChange shows its progress)"
        )
    return (
        f"cannot change the replication factor without Cruise Control: marks the KafkaTopic "
        f"NotReady and leaves {held}; set spec.replicas to {held}"
    )


def _config_drift(wanted: Mapping[str, object], live: LiveTopic, row: RowMaker) -> list[DriftRow]:
    """A spec key whose value Kafka does not have is set; an override the spec does not
    list is deleted. A value the broker hides cannot be compared and is left out."""
    found = []
    for key in sorted(set(wanted) | live.overrides):
        path = f"spec.config['{key}']"
        held = live.configs.get(key)
        if key not in wanted:
            shown = held if held is not None else "(hidden by the broker)"
            action = f"deletes the override of {key}: it falls back to the broker's default"
            found.append(row(path, None, shown, action))
            continue
        if key in live.configs and held is None:
            continue
        value = config_text(wanted[key])
        if held != value:
            found.append(row(path, value, held, f"sets {key} back to the spec's value"))
    return found


def user_drift(user: StrimziUser, state: UserState) -> list[DriftRow]:
    """Every difference between a KafkaUser's ACLs and quotas and what Kafka holds."""
    row = _rower(f"KafkaUser {user.namespace}/{user.name}", user.principal, user)
    return _acl_drift(user, state.acls, row) + _quota_drift(user, state.quotas, row)


def _acl_drift(user: StrimziUser, held: Sequence[AclBinding], row: RowMaker) -> list[DriftRow]:
    authorization = user.spec.get("authorization") or {}
    wanted: dict[str, AclBinding] = {}
    found = []
    if authorization.get("type") == "simple":
        for index, rule in enumerate(authorization.get("acls") or []):
            bindings = rule_bindings(user.principal, rule)
            if bindings is None:
                found.append(
                    row(
                        f"spec.authorization.acls[{index}]",
                        str(rule),
                        None,
                        "not compared: kcr cannot read this rule",
                    )
                )
                continue
            wanted |= {b.key(): b for b in bindings}
    have = {b.key(): b for b in held}
    path = "spec.authorization.acls"
    for key in sorted(set(have) - set(wanted)):
        found.append(row(path, None, key, f"deletes the ACL {key}").with_acl(have[key]))
    for key in sorted(set(wanted) - set(have)):
        found.append(row(path, key, None, f"creates the ACL {key}").with_acl(wanted[key]))
    return found


def _quota_drift(user: StrimziUser, held: Mapping[str, float], row: RowMaker) -> list[DriftRow]:
    wanted = user.spec.get("quotas") or {}
    found = []
    for key, name in STRIMZI_QUOTA_KEYS.items():
        want, have = wanted.get(name), held.get(key)
        if want is None and have is None:
            continue
        if want is not None and have is not None and float(want) == float(have):
            continue
        path = f"spec.quotas.{name}"
        action = f"removes {key}" if want is None else f"sets {key} to {_number(want)}"
        found.append(row(path, _number(want), _number(have), action))
    return found


def stripped_users(resources: StrimziResources, states: Mapping[str, UserState]) -> list[DriftRow]:
    """Principals with ACLs or quotas in Kafka that the User Operator will strip."""
    rows = []
    for principal, state in sorted(states.items()):
        if not (state.acls or state.quotas) or not stripped(resources, principal):
            continue
        held = f"{len(state.acls)} ACL(s), {len(state.quotas)} quota key(s)"
        proposal = kafka_user_proposal(principal, resources, kafka_user_spec(principal, state))
        rows.append(
            DriftRow(
                resource="no KafkaUser",
                subject=principal,
                spec_path="(no KafkaUser)",
                strimzi=None,
                kafka=held,
                action=stripped_explanation(principal, resources)
                + "; create its KafkaUser (proposal) to keep them",
                proposal=proposal,
            )
        )
    return rows


def _rower(resource: str, subject: str, owner: StrimziTopic | StrimziUser) -> RowMaker:
    """Rows about one resource; a paused one is left alone until it is resumed."""
    who = TOPIC_OPERATOR if isinstance(owner, StrimziTopic) else USER_OPERATOR

    def row(path: str, strimzi: str | None, kafka: str | None, action: str) -> DriftRow:
        if owner.paused:
            action = (
                f"nothing while reconciliation is paused (strimzi.io/pause-reconciliation); "
                f"once resumed {who} {action}"
            )
        else:
            action = f"{who} {action}"
        return DriftRow(
            resource=resource,
            subject=subject,
            spec_path=path,
            strimzi=strimzi,
            kafka=kafka,
            action=action,
        )

    return row


def _number(value: float | str | None) -> str | None:
    if value is None:
        return None
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)
