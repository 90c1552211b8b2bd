"""Client quotas as Kafka keeps them: per user, per client id, their combination, defaults."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from kcr.model.base import KubeModel


class QuotaEntityType(StrEnum):
    USER = "user"
    CLIENT_ID = "client-id"


class QuotaKey(StrEnum):
    """The quotas Kafka keeps for users and client ids (QuotaConfig)."""

    PRODUCER_BYTE_RATE = "producer_byte_rate"  # bytes per second, a whole number
    CONSUMER_BYTE_RATE = "consumer_byte_rate"  # bytes per second, a whole number
    REQUEST_PERCENTAGE = "request_percentage"  # percent of a network and I/O thread


# {"user": "alice", "client-id": None}: a name, or None for the default of that type.
QuotaEntity = dict[QuotaEntityType, str | None]


def entity_label(entity: Mapping[QuotaEntityType, str | None]) -> str:
    """``user=alice,client-id=<default>``, as Kafka's tools print an entity."""
    return ",".join(
        f"{kind.value}={'<default>' if name is None else name}"
        for kind, name in sorted(entity.items())
    )


class ClientQuota(KubeModel):
    entity: QuotaEntity = Field(description="Entity type → name; null is the type's default")
    values: dict[str, float] = Field(description="Quota key → value")


class QuotaMatch(StrEnum):
    """How one filter component matches (Kafka's ClientQuotaFilterComponent)."""

    EXACT = "Exact"  # the named entity
    DEFAULT = "Default"  # the type's default entity
    ANY = "Any"  # any entity of the type, named or default


class QuotaFilterComponent(KubeModel):
    entity_type: QuotaEntityType
    match: QuotaMatch = QuotaMatch.ANY
    name: Annotated[str, Field(min_length=1, max_length=512)] | None = Field(
        default=None, description="The name, for an Exact match only"
    )

    @model_validator(mode="after")
    def _name_only_for_exact(self) -> "QuotaFilterComponent":
        if (self.match is QuotaMatch.EXACT) != (self.name is not None):
            raise ValueError(
                f"{self.entity_type.value}: an Exact match needs a name; Default and Any take none"
            )
        return self


class ClientQuotaFilter(KubeModel):
    """No components matches every entity; ``strict`` excludes entities with other types."""

    components: list[QuotaFilterComponent] = Field(default_factory=list)
    strict: bool = False

    @classmethod
    def exactly(cls, entity: Mapping[QuotaEntityType, str | None]) -> "ClientQuotaFilter":
        """The one entity, and not the combinations that contain it."""
        return cls(
            components=[
                QuotaFilterComponent(entity_type=kind, match=QuotaMatch.EXACT, name=name)
                if name is not None
                else QuotaFilterComponent(entity_type=kind, match=QuotaMatch.DEFAULT)
                for kind, name in sorted(entity.items())
            ],
            strict=True,
        )


class QuotaAlteration(KubeModel):
    """Quotas to set (a value) or remove (null) on one entity; other keys stay as they are."""

    entity: QuotaEntity = Field(min_length=1)
    values: dict[QuotaKey, float | None] = Field(min_length=1)

    @model_validator(mode="after")
    def _named(self) -> "QuotaAlteration":
        for kind, name in self.entity.items():
            if name is not None and not name:
                raise ValueError(f"entity {kind.value}: an empty name; use null for the default")
        return self
