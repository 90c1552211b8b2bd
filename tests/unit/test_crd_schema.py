"""The generated CRDs: committed as generated, structural, bounded, and named as designed."""

import copy
import re
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import kubernetes_validate
import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from kcr.crd import (
    GROUP,
    RESOURCES,
    VERSION,
    CrdSchemaError,
    build_crds,
    render_crds,
    structural_problems,
    structural_schema,
    unbounded_fields,
)
from kcr.crd.check import walk
from kcr.crd.generator import model_json_schema
from kcr.crd.structural import TIME_PATTERN

from .test_crd_apiserver import cel_errors, schema_errors

CRD_DIR = Path(__file__).parents[2] / "crds"
CRDS = {crd["spec"]["names"]["kind"]: crd for crd in build_crds()}
# Oldest release with CEL validation rules on by default (beta), and the newest known.
KUBERNETES_VERSIONS = ["1.25", kubernetes_validate.utils.latest_version()]


def openapi(kind: str) -> dict[str, Any]:
    return CRDS[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


KINDS = list(CRDS)


@pytest.mark.parametrize("name", sorted(render_crds()))
def test_committed_crd_equals_generated(name: str) -> None:
    committed = CRD_DIR / name
    assert committed.is_file(), f"crds/{name} is missing: run `make crds` and commit it"
    assert committed.read_text() == render_crds()[name], (
        f"crds/{name} differs from the models: run `make crds` and commit the result"
    )


def test_no_stray_crd_files() -> None:
    assert {p.name for p in CRD_DIR.glob("*.yaml")} == set(render_crds())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_crd_is_a_valid_customresourcedefinition(kind: str, version: str) -> None:
    kubernetes_validate.validate(CRDS[kind], version, strict=True)


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_structural(kind: str) -> None:
    assert structural_problems(openapi(kind)) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_list_map_and_string_is_bounded(kind: str) -> None:
    """CEL cost estimates need bounds; add ``max_length`` to the model field named here."""
    assert unbounded_fields(openapi(kind)) == []


@pytest.mark.parametrize("kind", KINDS)
def test_no_field_keeps_unknown_content(kind: str) -> None:
    kept = [p for p, n in walk(openapi(kind)) if n.get("x-kubernetes-preserve-unknown-fields")]
    assert kept == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_default_passes_its_own_schema(kind: str) -> None:
    """The API server refuses a CRD whose defaults its own schema would refuse."""
    for path, node in walk(openapi(kind)):
        if "default" in node:
            value = copy.deepcopy(node["default"])
            assert schema_errors(node, value) == [], path
            assert list(cel_errors(node, value, object(), path)) == [], path


def test_names_scope_and_version() -> None:
    expected = {"KafkaChangeRequest": ["kcr", "kcrs"], "KafkaCluster": ["kc"]}
    expected_subresources = {"KafkaChangeRequest": {"status": {}}, "KafkaCluster": None}
    for kind, crd in CRDS.items():
        spec = crd["spec"]
        assert crd["metadata"]["name"] == f"{spec['names']['plural']}.{GROUP}"
        assert spec["group"] == "kcr.dev"
        assert spec["scope"] == "Namespaced"
        assert spec["names"]["shortNames"] == expected[kind]
        assert spec["names"]["categories"] == ["kafkaops"]
        # a category equal to a short name makes `kubectl get kcr NAME` ambiguous
        assert not set(spec["names"]["categories"]) & set(spec["names"]["shortNames"])
        (version,) = spec["versions"]
        assert (version["name"], version["served"], version["storage"]) == (VERSION, True, True)
        # only the request has a writer of status; a cluster is spec alone
        assert version.get("subresources") == expected_subresources[kind]


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        (
            "KafkaChangeRequest",
            ["PHASE", "RISK", "CHANGE", "TARGET", "REQUESTED-BY", "APPROVED-BY", "AGE"],
        ),
        ("KafkaCluster", ["BOOTSTRAP", "AGE"]),
    ],
)
def test_printer_columns(kind: str, columns: list[str]) -> None:
    printed = CRDS[kind]["spec"]["versions"][0]["additionalPrinterColumns"]
    assert [column["name"].upper() for column in printed] == columns


