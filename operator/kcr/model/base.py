"""The shared shape of every kcr resource model: Kubernetes camelCase, nothing unknown."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class KubeModel(BaseModel):
    """Immutable by default: a spec is intent and must not drift after it is read."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_enum_values=False,
        serialize_by_alias=True,
    )


class MutableKubeModel(BaseModel):
    """Status objects are rebuilt by the engine step by step, so they may change."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_assignment=True,
        serialize_by_alias=True,
    )
