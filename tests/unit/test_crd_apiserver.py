"""What the API server does to a custom resource on a write, in-process, for the CRD tests.

The steps follow the apiextensions server: unknown fields are errors (kubectl asks for
strict field validation by default); ``null`` in a non-nullable field is pruned (and
defaulted when the field has a default); defaults are applied; the OpenAPI schema is
checked (types, bounds, patterns with Go's RE2 end-of-text ``$``, the date-time format of
go-openapi's strfmt, integers that fit int64), then list-type sets and maps, and, if all
of that passed, the CEL rules, transition rules only on update with ``oldSelf``.

The tests at the bottom pin each of these steps, so the CRD tests that lean on ``admit``
cannot pass through a gap in the stand-in.
"""

import copy
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import celpy
import jsonschema
import pytest
import yaml
from jsonschema.exceptions import ValidationError

from kcr.crd import RESOURCES, build_crds
from kcr.crd.check import walk as _walk

JsonSchema = dict[str, Any]
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ROOT = Path(__file__).resolve().parents[2]
_MISSING = object()

# go-openapi strfmt IsDateTime: a date, 't', HH:MM:SS, optional fraction, then a zone.
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_TIME = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(z|[+-][0-9]{2}:[0-9]{2})$")


def schema_of(kind: str) -> JsonSchema:
    """The openAPIV3Schema of one kind, as built by ``kcr.crd``."""
    for crd in _crds():
        if crd["spec"]["names"]["kind"] == kind:
            return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]
    raise KeyError(kind)


@functools.cache
def _crds() -> tuple[dict[str, Any], ...]:
    return tuple(build_crds())


