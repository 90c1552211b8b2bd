"""Every CEL rule of the CRDs, evaluated with cel-python on valid and invalid objects.

Each rule has a counter-example that it alone must reject: the test looks for that rule's
own message at that rule's own place, so deleting a rule fails its case, and a rule added
without a case fails ``test_every_rule_has_a_counter_example``.
"""

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

import kcr.kinds  # noqa: F401  (the built-in kinds, which CHANGE_TYPES reads)
from kcr.crd import build_crds
from kcr.crd.check import walk
from kcr.model import KINDS, KafkaChangeRequest, KafkaCluster

from .test_crd_apiserver import CLUSTER, admit

EXAMPLES = Path(__file__).parents[2] / "manifests" / "examples"

BINDING = {
    "resourceType": "Topic",
    "resourceName": "orders",
    "principal": "User:alice",
    "operation": "Read",
}
MOVE = {
    "topic": "orders",
    "replicationFactor": 2,
    "partitions": [{"partition": 0, "replicas": [1, 2]}],
}
MEMBERS: dict[str, tuple[str, dict[str, Any]]] = {
    "CreateTopic": (
        "createTopic",
        {
            "topic": "orders",
            "partitions": 6,
            "replicationFactor": 3,
            "configs": {"retention.ms": "86400000"},
        },
    ),
    "IncreasePartitions": ("increasePartitions", {"topic": "orders", "partitions": 12}),
    "AlterTopicConfig": (
        "alterTopicConfig",
        {"topics": ["orders"], "set": {"retention.ms": "86400000"}, "delete": ["segment.ms"]},
    ),
    "ResetConsumerGroupOffsets": (
        "resetConsumerGroupOffsets",
        {"group": "billing", "topics": ["orders"], "to": {"earliest": True}},
    ),
    "AlterAcls": ("alterAcls", {"add": [BINDING]}),
    "DeleteTopic": ("deleteTopic", {"topic": "orders"}),
    "ScaleDeployment": ("scaleDeployment", {"namespace": "shop", "name": "billing"}),
    "ReassignPartitions": (
        "reassignPartitions",
        {"topics": [MOVE], "throttleBytesPerSecond": 10_485_760},
    ),
    "ElectLeaders": ("electLeaders", {"topics": [{"topic": "orders", "partitions": [0]}]}),
    "ReplicationThrottle": (
        "replicationThrottle",
        {"bytesPerSecond": 10_485_760, "topics": [MOVE]},
    ),
    "AwaitReassignment": (
        "awaitReassignment",
        {"throttleBytesPerSecond": 10_485_760, "topics": [MOVE]},
    ),
    "AlterClientQuotas": (
        "alterClientQuotas",
        {"entities": [{"user": "alice", "quotas": {"producer_byte_rate": 1048576}}]},
    ),
    "RestartWorkload": (
        "restartWorkload",
        {"group": "billing", "deployment": {"namespace": "shop", "name": "billing"}},
    ),
    "AwaitRejoin": ("awaitRejoin", {"group": "billing"}),
}
STEP_ONLY = tuple(kind for kind in MEMBERS if not KINDS.named(kind).requestable)
CHANGE_TYPES = [kind for kind in MEMBERS if kind not in STEP_ONLY]


def union(kind: str, **members: Any) -> dict[str, Any]:
    """``type`` plus the member it names, or the members given instead."""
    member, value = MEMBERS[kind]
    return {"type": kind, **(members or {member: copy.deepcopy(value)})}


def change_request(change: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    spec = {
        "cluster": "prod",
        "change": change or union("AlterTopicConfig"),
        "requestedBy": {"principal": "alice", "channel": "kubectl"},
        "reason": "orders keep 7 days but consumers re-read at most one",
    }
    resource = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaChangeRequest",
        "metadata": {"name": "orders-retention", "namespace": "kafka"},
        "spec": spec,
    }
    for key, value in extra.items():
        (resource if key == "status" else spec)[key] = value
    return resource


def _step(operation: dict[str, Any]) -> dict[str, Any]:
    return {"id": "s1", "description": "apply", "operation": operation, "idempotenceKey": "k1"}


def in_plan(operation: dict[str, Any]) -> dict[str, Any]:
    return change_request(
        status={"plan": {"stages": [{"name": "apply", "steps": [_step(operation)]}]}}
    )


