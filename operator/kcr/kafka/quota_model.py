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


def quota_text(value: float) -> str:
    """A byte rate as the whole number it is; a percentage as written."""
    return str(int(value)) if value.is_integer() else str(value)


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


class AppliedQuota(KubeModel):
    """The quota a broker enforces on one client for one key, and the entity it comes from."""

    key: str
    value: float
    entity: QuotaEntity


def precedence(user: str, client_id: str) -> list[QuotaEntity]:
    """Kafka's order (ClientQuotaManager): the most specific entity setting a key wins."""
    user_type, client_type = QuotaEntityType.USER, QuotaEntityType.CLIENT_ID
    return [
        {user_type: user, client_type: client_id},
        {user_type: user, client_type: None},
        {user_type: user},
        {user_type: None, client_type: client_id},
        {user_type: None, client_type: None},
        {user_type: None},
        {client_type: client_id},
        {client_type: None},
    ]


def applied_quotas(quotas: list[ClientQuota], user: str, client_id: str) -> list[AppliedQuota]:
    """Each key's quota for a client of ``user`` with ``client_id``, as the broker picks it:
    separately per key, from the first entity in :func:`precedence` that sets it."""
    by_entity = {frozenset(q.entity.items()): q.values for q in quotas}
    applied: dict[str, AppliedQuota] = {}
    for entity in precedence(user, client_id):
        for key, value in by_entity.get(frozenset(entity.items()), {}).items():
            applied.setdefault(key, AppliedQuota(key=key, value=value, entity=entity))
    return [applied[key] for key in sorted(applied)]
