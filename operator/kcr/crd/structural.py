"""Rewrite pydantic's JSON Schema into a Kubernetes structural schema.

The API server accepts a narrow dialect of OpenAPI v3 (apiextensions.k8s.io/v1
"structural schemas"): no ``$ref``, no unions, every node typed, no ``const``,
``patternProperties``, ``propertyNames`` or ``additionalProperties: false``, and
``exclusiveMinimum`` as a flag. The rewrite below turns each pydantic construct into its
structural form, and refuses loudly, naming the field, what it cannot express.

Optional fields (``T | None`` with a default) become plain ``T`` without ``nullable``:
the API server then prunes an explicit ``null`` before validation, so ``null`` means
"absent" exactly as ``None`` does for pydantic, and ``has()`` in the CEL union rules sees
only members that are really set. A nullable field would keep the ``null`` and make
``has()`` true. Only an optional field that is also required keeps ``nullable: true``.
"""

import copy
from collections.abc import Callable
from typing import Any

from kcr.crd.rules import SPEC_ONLY, Rule, cel_string

JsonSchema = dict[str, Any]

# ``datetime.time`` as pydantic reads and writes it (HH:MM, HH:MM:SS, HH:MM:SS.ffffff).
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
TIME_MAX_LENGTH = len("23:59:59.999999")

# String formats the API server validates; any other format is refused by the rewrite.
KNOWN_FORMATS = frozenset(
    {"date-time", "date", "duration", "byte", "uri", "email", "hostname", "ipv4", "ipv6", "uuid"}
)

# Keywords of apiextensions.k8s.io/v1 JSONSchemaProps that a structural schema may carry.
STRUCTURAL_KEYWORDS = frozenset(
    {
        "description",
        "type",
        "format",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "nullable",
        "default",
        "example",
        "x-kubernetes-validations",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-embedded-resource",
    }
)
# Keywords pydantic emits that carry no validation the API server needs.
_DROPPED = frozenset({"title", "examples", "deprecated", "readOnly", "writeOnly", "$comment"})
_COPIED = STRUCTURAL_KEYWORDS - {
    "properties",
    "additionalProperties",
    "items",
    "default",
    "format",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "nullable",
}
_NULL = {"type": "null"}


class CrdSchemaError(ValueError):
    """A model uses a shape a structural schema cannot express; the message names the field."""


# Decides, from a node's path and a validation, whether the rule is kept there.
RulePlacement = Callable[[str, JsonSchema], bool]


def keep_every_rule(path: str, validation: JsonSchema) -> bool:
    return True


def structural_schema(schema: JsonSchema, keep: RulePlacement = keep_every_rule) -> JsonSchema:
    """The structural form of a pydantic JSON Schema (its ``$defs`` inlined).

    A model's rules land wherever the model appears; ``keep`` may drop some by place.
    """
    defs = schema.get("$defs", {})
    body = {key: value for key, value in schema.items() if key not in {"$defs", "$schema"}}
    node, _nullable = _Rewriter(defs, keep).node(body, "", ())
    return node


