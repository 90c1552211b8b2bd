"""Kubernetes-style discriminated unions over the registered kinds.

``type`` names the kind and exactly the one member field it names is set:
``{type: IncreasePartitions, increasePartitions: {...}}``. The members come from the kind
registry when a document is validated or a schema generated, so a kind registered later
(by a module kcr does not ship) is accepted without editing this file.
"""

from functools import cache
from typing import Any, ClassVar, Self, cast

from pydantic import (
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    SerializationInfo,
    SerializeAsAny,
    SerializerFunctionWrapHandler,
    ValidationError,
    create_model,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails

from kcr.model.base import KubeModel
from kcr.model.kinds import KINDS, ChangeKind


class KindUnion(KubeModel):
    """``type`` plus the one member it names; ``member`` is that member's model."""

    REQUESTABLE_ONLY: ClassVar[bool] = False
    """True where a kind that is only a step (a Deployment scale) is not allowed."""

    type: str
    member: SerializeAsAny[KubeModel]

    @classmethod
    def kinds(cls) -> list[ChangeKind]:
        return [k for k in KINDS.all() if k.requestable or not cls.REQUESTABLE_ONLY]

    @classmethod
    def member_fields(cls) -> dict[str, str]:
        """``type`` value → camelCase member field, as the CRD spells it."""
        return {kind.name: to_camel(kind.field) for kind in cls.kinds()}

    @classmethod
    def of(cls, member: KubeModel) -> Self:
        """Wrap a member in its union, ``type`` set from the member's kind."""
        kind = KINDS.of(member)
        if kind not in cls.kinds():
            raise ValueError(f"{kind.name} cannot be the {cls.__name__.lower()} of a request")
        return cast(Self, cls.model_construct(type=kind.name, member=member))

    @property
    def kind(self) -> ChangeKind:
        return KINDS.named(self.type)

    @model_validator(mode="wrap")
    @classmethod
    def _tagged(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Checked on the raw object, so a shape error is reported before member errors."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            return handler(data)
        name = data.get("type")
        kinds = {k.name: k for k in cls.kinds()}
        kind = kinds.get(name) if isinstance(name, str) else None
        if kind is None:
            expected = ", ".join(repr(k) for k in kinds)
            raise _error(("type",), name, "enum", {"expected": expected})
        fields = {to_camel(k.field): k.field for k in kinds.values()}
        present = [
            camel
            for camel, snake in fields.items()
            if data.get(camel) is not None or data.get(snake) is not None
        ]
        expected = to_camel(kind.field)
        if present != [expected]:
            spelled = ", ".join(present) or "none"
            problem = ValueError(
                f"type {kind.name} needs exactly the member {expected!r} set and no other "
                f"(set: {spelled})"
            )
            raise _error((), data, "value_error", {"error": problem})
        # Another member spelled as null is absent, as the API server reads it.
        members = {*fields, *fields.values()} - {expected, kind.field}
        body = {
            key: value
            for key, value in data.items()
            if key != "type" and not (key in members and value is None)
        }
        member = getattr(_holder(kind.model, kind.field).model_validate(body), kind.field)
        return cast(Self, cls.model_construct(type=kind.name, member=member))

    @model_serializer(mode="wrap")
    def _as_tagged(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        member = data.pop("member")
        field = self.kind.field
        data[field if info.by_alias is False else to_camel(field)] = member
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """``type`` as an enum of the kinds and one optional property per member."""
        reference = handler(core_schema)
        schema = handler.resolve_ref_schema(reference)
        properties: dict[str, Any] = {
            "type": {"type": "string", "enum": [k.name for k in cls.kinds()], "title": "Type"}
        }
        for kind in cls.kinds():
            member = handler(kind.model.__pydantic_core_schema__)
            properties[to_camel(kind.field)] = member
        schema["properties"] = properties
        schema["required"] = ["type"]
        schema["additionalProperties"] = False
        return reference

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KindUnion):
            return NotImplemented
        return (self.type, self.member) == (other.type, other.member)

    def __hash__(self) -> int:
        return hash((self.type, self.member))


@cache
def _holder(model: type[KubeModel], field: str) -> type[KubeModel]:
    """A model with the one member field: pydantic locates and words member errors itself."""
    member: Any = (model, ...)
    return create_model(f"{model.__name__}Member", __base__=KubeModel, **{field: member})


def _error(loc: tuple[str, ...], value: Any, kind: str, ctx: dict[str, Any]) -> ValidationError:
    """One of pydantic's own errors, so it reads like every other validation error."""
    return ValidationError.from_exception_data(
        "KindUnion", [InitErrorDetails(type=kind, loc=loc, input=value, ctx=ctx)]
    )