def in_rollback(operation: dict[str, Any]) -> dict[str, Any]:
    return change_request(
        status={"rollbackPlan": {"reversible": True, "steps": [_step(operation)]}}
    )


def in_observed(binding: dict[str, Any]) -> dict[str, Any]:
    return change_request(observed={"capturedAt": "2026-11-25T08:00:00Z", "acls": [binding]})


def cluster(**spec: Any) -> dict[str, Any]:
    resource = copy.deepcopy(CLUSTER)
    resource["spec"].update(spec)
    return resource


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    valid: dict[str, Any]
    invalid: dict[str, Any]
    path: str
    message: str
    old: dict[str, Any] | None = None
    pydantic_rejects: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def error(self) -> str:
        return f"{self.path}: {self.message}"


OPERATION_PLACES = {
    "plan": (in_plan, ".status.plan.stages[].steps[].operation"),
    "rollback": (in_rollback, ".status.rollbackPlan.steps[].operation"),
}
CHANGE_PLACES = {
    "spec": (change_request, ".spec.change"),
    **OPERATION_PLACES,
}


def _union_cases() -> list[Case]:
    """``type`` names a member that is absent while another member is set."""
    cases = []
    for place, (build, path) in CHANGE_PLACES.items():
        kinds = CHANGE_TYPES if place == "spec" else list(MEMBERS)
        for kind in kinds:
            member = MEMBERS[kind][0]
            other_kind = "DeleteTopic" if kind != "DeleteTopic" else "CreateTopic"
            other_member, other_value = MEMBERS[other_kind]
            cases.append(
                Case(
                    id=f"{place}-union-{member}",
                    kind="KafkaChangeRequest",
                    valid=build(union(kind)),
                    invalid=build(union(kind, **{other_member: other_value})),
                    path=path,
                    message=f"{member} must be set when type is {kind}, and only then",
                )
            )
    return cases


def _member_cases() -> list[Case]:
    cases = []
    for place, (build, path) in CHANGE_PLACES.items():
        alter = MEMBERS["AlterTopicConfig"][1]
        cases.append(
            Case(
                id=f"{place}-alter-topic-config-needs-a-key",
                kind="KafkaChangeRequest",
                valid=build(union("AlterTopicConfig")),
                invalid=build(
                    union("AlterTopicConfig", alterTopicConfig={**alter, "set": {}, "delete": []})
                ),
                path=f"{path}.alterTopicConfig",
                message="nothing to change: give at least one key in 'set' or 'delete'",
            )
        )
        cases.append(
            Case(
                id=f"{place}-alter-acls-needs-a-binding",
                kind="KafkaChangeRequest",
                valid=build(union("AlterAcls")),
                invalid=build(union("AlterAcls", alterAcls={"add": [], "remove": []})),
                path=f"{path}.alterAcls",
                message="nothing to change: give at least one binding in 'add' or 'remove'",
            )
        )
        reset = MEMBERS["ResetConsumerGroupOffsets"][1]
        for name, target in {
            "none": {},
            "two": {"earliest": True, "shiftBy": -10},
        }.items():
            cases.append(
                Case(
                    id=f"{place}-offset-target-{name}",
                    kind="KafkaChangeRequest",
                    valid=build(union("ResetConsumerGroupOffsets")),
                    invalid=build(
                        union(
                            "ResetConsumerGroupOffsets",
                            resetConsumerGroupOffsets={**reset, "to": target},
                        )
                    ),
                    path=f"{path}.resetConsumerGroupOffsets.to",
                    message="choose exactly one of earliest, latest, timestamp, offsets, shiftBy",
                )
            )
    return cases


BAD_BINDINGS = {
    "operation-not-for-resource": (
        {**BINDING, "resourceType": "Group", "resourceName": "billing", "operation": "Write"},
        "operation does not apply to this resourceType (Kafka evaluates only the operations "
        "its authorizer knows for each resource type)",
    ),
    "cluster-name": (
        {**BINDING, "resourceType": "Cluster", "resourceName": "prod", "operation": "Alter"},
        "a Cluster resource is always named 'kafka-cluster'",
    ),
    "wildcard-prefixed": (
        {**BINDING, "resourceName": "*", "patternType": "Prefixed"},
        "resourceName '*' matches every resource only with patternType Literal",
    ),
}