class _Rewriter:
    def __init__(self, defs: dict[str, JsonSchema], keep: RulePlacement) -> None:
        self.defs = defs
        self.keep = keep

    def node(self, schema: JsonSchema, path: str, seen: tuple[str, ...]) -> tuple[JsonSchema, bool]:
        """Rewrite one node; also say whether pydantic allowed ``null`` there."""
        schema, nullable, seen = self._unwrap(schema, path, seen)
        out: JsonSchema = {}
        for key, value in schema.items():
            if key in _DROPPED:
                continue
            if key in _COPIED or key.startswith("x-kubernetes-"):
                out[key] = copy.deepcopy(value)
            elif key == "const":
                out["enum"] = [value]
            elif key == "default":
                if value is not None:
                    out["default"] = copy.deepcopy(value)
            elif key in {"exclusiveMinimum", "exclusiveMaximum"}:
                _exclusive_bound(out, key, value, schema.get("type"))
            elif key == "format":
                _format(out, value, path)
            elif key == "properties":
                out["properties"] = self._properties(schema, path, seen)
            elif key == "additionalProperties":
                self._additional(out, value, path, seen)
            elif key == "items":
                if not isinstance(value, dict):
                    raise CrdSchemaError(f"{_where(path)}: tuple items have no structural form")
                item, item_nullable = self.node(value, f"{path}[]", seen)
                out["items"] = _nullable(item) if item_nullable else item
            elif key == "uniqueItems":
                if value:
                    out["x-kubernetes-list-type"] = "set"
            elif key in {"patternProperties", "propertyNames"}:
                self._keys(out, key, value, path, seen)
            else:
                raise CrdSchemaError(
                    f"{_where(path)}: JSON Schema keyword {key!r} has no structural-schema form"
                )
        self._place_rules(out, path)
        _finish_object(out)
        return out, nullable

    def _place_rules(self, out: JsonSchema, path: str) -> None:
        validations = out.pop("x-kubernetes-validations", [])
        kept = [
            {key: value for key, value in validation.items() if key != SPEC_ONLY}
            for validation in validations
            if self.keep(path, validation)
        ]
        if kept:
            out["x-kubernetes-validations"] = kept

    def _unwrap(
        self, schema: JsonSchema, path: str, seen: tuple[str, ...]
    ) -> tuple[JsonSchema, bool, tuple[str, ...]]:
        """Follow ``$ref`` and ``T | None`` until a plain schema remains.

        Keywords beside the wrapper (a field's description or default) win over the
        referenced model's own.
        """
        nullable = False
        while True:
            if "$ref" in schema:
                name = str(schema["$ref"]).removeprefix("#/$defs/")
                if name in seen:
                    raise CrdSchemaError(
                        f"{_where(path)}: model {name} contains itself; a structural schema "
                        "cannot recurse"
                    )
                if name not in self.defs:
                    raise CrdSchemaError(f"{_where(path)}: unknown reference {schema['$ref']!r}")
                outer = {key: value for key, value in schema.items() if key != "$ref"}
                schema = {**self.defs[name], **outer}
                seen = (*seen, name)
                continue
            junctor = next((key for key in ("anyOf", "oneOf", "allOf") if key in schema), None)
            if junctor is None:
                return schema, nullable, seen
            branches = [branch for branch in schema[junctor] if branch != _NULL]
            if len(branches) != 1:
                raise CrdSchemaError(
                    f"{_where(path)}: a union of {len(branches)} types has no structural form; "
                    "model it as a tagged union (type plus one member field)"
                )
            nullable = nullable or len(branches) < len(schema[junctor])
            outer = {key: value for key, value in schema.items() if key != junctor}
            schema = {**branches[0], **outer}

    def _properties(
        self, schema: JsonSchema, path: str, seen: tuple[str, ...]
    ) -> dict[str, JsonSchema]:
        required = set(schema.get("required", ()))
        properties = {}
        for name, sub in schema["properties"].items():
            node, nullable = self.node(sub, f"{path}.{name}", seen)
            # An absent optional field and a pruned null are the same thing; only a
            # required field needs its null kept.
            properties[name] = _nullable(node) if nullable and name in required else node
        return properties

    def _additional(self, out: JsonSchema, value: Any, path: str, seen: tuple[str, ...]) -> None:
        if value is False:
            return  # the default for a structural schema: unknown fields are pruned
        if value is True or value == {}:
            out["x-kubernetes-preserve-unknown-fields"] = True
            return
        node, nullable = self.node(value, f"{path}.*", seen)
        out["additionalProperties"] = _nullable(node) if nullable else node

    def _keys(
        self, out: JsonSchema, key: str, value: Any, path: str, seen: tuple[str, ...]
    ) -> None:
        """Map keys: patternProperties and propertyNames become CEL rules on the keys."""
        if key == "patternProperties":
            if len(value) != 1 or "properties" in out or "additionalProperties" in out:
                raise CrdSchemaError(
                    f"{_where(path)}: only a map with one key pattern has a structural form"
                )
            ((pattern, sub),) = value.items()
            self._additional(out, sub, path, seen)
            _add_rules(out, [_key_pattern_rule(pattern)])
            return
        names, _nullable, _seen = self._unwrap(value, path, seen)
        _add_rules(out, _key_rules(names, path))