@pytest.mark.parametrize("kind", KINDS)
def test_printer_columns_point_at_fields_of_their_type(kind: str) -> None:
    nodes = dict(walk(openapi(kind)))
    for column in CRDS[kind]["spec"]["versions"][0]["additionalPrinterColumns"]:
        path = re.sub(r"\[\?\(@\.type==\"\w+\"\)\]", "[]", column["jsonPath"])
        if path.startswith(".metadata."):
            continue
        assert path in nodes, f"{column['name']}: {path} is not in the schema"
        assert nodes[path]["type"] == column["type"], column["name"]


def test_spec_is_immutable_and_status_has_no_such_rule() -> None:
    spec = openapi("KafkaChangeRequest")["properties"]["spec"]
    assert spec["x-kubernetes-validations"][0]["rule"] == "self == oldSelf"
    assert "x-kubernetes-validations" not in openapi("KafkaChangeRequest")["properties"]["status"]
    assert "x-kubernetes-validations" not in openapi("KafkaCluster")["properties"]["spec"]


def test_status_keeps_only_constant_cost_rules() -> None:
    status = openapi("KafkaChangeRequest")["properties"]["status"]
    rules = [v["rule"] for _, n in walk(status) for v in n.get("x-kubernetes-validations", [])]
    assert rules
    assert not [rule for rule in rules if ".all(" in rule or "matches(" in rule]


def test_resources_list_every_kind_once() -> None:
    assert sorted(r.kind for r in RESOURCES) == sorted(CRDS)


# --- the rewrite, on small models ---------------------------------------------------------


class Colour(StrEnum):
    RED = "Red"
    BLUE = "Blue"


class Leaf(BaseModel):
    name: Annotated[str, Field(max_length=10, title="Name")]


class Sample(BaseModel):
    leaf: Leaf
    maybe: Leaf | None = None
    must_say: Annotated[int, Field(ge=0)] | None
    colour: Colour = Colour.RED
    flag: Literal[True] | None = None
    count: Annotated[int, Field(gt=0, lt=10)] = 1
    ratio: Annotated[float, Field(gt=0)] = 0.5
    at: time = time(8, 0)
    tags: Annotated[dict[Annotated[str, Field(pattern=r"^[a-z]+$")], str], Field(max_length=3)]
    unique: set[str] = Field(default_factory=set)


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    return structural_schema(model_json_schema(Sample))


def test_refs_are_inlined_and_titles_dropped(sample: dict[str, Any]) -> None:
    assert sample["properties"]["leaf"] == {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 10}},
        "required": ["name"],
    }
    assert not [path for path, node in walk(sample) if "title" in node]
    assert structural_problems(sample) == []


def test_optional_field_drops_null_and_required_one_keeps_it(sample: dict[str, Any]) -> None:
    assert "nullable" not in sample["properties"]["maybe"]
    assert sample["properties"]["must_say"] == {"type": "integer", "minimum": 0, "nullable": True}


def test_enums_consts_and_defaults(sample: dict[str, Any]) -> None:
    assert sample["properties"]["colour"] == {
        "type": "string",
        "enum": ["Red", "Blue"],
        "default": "Red",
    }
    assert sample["properties"]["flag"] == {"type": "boolean", "enum": [True]}


def test_exclusive_bounds_become_openapi_v3_0(sample: dict[str, Any]) -> None:
    assert sample["properties"]["count"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 9,
        "default": 1,
    }
    ratio = sample["properties"]["ratio"]
    assert (ratio["minimum"], ratio["exclusiveMinimum"]) == (0, True)


def test_time_of_day_becomes_a_pattern(sample: dict[str, Any]) -> None:
    at = sample["properties"]["at"]
    assert at["pattern"] == TIME_PATTERN
    assert "format" not in at


def test_map_key_rules_become_cel(sample: dict[str, Any]) -> None:
    tags = sample["properties"]["tags"]
    assert tags["additionalProperties"] == {"type": "string"}
    assert tags["maxProperties"] == 3
    assert [v["rule"] for v in tags["x-kubernetes-validations"]] == [
        "self.all(k, k.matches('^[a-z]+$'))"
    ]
    assert "patternProperties" not in tags


def test_sets_become_list_type_set(sample: dict[str, Any]) -> None:
    assert sample["properties"]["unique"]["x-kubernetes-list-type"] == "set"
    assert "uniqueItems" not in sample["properties"]["unique"]