def _spec_only_cases() -> list[Case]:
    alter = MEMBERS["AlterTopicConfig"][1]
    cases = [
        Case(
            id="spec-key-both-set-and-deleted",
            kind="KafkaChangeRequest",
            valid=change_request(union("AlterTopicConfig")),
            invalid=change_request(
                union("AlterTopicConfig", alterTopicConfig={**alter, "delete": ["retention.ms"]})
            ),
            path=".spec.change.alterTopicConfig",
            message="a key cannot be both set and deleted",
        )
    ]
    cases.append(
        Case(
            id="spec-replication-factor-lists-that-many",
            kind="KafkaChangeRequest",
            valid=change_request(union("ReassignPartitions")),
            invalid=change_request(
                union(
                    "ReassignPartitions",
                    reassignPartitions={
                        **MEMBERS["ReassignPartitions"][1],
                        "topics": [{**MOVE, "replicationFactor": 3}],
                    },
                )
            ),
            path=".spec.change.reassignPartitions",
            message="a topic with replicationFactor lists that many brokers for each of its "
            "partitions",
        )
    )
    places = {
        "add": (lambda b: change_request(union("AlterAcls", alterAcls={"add": [b]})), "add[]"),
        "remove": (
            lambda b: change_request(union("AlterAcls", alterAcls={"remove": [b]})),
            "remove[]",
        ),
    }
    for place, (build, suffix) in places.items():
        for name, (binding, message) in BAD_BINDINGS.items():
            cases.append(
                Case(
                    id=f"spec-{place}-{name}",
                    kind="KafkaChangeRequest",
                    valid=build(BINDING),
                    invalid=build(binding),
                    path=f".spec.change.alterAcls.{suffix}",
                    message=message,
                )
            )
    for name, (binding, message) in BAD_BINDINGS.items():
        cases.append(
            Case(
                id=f"observed-acl-{name}",
                kind="KafkaChangeRequest",
                valid=in_observed(BINDING),
                invalid=in_observed(binding),
                path=".spec.observed.acls[]",
                message=message,
            )
        )
    return cases


def _config_key_cases() -> list[Case]:
    create = MEMBERS["CreateTopic"][1]
    alter = MEMBERS["AlterTopicConfig"][1]
    places = {
        "create": (
            lambda configs: change_request(
                union("CreateTopic", createTopic={**create, "configs": configs})
            ),
            ".spec.change.createTopic.configs",
        ),
        "alter": (
            lambda configs: change_request(
                union("AlterTopicConfig", alterTopicConfig={**alter, "set": configs})
            ),
            ".spec.change.alterTopicConfig.set",
        ),
    }
    keys = {
        "pattern": ("retention ms", r"keys must match ^[a-zA-Z0-9._-]+$"),
        "too-long": ("r" * 256, "keys must be at most 255 characters long"),
        "empty": ("", "keys must be at least 1 characters long"),
    }
    return [
        Case(
            id=f"{place}-config-key-{name}",
            kind="KafkaChangeRequest",
            valid=build({"retention.ms": "86400000"}),
            invalid=build({key: "1"}),
            path=path,
            message=message,
        )
        for place, (build, path) in places.items()
        for name, (key, message) in keys.items()
    ]


def _cluster_cases() -> list[Case]:
    secret = {"name": "kafka-client", "key": "tls.crt"}
    return [
        Case(
            id="cluster-tls-pair",
            kind="KafkaCluster",
            valid=cluster(tls={"certificate": secret, "key": {**secret, "key": "tls.key"}}),
            invalid=cluster(tls={"certificate": secret}),
            path=".spec.tls",
            message="a client certificate and its key are given together or not at all",
        ),
        Case(
            id="cluster-approval-risk",
            kind="KafkaCluster",
            valid=cluster(policy={"requiredApprovals": {"HIGH": 2}}),
            invalid=cluster(policy={"requiredApprovals": {"URGENT": 2}}),
            path=".spec.policy.requiredApprovals",
            message="keys must be one of LOW, MEDIUM, HIGH, CRITICAL",
        ),
    ]


def _immutability_case() -> Case:
    old = change_request(union("AlterTopicConfig"))
    status_only = {**old, "status": {"phase": "AwaitingApproval"}}
    changed = copy.deepcopy(old)
    changed["spec"]["change"]["alterTopicConfig"]["set"]["retention.ms"] = "3600000"
    return Case(
        id="spec-immutable",
        kind="KafkaChangeRequest",
        valid=status_only,
        invalid=changed,
        old=old,
        path=".spec",
        message="spec is immutable: draft a new KafkaChangeRequest",
        pydantic_rejects=False,  # a transition rule: pydantic sees one object, not two
    )