def _key_pattern_rule(pattern: str) -> Rule:
    return Rule(
        f"self.all(k, k.matches({cel_string(pattern)}))",
        f"keys must match {pattern}",
        spec_only=True,
    )


def _key_rules(names: JsonSchema, path: str) -> list[Rule]:
    rules = []
    for key, value in names.items():
        if key in _DROPPED or key in {"type", "description"}:
            continue
        if key == "pattern":
            rules.append(_key_pattern_rule(value))
        elif key == "minLength":
            rules.append(
                Rule(
                    f"self.all(k, size(k) >= {value})",
                    f"keys must be at least {value} characters long",
                    spec_only=True,
                )
            )
        elif key == "maxLength":
            rules.append(
                Rule(
                    f"self.all(k, size(k) <= {value})",
                    f"keys must be at most {value} characters long",
                    spec_only=True,
                )
            )
        elif key == "enum":
            allowed = ", ".join(cel_string(str(item)) for item in value)
            rules.append(
                Rule(
                    f"self.all(k, k in [{allowed}])",
                    f"keys must be one of {', '.join(str(item) for item in value)}",
                    spec_only=True,
                )
            )
        else:
            raise CrdSchemaError(f"{_where(path)}: key constraint {key!r} has no CEL form here")
    return rules


def _add_rules(out: JsonSchema, rules: list[Rule]) -> None:
    out.setdefault("x-kubernetes-validations", []).extend(rule.as_validation() for rule in rules)


def _exclusive_bound(out: JsonSchema, key: str, value: Any, kind: Any) -> None:
    """Draft 2020-12 gives the bound itself; OpenAPI v3.0 a flag beside minimum/maximum."""
    bound = "minimum" if key == "exclusiveMinimum" else "maximum"
    if kind == "integer":
        out[bound] = value + 1 if bound == "minimum" else value - 1
    else:
        out[bound] = value
        out[key] = True


def _format(out: JsonSchema, value: str, path: str) -> None:
    if value == "time":
        # Kubernetes has no time-of-day format; a pattern says what pydantic reads.
        out["pattern"] = TIME_PATTERN
        out["maxLength"] = TIME_MAX_LENGTH
    elif value in KNOWN_FORMATS:
        out["format"] = value
    else:
        raise CrdSchemaError(f"{_where(path)}: the API server does not check format {value!r}")


def _finish_object(out: JsonSchema) -> None:
    """Every object is typed and says its fields, its values or that it keeps anything."""
    is_object = out.get("type") == "object" or "properties" in out
    if not is_object:
        if "type" not in out and "enum" in out:
            out["type"] = _enum_type(out["enum"])
        if "type" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["x-kubernetes-preserve-unknown-fields"] = True  # pydantic ``Any``
        return
    out["type"] = "object"
    if not any(
        key in out
        for key in ("properties", "additionalProperties", "x-kubernetes-preserve-unknown-fields")
    ):
        out["properties"] = {}


def _enum_type(values: list[Any]) -> str:
    kinds = {_JSON_TYPES.get(type(value)) for value in values}
    if len(kinds) != 1 or None in kinds:
        raise CrdSchemaError(f"enum {values!r} mixes types; a structural schema has one type")
    return str(kinds.pop())


_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _nullable(node: JsonSchema) -> JsonSchema:
    return {**node, "nullable": True}


def _where(path: str) -> str:
    return path or "(root)"
