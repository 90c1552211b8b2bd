"""A flat output schema accepts and refuses exactly what pydantic's own schema does."""

from typing import Annotated, Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from jsonschema.validators import validator_for
from pydantic import BaseModel, Field, TypeAdapter
from referencing import Registry

from kcr.mcp.flat_schema import FlatSchema
from kcr.model import GroupState


class Row(BaseModel):
    partition: Annotated[int, Field(ge=0)]
    lag: Annotated[int | None, Field(ge=0)] = None
    state: GroupState | None = None
    note: Annotated[str | None, Field(max_length=3)] = None


class Group(BaseModel):
    group: str
    rows: list[Row]
    best: Row | None = None


class Plain(BaseModel):
    groups: list[Group]


class Flat(FlatSchema, Plain):
    pass


class Loop(FlatSchema, BaseModel):
    child: "Loop | None" = None


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return TypeAdapter(model).json_schema()


def valid(schema: dict[str, Any], value: Any) -> bool:
    validator = validator_for(schema)(schema, registry=Registry())
    return not any(validator.iter_errors(value))


FLAT = schema_of(Flat)
PLAIN = schema_of(Plain)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=5), st.sampled_from(["Stable"])
)
# mostly values of the right type, so that both verdicts come up often
numbers = st.one_of(st.integers(-1, 3), st.integers(0, 3), scalars)
rows = st.fixed_dictionaries(
    {"partition": numbers},
    optional={
        "lag": st.one_of(st.none(), numbers),
        "state": st.sampled_from(["Stable", "Empty", None, "Gone", 1]),
        "note": st.one_of(st.none(), st.text(max_size=4), scalars),
    },
)
groups = st.fixed_dictionaries(
    {"group": st.one_of(st.text(max_size=3), st.none()), "rows": st.lists(rows, max_size=2)},
    optional={"best": st.one_of(st.none(), rows, scalars)},
)
pages = st.fixed_dictionaries({"groups": st.lists(groups, max_size=3)})


def test_the_flat_schema_has_no_reference_and_no_nullable_branches() -> None:
    text = str(FLAT)
    assert "$ref" not in text
    assert "$defs" not in text
    row = FLAT["properties"]["groups"]["items"]["properties"]["rows"]["items"]
    assert row["properties"]["lag"]["type"] == ["integer", "null"]
    assert row["properties"]["lag"]["minimum"] == 0
    # an enum refuses null unless null is one of its values: that branch stays as it is
    assert "anyOf" in row["properties"]["state"]


@settings(max_examples=400, deadline=None)
@given(page=pages)
def test_the_flat_schema_agrees_with_pydantics_own(page: dict[str, Any]) -> None:
    verdict = valid(PLAIN, page)
    event("valid" if verdict else "invalid")
    assert valid(FLAT, page) == verdict


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ({"groups": [{"group": "g", "rows": [{"partition": 0, "lag": None}]}]}, True),
        ({"groups": [{"group": "g", "rows": [{"partition": 0, "lag": -1}]}]}, False),
        ({"groups": [{"group": "g", "rows": [{"partition": 0, "note": "long"}]}]}, False),
        ({"groups": [{"group": "g", "rows": [], "best": {"partition": -1}}]}, False),
        ({"groups": [{"group": "g", "rows": [{"partition": 0, "state": None}]}]}, True),
        ({"groups": [{"group": "g", "rows": [{"partition": 0, "state": "Gone"}]}]}, False),
    ],
    ids=["null-lag", "negative-lag", "long-note", "nested-negative", "null-enum", "bad-enum"],
)
def test_values_the_flat_schema_judges(page: dict[str, Any], expected: bool) -> None:
    assert (valid(FLAT, page), valid(PLAIN, page)) == (expected, expected)


def test_a_recursive_model_is_refused_with_its_name() -> None:
    with pytest.raises(TypeError, match=r"Loop.*refers to itself: a recursive model"):
        schema_of(Loop)
