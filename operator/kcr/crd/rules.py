"""CEL rules and list semantics the API server enforces on top of the OpenAPI schema.

Each rule mirrors a pydantic validator of the same model, so a resource the API server
admits is one the operator can read. Only rules of bounded, small cost are mirrored:
checks that compare every item with every other item (duplicate bindings, duplicate
partitions) stay in pydantic, because the API server multiplies a rule's cost by the
number of places it applies (every step of every stage carries a change member).
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from kcr.model import KafkaChangeRequestStatus, OffsetTarget
from kcr.model.acl import CLUSTER_RESOURCE_NAME, SUPPORTED_OPERATIONS, AclBinding, AclOperation
from kcr.model.cluster import Tls
from kcr.model.request import KafkaChangeRequestSpec
from kcr.model.union import KindUnion

SPEC_IMMUTABLE_MESSAGE = "spec is immutable: draft a new KafkaChangeRequest"
# Marks a generated validation the CRD keeps only under ``spec``; removed before output.
SPEC_ONLY = "x-kcr-spec-only"


@dataclass(frozen=True)
class Rule:
    """One ``x-kubernetes-validations`` entry: a CEL expression and what it means.

    ``spec_only`` rules would cost too much repeated in every step of a plan (up to
    10,000 steps): they visit every key of a map, or sit on every ACL binding, of which
    a plan may hold a million. Under ``status``, which the operator writes from models
    pydantic already checked, the API server keeps only the constant-cost rules.
    """

    rule: str
    message: str
    spec_only: bool = False

    def as_validation(self) -> dict[str, Any]:
        validation: dict[str, Any] = {"rule": self.rule, "message": self.message}
        if self.spec_only:
            validation[SPEC_ONLY] = True
        return validation


def cel_string(text: str) -> str:
    """A CEL string literal; raw when it holds backslashes (regular expressions)."""
    if "'" not in text and "\n" not in text:
        return f"r'{text}'" if "\\" in text else f"'{text}'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def union_rules(union: type[KindUnion]) -> list[Rule]:
    """One rule per member: it is set exactly when ``type`` names it.

    Together they say "exactly one member, the one ``type`` names"; one rule per member
    lets the API server name the member that is wrong.
    """
    return [
        Rule(
            rule=f"has(self.{member}) == (self.type == '{kind}')",
            message=f"{member} must be set when type is {kind}, and only then",
        )
        for kind, member in union.member_fields().items()
    ]


def _exactly_one_target() -> Rule:
    fields = [to_camel(name) for name in OffsetTarget.TARGETS]
    present = ", ".join(f"has(self.{field})" for field in fields)
    return Rule(
        rule=f"[{present}].exists_one(x, x)",
        message=f"choose exactly one of {', '.join(fields)}",
    )


def _supported_operations() -> Rule:
    table = ", ".join(
        f"'{resource.value}': [{', '.join(repr(op.value) for op in sorted(operations))}]"
        for resource, operations in SUPPORTED_OPERATIONS.items()
    )
    return Rule(
        rule=f"self.operation == '{AclOperation.ALL.value}' || "
        f"self.operation in {{{table}}}[self.resourceType]",
        message="operation does not apply to this resourceType "
        "(Kafka evaluates only the operations its authorizer knows for each resource type)",
        spec_only=True,
    )


_MODEL_RULES: dict[type[BaseModel], tuple[Rule, ...]] = {
    KafkaChangeRequestSpec: (Rule("self == oldSelf", SPEC_IMMUTABLE_MESSAGE, spec_only=True),),
    OffsetTarget: (_exactly_one_target(),),
    AclBinding: (
        _supported_operations(),
        Rule(
            f"self.resourceType != 'Cluster' || self.resourceName == '{CLUSTER_RESOURCE_NAME}'",
            f"a Cluster resource is always named '{CLUSTER_RESOURCE_NAME}'",
            spec_only=True,
        ),
        Rule(
            "self.resourceName != '*' || !has(self.patternType) || self.patternType == 'Literal'",
            "resourceName '*' matches every resource only with patternType Literal",
            spec_only=True,
        ),
    ),
    Tls: (
        Rule(
            "has(self.certificate) == has(self.key)",
            "a client certificate and its key are given together or not at all",
        ),
    ),
}

# Field-level list semantics (by model and camelCase field name). ``set`` makes the API
# server refuse duplicates; it is used only where item order carries no meaning, because
# a set also compares equal in any order. A kind's model declares its own in
# ``json_schema_extra`` (ResetConsumerGroupOffsets.topics).
_FIELD_EXTRAS: dict[type[BaseModel], dict[str, dict[str, Any]]] = {
    KafkaChangeRequestStatus: {
        "conditions": {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}
    },
}


def rules_for(model: type[BaseModel]) -> list[Rule]:
    """The CEL rules of one model, wherever it appears in a resource."""
    rules = union_rules(model) if issubclass(model, KindUnion) else []
    own: tuple[Rule, ...] = getattr(model, "CEL_RULES", ())
    return [*rules, *_MODEL_RULES.get(model, ()), *own]


def field_extras_for(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    return _FIELD_EXTRAS.get(model, {})
