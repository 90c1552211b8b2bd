"""The Strimzi spec each kind's change amounts to: what a pull request to Strimzi would set.

Strimzi spells ACLs its own way (``resource: {type: topic, name, patternType: literal}``,
``operations: [Read]``, ``type: allow``); the conversions live here, next to the topic
spec edits, so a kind's module only says which edit it makes.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from kcr.model.acl import CLUSTER_RESOURCE_NAME, REPORTED_BY_BROKER, AclBinding
from kcr.model.strimzi import CLUSTER_LABEL, STRIMZI_GROUP_VERSION, ResourceEdit


def strimzi_manifest(
    kind: str, namespace: str, name: str, cluster_name: str, spec: Mapping[str, Any]
) -> str:
    """A whole Strimzi resource as YAML, as a pull request to the GitOps repository holds it."""
    body = {
        "apiVersion": STRIMZI_GROUP_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": {CLUSTER_LABEL: cluster_name}},
        "spec": dict(spec),
    }
    return yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


def topic_config_edit(
    spec: Mapping[str, Any], set_keys: Mapping[str, str], delete: Iterable[str]
) -> ResourceEdit:
    config = {k: v for k, v in (spec.get("config") or {}).items() if k not in set(delete)}
    config.update(set_keys)
    changes = [f"spec.config['{k}'] to {v}" for k, v in sorted(set_keys.items())]
    changes += [f"remove spec.config['{k}']" for k in sorted(delete)]
    return ResourceEdit({**spec, "config": config}, "set " + ", ".join(changes))


def topic_partitions_edit(spec: Mapping[str, Any], partitions: int) -> ResourceEdit:
    return ResourceEdit({**spec, "partitions": partitions}, f"set spec.partitions to {partitions}")


def topic_created_edit(
    spec: Mapping[str, Any], partitions: int, replicas: int, config: Mapping[str, str]
) -> ResourceEdit:
    wanted = {**spec, "partitions": partitions, "replicas": replicas}
    if config:
        wanted["config"] = dict(config)
    return ResourceEdit(wanted, "let its KafkaTopic create the topic with this spec")


def topic_deleted_edit() -> ResourceEdit:
    return ResourceEdit(None, "delete the KafkaTopic (Strimzi then deletes the topic)")


def strimzi_acl(binding: AclBinding) -> dict[str, Any]:
    """One kcr binding as a Strimzi ``spec.authorization.acls`` rule."""
    kind = str(binding.resource_type)
    resource: dict[str, Any] = {"type": kind[0].lower() + kind[1:]}
    if kind != "Cluster":
        resource["name"] = binding.resource_name
        resource["patternType"] = "prefix" if str(binding.pattern_type) == "Prefixed" else "literal"
    return {
        "resource": resource,
        "operations": [str(binding.operation)],
        "host": binding.host,
        "type": str(binding.permission).lower(),
    }


def strimzi_rules(bindings: Iterable[AclBinding]) -> list[dict[str, Any]]:
    """Bindings as a KafkaUser lists them: one rule per resource, host and type, with every
    operation on it, in the order first seen."""
    rules: dict[str, dict[str, Any]] = {}
    for binding in bindings:
        rule = strimzi_acl(binding)
        key = repr({k: v for k, v in rule.items() if k != "operations"})
        found = rules.setdefault(key, {**rule, "operations": []})
        found["operations"] += [op for op in rule["operations"] if op not in found["operations"]]
    return list(rules.values())


def rule_bindings(principal: str, rule: Mapping[str, Any]) -> list[AclBinding] | None:
    """The Kafka bindings one ``spec.authorization.acls`` rule stands for; None when kcr
    cannot read the rule (an unknown resource type or operation)."""
    resource = rule.get("resource") or {}
    kind = str(resource.get("type", ""))
    operations = rule.get("operations") or ([rule["operation"]] if rule.get("operation") else [])
    pattern = "Prefixed" if resource.get("patternType") == "prefix" else "Literal"
    try:
        return [
            AclBinding.model_validate(
                {
                    "resourceType": kind[:1].upper() + kind[1:],
                    "resourceName": CLUSTER_RESOURCE_NAME
                    if kind == "cluster"
                    else resource.get("name"),
                    "patternType": pattern,
                    "principal": principal,
                    "host": rule.get("host") or "*",
                    "operation": operation,
                    "permission": str(rule.get("type") or "allow").capitalize(),
                },
                context={REPORTED_BY_BROKER: True},
            )
            for operation in operations
        ]
    except ValidationError:
        return None


def config_text(value: Any) -> str:
    """A ``spec.config`` value as the Topic Operator sends it to Kafka: lists joined by
    commas, booleans in lower case, numbers as written."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(config_text(v) for v in value)
    return str(value)