def _quota_cases() -> list[Case]:
    """A quota entity names a user or a client id; only Kafka's three keys are quotas."""

    def quotas(entity: dict[str, Any]) -> dict[str, Any]:
        return change_request(union("AlterClientQuotas", alterClientQuotas={"entities": [entity]}))

    alice = {"user": "alice", "quotas": {"producer_byte_rate": 1048576}}
    return [
        Case(
            id="spec-quota-entity-names-someone",
            kind="KafkaChangeRequest",
            valid=quotas(alice),
            invalid=quotas({"quotas": {"producer_byte_rate": 1048576}}),
            path=".spec.change.alterClientQuotas.entities[]",
            message="name a user, a clientId, or both",
        ),
        Case(
            id="spec-quota-user-is-a-name",
            kind="KafkaChangeRequest",
            valid=quotas(alice),
            invalid=quotas({**alice, "user": "User:alice"}),
            path=".spec.change.alterClientQuotas.entities[]",
            message="give the user's name without 'User:': Kafka keeps quotas under the "
            "principal's name",
        ),
        Case(
            id="spec-quota-keys-are-kafkas",
            kind="KafkaChangeRequest",
            valid=quotas({**alice, "quotas": {"request_percentage": None}}),
            invalid=quotas({**alice, "quotas": {"producer.byte.rate": 1048576}}),
            path=".spec.change.alterClientQuotas",
            message="quota keys must be one of producer_byte_rate, consumer_byte_rate, "
            "request_percentage",
        ),
    ]


CASES = [
    *_union_cases(),
    *_member_cases(),
    *_quota_cases(),
    *_spec_only_cases(),
    *_config_key_cases(),
    *_cluster_cases(),
    _immutability_case(),
]
MODELS: dict[str, type[BaseModel]] = {
    "KafkaChangeRequest": KafkaChangeRequest,
    "KafkaCluster": KafkaCluster,
}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule_admits_the_valid_object(case: Case) -> None:
    assert admit(case.kind, case.valid, case.old) == []
    MODELS[case.kind].model_validate(case.valid)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule_rejects_its_counter_example(case: Case) -> None:
    assert case.error in admit(case.kind, case.invalid, case.old)


@pytest.mark.parametrize("case", [c for c in CASES if c.pydantic_rejects], ids=lambda case: case.id)
def test_pydantic_rejects_the_same_counter_example(case: Case) -> None:
    with pytest.raises(ValidationError):
        MODELS[case.kind].model_validate(case.invalid)


def test_every_rule_has_a_counter_example() -> None:
    rules = {
        (crd["spec"]["names"]["kind"], path, validation["message"])
        for crd in build_crds()
        for path, node in walk(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
        for validation in node.get("x-kubernetes-validations", [])
    }
    tested = {(case.kind, case.path, case.message) for case in CASES}
    assert rules - tested == set(), "rules without a counter-example"
    assert tested - rules == set(), "counter-examples for rules the CRDs do not have"


def test_union_rules_hold_for_every_valid_change_kind() -> None:
    for kind in MEMBERS:
        assert admit("KafkaChangeRequest", in_plan(union(kind))) == []


def test_spec_rule_is_not_a_create_time_rule() -> None:
    changed = change_request(union("DeleteTopic"))
    assert admit("KafkaChangeRequest", changed) == []


def test_null_members_count_as_absent() -> None:
    """A draft dumped with None values (null) is pruned to the one member that is set."""
    members = {member: None for kind, (member, _) in MEMBERS.items() if kind not in STEP_ONLY}
    change = {**members, **union("DeleteTopic")}
    assert admit("KafkaChangeRequest", change_request(change)) == []


def _example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml")) if EXAMPLES.is_dir() else []


@pytest.mark.parametrize("path", _example_files(), ids=lambda path: path.stem)
def test_examples_pass_the_api_server_checks(path: Path) -> None:
    for document in yaml.safe_load_all(path.read_text()):
        if document and document.get("kind") in MODELS:
            assert admit(document["kind"], document) == []
