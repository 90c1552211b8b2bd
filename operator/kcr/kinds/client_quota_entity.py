"""One client quota entity as a request names it: a user, a client id, or both, and its keys.

``<default>`` names the default of its type, as Kafka's tools print it: the quota every
user (or client id) without one of its own gets. A key set to null is removed, so the
client falls back to the next quota in Kafka's precedence, or to none.
"""

import math
from typing import Annotated, ClassVar, Self

from pydantic import Field, field_serializer, field_validator, model_validator

from kcr.crd.rules import Rule
from kcr.kafka.quota_model import QuotaEntity, QuotaEntityType, QuotaKey, entity_label, quota_text
from kcr.model.base import KubeModel
from kcr.model.names import PRINTABLE_PATTERN

DEFAULT_NAME = "<default>"
QUOTA_KEYS = tuple(key.value for key in QuotaKey)
BYTE_RATES = frozenset({QuotaKey.PRODUCER_BYTE_RATE.value, QuotaKey.CONSUMER_BYTE_RATE.value})
MAX_BYTE_RATE = 2**63 - 1

QuotaEntityName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=PRINTABLE_PATTERN,
        description="The name exactly as Kafka knows it (a user without 'User:'), or <default>",
    ),
]
QuotaValue = Annotated[float, Field(gt=0)]
QuotaValues = Annotated[
    dict[str, QuotaValue | None],
    Field(
        min_length=1,
        max_length=len(QUOTA_KEYS),
        description="producer_byte_rate and consumer_byte_rate (bytes a second, whole "
        "numbers), request_percentage (percent of one network and I/O thread); null removes "
        "the key",
    ),
]


class ClientQuotaEntity(KubeModel):
    user: QuotaEntityName | None = None
    client_id: QuotaEntityName | None = None
    quotas: QuotaValues

    CEL_RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "has(self.user) || has(self.clientId)",
            "name a user, a clientId, or both",
            spec_only=True,  # in status, once per entity of each of 10,000 steps is too many
        ),
        Rule(
            "!has(self.user) || !self.user.startsWith('User:')",
            "give the user's name without 'User:': Kafka keeps quotas under the principal's name",
            spec_only=True,
        ),
    )

    @field_validator("user")
    @classmethod
    def _user_without_type(cls, user: str | None) -> str | None:
        if user is not None and user.startswith("User:"):
            raise ValueError(
                f"give the user's name without 'User:' ({user.removeprefix('User:')}): Kafka "
                "keeps quotas under the principal's name"
            )
        return user

    @field_validator("quotas")
    @classmethod
    def _known_positive_values(cls, quotas: dict[str, float | None]) -> dict[str, float | None]:
        for key, value in quotas.items():
            if key not in QUOTA_KEYS:
                raise ValueError(
                    f"unknown quota key {key!r}: Kafka keeps {', '.join(QUOTA_KEYS)} for "
                    "users and client ids"
                )
            if value is None:
                continue
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{key} must be greater than 0, got {value}")
            if key in BYTE_RATES and (not value.is_integer() or value > MAX_BYTE_RATE):
                raise ValueError(f"{key} is bytes a second, a whole number; got {value}")
        return quotas

    @model_validator(mode="after")
    def _names_an_entity(self) -> Self:
        if self.user is None and self.client_id is None:
            raise ValueError("name a user, a clientId, or both: the entity the quotas belong to")
        return self

    @field_serializer("quotas")
    def _whole_rates(self, quotas: dict[str, float | None]) -> dict[str, float | int | None]:
        """A byte rate reads as the whole number it is, in YAML and in the spec hash."""
        return {k: int(v) if v is not None and v.is_integer() else v for k, v in quotas.items()}

    def entity(self) -> QuotaEntity:
        """The entity as the Kafka port names it: a name, or None for a default."""
        found: QuotaEntity = {}
        if self.user is not None:
            found[QuotaEntityType.USER] = None if self.user == DEFAULT_NAME else self.user
        if self.client_id is not None:
            found[QuotaEntityType.CLIENT_ID] = (
                None if self.client_id == DEFAULT_NAME else self.client_id
            )
        return found

    @property
    def label(self) -> str:
        """``user=alice,client-id=<default>``, as Kafka's tools print an entity."""
        return entity_label(self.entity())

    @property
    def is_default(self) -> bool:
        """A default reaches every client without a closer quota of its own."""
        return DEFAULT_NAME in (self.user, self.client_id)

    def describe(self) -> str:
        said = [
            f"remove {key}" if value is None else f"{key}={quota_text(value)}"
            for key, value in self.quotas.items()
        ]
        return f"{self.label}: {', '.join(said)}"


def shown(value: float | None) -> str:
    return "unset" if value is None else quota_text(value)