def user_acls_edit(
    spec: Mapping[str, Any], principal: str, add: list[AclBinding], remove: list[AclBinding]
) -> ResourceEdit:
    """The KafkaUser's ACL list with ``add`` in it and ``remove`` taken out: an operation
    joins the rule for the same resource, host and type, as a person would write it."""
    mine = [b for b in add if b.principal == principal]
    removed = [b for b in remove if b.principal == principal]
    gone = {b.key() for b in removed}
    authorization = dict(spec.get("authorization") or {"type": "simple"})
    rules: list[dict[str, Any]] = []
    held: set[str] = set()
    for rule in authorization.get("acls") or []:
        bindings = rule_bindings(principal, rule)
        if bindings is None:  # not kcr's to read: kept as written
            rules.append(dict(rule))
            continue
        held |= {b.key() for b in bindings}
        kept = [str(b.operation) for b in bindings if b.key() not in gone]
        if len(kept) == len(bindings):
            rules.append(dict(rule))
        elif kept:
            rules.append({k: v for k, v in rule.items() if k != "operation"} | {"operations": kept})
    for binding in mine:
        if binding.key() not in held:
            _join(rules, binding)
            held.add(binding.key())
    authorization["acls"] = rules
    words = [f"add {b.key()}" for b in mine] + [f"remove {b.key()}" for b in removed]
    summary = "in spec.authorization.acls " + "; ".join(words)
    return ResourceEdit({**spec, "authorization": authorization}, summary)


def _join(rules: list[dict[str, Any]], binding: AclBinding) -> None:
    """Add ``binding``'s operation to the rule on its resource, host and type, or a new rule."""
    wanted = strimzi_acl(binding)
    shape = {k: v for k, v in wanted.items() if k != "operations"}
    for rule in rules:
        if {k: v for k, v in rule.items() if k not in ("operations", "operation")} == shape:
            rule["operations"] = [*(rule.get("operations") or []), *wanted["operations"]]
            return
    rules.append(wanted)


STRIMZI_QUOTA_KEYS = {
    "producer_byte_rate": "producerByteRate",
    "consumer_byte_rate": "consumerByteRate",
    "request_percentage": "requestPercentage",
    "controller_mutation_rate": "controllerMutationRate",
}
"""Kafka's quota keys as a KafkaUser's ``spec.quotas`` spells them."""


def user_quotas_edit(spec: Mapping[str, Any], quotas: Mapping[str, float | None]) -> ResourceEdit:
    """The KafkaUser's quotas with each key set, or removed where the value is null."""
    current = dict(spec.get("quotas") or {})
    words = []
    for key, value in quotas.items():
        field = STRIMZI_QUOTA_KEYS[key]
        if value is None:
            current.pop(field, None)
            words.append(f"remove {field}")
        else:
            current[field] = int(value) if value.is_integer() else value
            words.append(f"{field}: {current[field]}")
    edited = (
        {**spec, "quotas": current} if current else {k: v for k, v in spec.items() if k != "quotas"}
    )
    return ResourceEdit(edited, "in spec.quotas " + "; ".join(words))
