"""pydantic's JSON Schema, with each model's CEL rules attached where the model appears.

Validation mode, not serialization mode: the API server checks what people and the MCP
server submit, which is what pydantic validates. In serialization mode every field with
a default would be required, and a hand-written change request would be refused for
leaving out ``rollout`` or ``allowUnknownKeys``.
"""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from kcr.crd.rules import field_extras_for, rules_for


class CrdJsonSchema(GenerateJsonSchema):
    """Adds ``x-kubernetes-validations`` and list semantics to the models that have them."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        model: type[BaseModel] = schema["cls"]
        rules = rules_for(model)
        if rules:
            json_schema["x-kubernetes-validations"] = [rule.as_validation() for rule in rules]
        properties = json_schema.get("properties", {})
        for field, extras in field_extras_for(model).items():
            if field not in properties:
                raise KeyError(f"{model.__name__} has no field {field!r} to mark with {extras}")
            properties[field].update(extras)
        return json_schema


def model_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's validation-mode schema in its camelCase spelling, with CEL rules."""
    return model.model_json_schema(by_alias=True, mode="validation", schema_generator=CrdJsonSchema)