class Node(BaseModel):
    children: list["Node"] = Field(default_factory=list)


class Either(BaseModel):
    value: int | str


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        (model_json_schema(Node), "contains itself"),
        (model_json_schema(Either), "union of 2 types"),
        ({"type": "string", "format": "uuid7"}, "format 'uuid7'"),
        ({"type": "object", "properties": {"a": {"type": "string", "if": {}}}}, "'if'"),
        ({"type": "array", "items": [{"type": "string"}]}, "tuple items"),
    ],
    ids=["recursion", "union", "format", "keyword", "tuple"],
)
def test_rewrite_refuses_what_it_cannot_express(schema: dict[str, Any], fragment: str) -> None:
    with pytest.raises(CrdSchemaError, match=re.escape(fragment)):
        structural_schema(schema)


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}, "'$ref'"),
        ({"type": "object", "properties": {"a": {"type": "null"}}}, "type 'null'"),
        ({"type": "object", "properties": {"a": {"description": "x"}}}, "needs a type"),
        ({"type": "object"}, "properties or additionalProperties"),
        (
            {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
            "exclude each other",
        ),
        ({"type": "object", "additionalProperties": False}, "must be a schema"),
        ({"type": "array"}, "one items schema"),
        ({"type": "integer", "minimum": 0, "exclusiveMinimum": 0}, "is a boolean"),
        ({"type": "string", "enum": [1]}, "is not a string"),
        ({"type": "string", "default": None}, "default null"),
        (
            {"type": "string", "x-kubernetes-validations": [{"rule": "true"}]},
            "a rule and a message",
        ),
        (
            {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "object"}},
            "scalars only",
        ),
        (
            {
                "type": "object",
                "properties": {"metadata": {"type": "object", "properties": {"labels": {}}}},
            },
            "only metadata.name",
        ),
    ],
    ids=[
        "ref",
        "null",
        "untyped",
        "empty-object",
        "both",
        "additional-false",
        "items",
        "exclusive",
        "enum",
        "default-null",
        "validation",
        "set",
        "metadata",
    ],
)
def test_structural_check_finds_each_violation(schema: dict[str, Any], fragment: str) -> None:
    problems = structural_problems(schema)
    assert any(fragment in problem for problem in problems), problems


@pytest.mark.parametrize(
    "text",
    ["08:00", "08:00:00", "23:59:59.999999", "00:00:00.5", "8:00", "24:00", "08:60", "08:00:60"],
)
def test_time_pattern_agrees_with_pydantic(text: str) -> None:
    """Times with a zone or more than six fraction digits: pydantic reads them, the CRD
    refuses them; a change window has its own timeZone field."""
    try:
        TypeAdapter(time).validate_python(text)
        pydantic_ok = True
    except ValidationError:
        pydantic_ok = False
    assert bool(re.search(TIME_PATTERN, text)) is pydantic_ok


def _rules_with_cardinality(
    node: dict[str, Any], path: str = "", places: int = 1
) -> list[tuple[int, str, str]]:
    """Each rule with the number of places it can run in one object (as the API server's
    cost estimate multiplies it): the product of the maxItems/maxProperties around it."""
    found = [(places, path, v["rule"]) for v in node.get("x-kubernetes-validations", [])]
    for name, sub in node.get("properties", {}).items():
        found += _rules_with_cardinality(sub, f"{path}.{name}", places)
    if isinstance(node.get("additionalProperties"), dict):
        sub, count = node["additionalProperties"], node["maxProperties"]
        found += _rules_with_cardinality(sub, f"{path}.*", places * count)
    if isinstance(node.get("items"), dict):
        found += _rules_with_cardinality(node["items"], f"{path}[]", places * node["maxItems"])
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_rules_stay_inside_the_cel_cost_budget(kind: str) -> None:
    """Rules that visit every key or item run only where there is one of them; the
    constant-cost ones run in at most 10,000 places (100 stages of 100 steps). At a cost of
    a few units each that stays far below the API server's 10,000,000 per rule."""
    for places, path, rule in _rules_with_cardinality(openapi(kind)):
        assert places <= 10_000, f"{path}: {rule} may run {places} times"
        if ".all(" in rule or "matches(" in rule or "oldSelf" in rule:
            assert places == 1, f"{path}: {rule} visits a collection in {places} places"