def admit(kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    """The errors the API server would answer a create (or, with ``old``, an update) with."""
    schema = schema_of(kind)
    stored = copy.deepcopy(obj)
    prune_and_default(schema, stored)
    errors = schema_errors(schema, stored)
    if errors:
        return errors  # the API server skips CEL when the object is not even well-typed
    previous: Any = _MISSING
    if old is not None:
        previous = copy.deepcopy(old)
        prune_and_default(schema, previous)
    return list(cel_errors(schema, stored, previous, ""))


def stored_form(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server would store it: nulls pruned, defaults applied."""
    stored = copy.deepcopy(obj)
    prune_and_default(schema_of(kind), stored)
    return stored


def prune_and_default(schema: JsonSchema, value: Any) -> None:
    if isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name in value and value[name] is None and not sub.get("nullable"):
                del value[name]
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                prune_and_default(sub, value[name])
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        sub = schema["additionalProperties"]
        for key in [k for k, v in value.items() if v is None and not sub.get("nullable")]:
            del value[key]
        for item in value.values():
            prune_and_default(sub, item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            prune_and_default(schema["items"], item)


def schema_errors(schema: JsonSchema, value: Any) -> list[str]:
    validator = _Validator(_json_schema(schema), format_checker=_FORMATS)
    errors = [f"{_path(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]
    return errors + list(_list_type_errors(schema, value, ""))


def _json_schema(node: JsonSchema) -> JsonSchema:
    """OpenAPI v3.0 → JSON Schema draft 4: ``nullable`` becomes a null type; unknown
    fields become errors (strict field validation)."""
    out: JsonSchema = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _json_schema(sub) for name, sub in value.items()}
        elif key in {"items", "additionalProperties"}:
            out[key] = _json_schema(value)
        elif key.startswith("x-kubernetes-") or key in {"nullable", "default", "description"}:
            continue
        else:
            out[key] = copy.deepcopy(value)
    if node.get("properties"):
        out["additionalProperties"] = False
    if node.get("nullable"):
        out["type"] = [node["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _go_pattern(validator: Any, pattern: str, instance: Any, schema: JsonSchema) -> Iterator[Any]:
    # RE2's ``$`` is the end of the text; Python's also matches before a final newline.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    if validator.is_type(instance, "string") and not re.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _int64_type(validator: Any, types: Any, instance: Any, schema: JsonSchema) -> Iterator[Any]:
    yield from jsonschema.Draft4Validator.VALIDATORS["type"](validator, types, instance, schema)
    if validator.is_type(instance, "integer") and not INT64_MIN <= instance <= INT64_MAX:
        yield ValidationError(f"{instance} does not fit in int64")


_Validator = jsonschema.validators.extend(
    jsonschema.Draft4Validator, {"pattern": _go_pattern, "type": _int64_type}
)
_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time")
def is_date_time(text: object) -> bool:
    if not isinstance(text, str):
        return True  # formats constrain strings only
    parts = text.lower().split("t")
    if len(parts) != 2 or not (date := _DATE.match(parts[0])):
        return False
    if not ("01" <= date.group(2) <= "12" and "01" <= date.group(3) <= "31"):
        return False
    time = _TIME.match(parts[1])
    return bool(time) and time.group(1) <= "23" and time.group(2) <= "59" and time.group(3) <= "59"


def _list_type_errors(schema: JsonSchema, value: Any, path: str) -> Iterator[str]:
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        list_type = schema.get("x-kubernetes-list-type")
        if list_type == "set":
            seen: list[Any] = []
            for item in value:
                if item in seen:
                    yield f"{path}: Duplicate value: {item!r}"
                seen.append(item)
        if list_type == "map":
            keys = schema["x-kubernetes-list-map-keys"]
            seen_keys: list[tuple[Any, ...]] = []
            for item in value:
                key = tuple(item.get(k) for k in keys) if isinstance(item, dict) else (item,)
                if key in seen_keys:
                    yield f"{path}: Duplicate value: {dict(zip(keys, key, strict=True))!r}"
                seen_keys.append(key)
        for index, item in enumerate(value):
            yield from _list_type_errors(schema["items"], item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                yield from _list_type_errors(sub, value[name], f"{path}.{name}")


def cel_errors(schema: JsonSchema, value: Any, old: Any, path: str) -> Iterator[str]:
    """Evaluate every rule on the node it sits on; ``path`` uses ``[]`` for list items."""
    for validation in schema.get("x-kubernetes-validations", []):
        transition = "oldSelf" in validation["rule"]
        if transition and old is _MISSING:
            continue  # transition rules run only on update, where an old value exists
        activation = {"self": celpy.json_to_cel(value)}
        if transition:
            activation["oldSelf"] = celpy.json_to_cel(old)
        if not evaluate(validation["rule"], activation):
            yield f"{path or '.'}: {validation['message']}"
    if isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name in value:
                previous = old.get(name, _MISSING) if isinstance(old, dict) else _MISSING
                yield from cel_errors(sub, value[name], previous, f"{path}.{name}")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, item in value.items():
            previous = old.get(key, _MISSING) if isinstance(old, dict) else _MISSING
            yield from cel_errors(schema["additionalProperties"], item, previous, f"{path}.*")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            # Items of atomic lists have no old counterpart to correlate with.
            yield from cel_errors(schema["items"], item, _MISSING, f"{path}[]")


def evaluate(rule: str, activation: dict[str, Any]) -> bool:
    """A rule that fails to evaluate rejects the object, as in the API server."""
    try:
        return bool(_program(rule).evaluate(activation))
    except celpy.CELEvalError:
        return False


@functools.cache
def _program(rule: str) -> Any:
    environment = celpy.Environment()
    return environment.program(environment.compile(rule))


def _compile_every_rule() -> None:
    """Compile up front: the CEL parser raises the recursion limit when it first runs,
    which hypothesis would report from inside a property."""
    for crd in _crds():
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for _, node in _walk(schema):
            for validation in node.get("x-kubernetes-validations", []):
                _program(validation["rule"])


def _path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path or "."


_compile_every_rule()

# --- the stand-in's own tests ------------------------------------------------------------

CLUSTER = {
    "apiVersion": "kcr.dev/v1alpha1",
    "kind": "KafkaCluster",
    "metadata": {"name": "prod", "namespace": "kafka"},
    "spec": {"bootstrapServers": "kafka-0:9092"},
}


def _cluster(**spec: Any) -> dict[str, Any]:
    cluster = copy.deepcopy(CLUSTER)
    cluster["spec"].update(spec)
    return cluster


def test_a_minimal_cluster_is_admitted() -> None:
    assert admit("KafkaCluster", _cluster()) == []


def test_defaults_fill_absent_fields_and_replace_pruned_nulls() -> None:
    stored = stored_form("KafkaCluster", _cluster(policy={"changeWindowsFromRisk": None}))
    assert stored["spec"]["policy"]["changeWindowsFromRisk"] == "MEDIUM"
    assert stored["spec"]["policy"]["allowUnknownConfigKeys"] is False


def test_null_in_an_optional_field_is_pruned_not_refused() -> None:
    stored = stored_form("KafkaCluster", _cluster(tls=None, prometheusUrl=None))
    assert "tls" not in stored["spec"]
    assert "prometheusUrl" not in stored["spec"]
    assert admit("KafkaCluster", _cluster(tls=None)) == []


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"bootstrapServers": "kafka-0:9092", "colour": "blue"}, "colour"),
        ({"bootstrapServers": "kafka-0"}, "does not match"),
        ({"bootstrapServers": "kafka-0:9092\n"}, "does not match"),
        ({"bootstrapServers": 9092}, "is not of type"),
        ({"bootstrapServers": "k:1", "ownership": [{"team": ""}]}, "non-empty"),
    ],
    ids=["unknown-field", "pattern", "newline-before-end", "type", "min-length"],
)
def test_schema_errors_are_reported(spec: dict[str, Any], fragment: str) -> None:
    errors = admit("KafkaCluster", {**CLUSTER, "spec": spec})
    assert any(fragment in error for error in errors), errors


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2026-11-25T08:00:00Z", True),
        ("2026-11-25t08:00:00.123+01:00", True),
        ("2026-11-25T08:00:00", False),
        ("2026-11-25T08:00Z", False),
        ("2026-11-25 08:00:00Z", False),
        ("2026-13-25T08:00:00Z", False),
        ("2026-11-25T24:00:00Z", False),
        ("1700000000", False),
    ],
)
def test_date_time_follows_the_api_server(text: str, valid: bool) -> None:
    assert is_date_time(text) is valid


def test_integers_beyond_int64_are_refused() -> None:
    cluster = _cluster(policy={"limits": {"minRetentionMs": 2**63}})
    assert any("int64" in error for error in admit("KafkaCluster", cluster))


def test_duplicate_condition_types_are_refused_by_the_list_map() -> None:
    condition = {
        "type": "Ready",
        "status": "True",
        "reason": "Connected",
        "lastTransitionTime": "2026-11-25T08:00:00Z",
    }
    request = yaml.safe_load((ROOT / "manifests/examples/create-topic.yaml").read_text())
    request["status"] = {"conditions": [condition, condition]}
    assert any("Duplicate value" in error for error in admit("KafkaChangeRequest", request))


def test_a_cluster_has_no_status_for_nothing_writes_one() -> None:
    assert "status" not in schema_of("KafkaCluster")["properties"]
    assert "status" in schema_of("KafkaChangeRequest")["properties"]


def test_cel_runs_only_on_well_typed_objects() -> None:
    cluster = _cluster(tls={"certificate": {"name": "c", "key": "tls.crt"}}, sasl="nope")
    errors = admit("KafkaCluster", cluster)
    assert errors
    assert not any("certificate and its key" in error for error in errors)


def test_rules_that_fail_to_evaluate_reject() -> None:
    assert evaluate("self.missing == 1", {"self": celpy.json_to_cel({})}) is False


def test_every_resource_has_a_schema() -> None:
    assert {r.kind for r in RESOURCES} == {"KafkaChangeRequest", "KafkaCluster"}
    for resource in RESOURCES:
        assert schema_of(resource.kind)["type"] == "object"
