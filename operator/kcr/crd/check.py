"""Check a schema against the apiextensions structural-schema rules and the CEL cost rules.

The API server refuses a CRD whose schema is not structural, and refuses CEL rules whose
estimated cost is unbounded; both are found here, before anything reaches a cluster.
"""

from collections.abc import Iterator
from typing import Any

from kcr.crd.structural import STRUCTURAL_KEYWORDS, JsonSchema

_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})
_SCALARS = frozenset({"string", "integer", "number", "boolean"})
# Formats whose values have a fixed, short length.
_SHORT_FORMATS = frozenset({"date-time", "date", "duration"})


def structural_problems(schema: JsonSchema) -> list[str]:
    """Every violation of the structural-schema rules, each naming its path."""
    problems = list(_node_problems(schema, "", root=True))
    return problems


def unbounded_fields(schema: JsonSchema) -> list[str]:
    """Lists without maxItems, maps without maxProperties, strings without maxLength.

    The API server estimates a CEL rule's cost from these bounds and multiplies it by
    the number of list items around the rule; an unbounded one makes the estimate
    reach the budget.
    """
    found = []
    for path, node in walk(schema):
        if path in {".apiVersion", ".kind", ".metadata"}:
            continue  # Kubernetes' own fields, bounded by the API server itself
        kind = node.get("type")
        if kind == "array" and "maxItems" not in node:
            found.append(f"{path}: list without maxItems")
        elif kind == "object" and "additionalProperties" in node and "maxProperties" not in node:
            found.append(f"{path}: map without maxProperties")
        elif (
            kind == "string"
            and "maxLength" not in node
            and "enum" not in node
            and node.get("format") not in _SHORT_FORMATS
        ):
            found.append(f"{path}: string without maxLength")
    return found


def walk(schema: JsonSchema, path: str = "") -> Iterator[tuple[str, JsonSchema]]:
    """Every node with its path: ``.spec.change``, ``.status.conditions[]``, ``.configs.*``."""
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{path}.{name}")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}.*")
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")


def _node_problems(node: Any, path: str, *, root: bool = False) -> Iterator[str]:
    where = path or "(root)"
    if not isinstance(node, dict):
        yield f"{where}: a schema must be an object, got {node!r}"
        return
    for key in node:
        if key not in STRUCTURAL_KEYWORDS:
            yield f"{where}: keyword {key!r} is not allowed in a structural schema"
    kind = node.get("type")
    untyped_ok = node.get("x-kubernetes-preserve-unknown-fields") or node.get(
        "x-kubernetes-int-or-string"
    )
    if kind is None and not untyped_ok:
        yield f"{where}: every node needs a type"
    elif kind is not None and kind not in _TYPES:
        yield f"{where}: type {kind!r} is not allowed (use nullable for null)"
    if root and kind != "object":
        yield "(root): the schema of a resource is an object"
    yield from _object_problems(node, where, path)
    yield from _array_problems(node, where, path)
    yield from _value_problems(node, where)
    yield from _validation_problems(node, where)
    if root:
        yield from _metadata_problems(node.get("properties", {}).get("metadata"))


def _object_problems(node: JsonSchema, where: str, path: str) -> Iterator[str]:
    properties = node.get("properties")
    additional = node.get("additionalProperties")
    if node.get("type") == "object":
        if (
            properties is None
            and additional is None
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            yield f"{where}: an object needs properties or additionalProperties"
        if properties is not None and additional is not None:
            yield f"{where}: properties and additionalProperties exclude each other"
    elif properties is not None or additional is not None:
        yield f"{where}: properties need type object"
    if additional is not None and not isinstance(additional, dict):
        yield f"{where}: additionalProperties must be a schema, not {additional!r}"
    for name, sub in (properties or {}).items():
        if f"{path}.{name}" == ".metadata":
            continue  # Kubernetes' own; checked by _metadata_problems
        yield from _node_problems(sub, f"{path}.{name}")
    if isinstance(additional, dict):
        yield from _node_problems(additional, f"{path}.*")
    for name in node.get("required", ()):
        if name not in (properties or {}):
            yield f"{where}: required field {name!r} is not among the properties"


def _array_problems(node: JsonSchema, where: str, path: str) -> Iterator[str]:
    items = node.get("items")
    if node.get("type") == "array" and not isinstance(items, dict):
        yield f"{where}: a list needs one items schema"
        return
    if items is None:
        return
    if node.get("type") != "array":
        yield f"{where}: items need type array"
    yield from _node_problems(items, f"{path}[]")
    list_type = node.get("x-kubernetes-list-type")
    if list_type == "set" and items.get("type") not in _SCALARS:
        yield f"{where}: a set lists scalars only"
    if list_type == "map":
        keys = node.get("x-kubernetes-list-map-keys") or []
        if not keys:
            yield f"{where}: a map list names its x-kubernetes-list-map-keys"
        for key in keys:
            field = items.get("properties", {}).get(key)
            if field is None or (key not in items.get("required", ()) and "default" not in field):
                yield f"{where}: map key {key!r} must be a required or defaulted field"


def _value_problems(node: JsonSchema, where: str) -> Iterator[str]:
    if "nullable" in node and not isinstance(node["nullable"], bool):
        yield f"{where}: nullable is a boolean"
    if "default" in node and node["default"] is None and not node.get("nullable"):
        yield f"{where}: default null needs nullable: true"
    for flag in ("exclusiveMinimum", "exclusiveMaximum"):
        if flag in node and not isinstance(node[flag], bool):
            yield f"{where}: {flag} is a boolean beside minimum/maximum in OpenAPI v3.0"
    kind = node.get("type")
    for value in node.get("enum", ()):
        found = _json_type(value)
        if kind not in _SCALARS or found == kind or (found == "integer" and kind == "number"):
            continue
        if not (value is None and node.get("nullable")):
            yield f"{where}: enum value {value!r} is not a {kind}"


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _validation_problems(node: JsonSchema, where: str) -> Iterator[str]:
    rules = node.get("x-kubernetes-validations", [])
    if not isinstance(rules, list):
        yield f"{where}: x-kubernetes-validations is a list"
        return
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) != {"rule", "message"}:
            yield f"{where}: each validation has exactly a rule and a message, got {rule!r}"
        elif not all(isinstance(rule[key], str) and rule[key] for key in ("rule", "message")):
            yield f"{where}: rule and message are non-empty strings, got {rule!r}"


def _metadata_problems(metadata: Any) -> Iterator[str]:
    """Kubernetes owns metadata; a CRD may only restrict metadata.name and generateName."""
    if metadata is None:
        return
    if metadata.get("type") != "object":
        yield ".metadata: metadata is an object"
    extra = set(metadata.get("properties", {})) - {"name", "generateName"}
    if extra or "additionalProperties" in metadata or metadata.get("x-kubernetes-validations"):
        yield ".metadata: only metadata.name and metadata.generateName may be restricted"
