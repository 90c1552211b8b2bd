"""AlterClientQuotas: set or remove the byte rates and request share of users and client ids.

Each entity is one step, the first a canary. The snapshot holds every touched entity's
quotas, so the rollback restores each key exactly, removing those that were unset. Lowering
a rate throttles the clients that ran faster; on a ``<default>`` entity that is every client
without a quota of its own. Consumer groups whose members use a named client id are found
by DescribeGroups, so the lag gate watches them; a user's clients are not visible there.
"""

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, ValidationError, model_validator

from kcr.crd.rules import Rule
from kcr.kafka.port import KafkaPort
from kcr.kafka.quota_model import ClientQuotaFilter, QuotaAlteration, QuotaKey
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts
from kcr.kinds.client_quota_entity import DEFAULT_NAME, QUOTA_KEYS, ClientQuotaEntity, shown
from kcr.model import (
    Assessment,
    BlastRadius,
    DataMovement,
    Facts,
    Inverse,
    ObservedClientQuota,
    ObservedState,
    Risk,
    Stage,
    Storage,
    explain,
)
from kcr.model.base import KubeModel
from kcr.model.strimzi import ResourceEdit
from kcr.plan.steps import make_step
from kcr.policy.strimzi_specs import user_quotas_edit

MAX_ENTITIES = 50
MAX_GROUPS_SEARCHED = 1000
"""Consumer groups described to find those whose members use a named client id."""


class AlterClientQuotas(KubeModel):
    entities: Annotated[
        list[ClientQuotaEntity],
        Field(
            min_length=1,
            max_length=MAX_ENTITIES,
            description="Entities whose quotas change; the first is the canary",
        ),
    ]

    CEL_RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "self.entities.all(e, e.quotas.all(k, k in ["
            + ", ".join(f"'{k}'" for k in QUOTA_KEYS)
            + "]))",
            "quota keys must be one of " + ", ".join(QUOTA_KEYS),
            spec_only=True,
        ),
    )
    """One place in the spec: visiting every key of every entity costs too much repeated
    in each step of a plan."""

    @model_validator(mode="after")
    def _each_entity_once(self) -> Self:
        labels = [e.label for e in self.entities]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(
                f"each entity may appear once; repeated: {', '.join(twice)} (give all of an "
                "entity's keys in one entry)"
            )
        return self


class AlterClientQuotasKind(KindBase[AlterClientQuotas]):
    model = AlterClientQuotas

    def topics(self, member: AlterClientQuotas) -> list[str]:
        return []

    def target(self, member: AlterClientQuotas) -> str:
        more = len(member.entities) - 1
        return f"quota/{member.entities[0].label}" + (f" +{more}" if more else "")

    def describe(self, member: AlterClientQuotas) -> str:
        return "client quotas of " + "; ".join(e.describe() for e in member.entities)

    def quota_entities(self, member: AlterClientQuotas) -> list[dict[str, str | None]]:
        return [{str(k): v for k, v in e.entity().items()} for e in member.entities]

    def strimzi_user_edit(
        self, member: AlterClientQuotas, principal: str, spec: Mapping[str, Any]
    ) -> ResourceEdit | None:
        """The KafkaUser's ``spec.quotas`` with this change made: Strimzi's User Operator
        owns a user's own quotas and would undo a write made around it."""
        user = principal.removeprefix("User:")
        entity = next((e for e in member.entities if (e.user, e.client_id) == (user, None)), None)
        if entity is None:
            return None
        return user_quotas_edit(spec, entity.quotas)

    def claims(self, member: AlterClientQuotas) -> list[str]:
        return [f"quota/{e.label}" for e in member.entities]

    def blast_radius(
        self, member: AlterClientQuotas, observed: ObservedState | None
    ) -> BlastRadius:
        users = {e.user for e in member.entities if e.user not in (None, DEFAULT_NAME)}
        groups = sorted(set(observed.consumers_of_topics)) if observed else []
        return BlastRadius(principals=sorted(f"User:{u}" for u in users), consumer_groups=groups)

    def data_movement(
        self, member: AlterClientQuotas, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        return DataMovement(
            bytes=0,
            summary="no records move between brokers; the quotas change how fast the named "
            "clients may produce and fetch",
        )

    def risk(self, member: AlterClientQuotas, observed: ObservedState | None) -> Assessment:
        found = [judged for e in member.entities for judged in _judge(e, observed)]
        risk = max((r for r, _ in found), key=lambda r: r.rank, default=Risk.LOW)
        return Assessment(risk, [reason for _, reason in found])

    def plan_facts(self, member: AlterClientQuotas, observed: ObservedState) -> Facts:
        facts: Facts = {}
        for entity in member.entities:
            seen = observed.client_quota(entity.user, entity.client_id)
            if seen is None:
                continue
            for key in entity.quotas:
                facts[f"client quota {entity.label}: {key}"] = shown(seen.values.get(key))
        return facts

    def stages(self, member: AlterClientQuotas, canary: int, batch_size: int) -> list[Stage]:
        steps = [
            make_step(f"quota-{index}", AlterClientQuotas(entities=[entity]))
            for index, entity in enumerate(member.entities)
        ]
        if len(steps) == 1:
            return [Stage(name="apply", steps=steps)]
        batches = [steps[i : i + batch_size] for i in range(canary, len(steps), batch_size)]
        return [Stage(name="canary", steps=steps[:canary])] + [
            Stage(name=f"batch-{number}", steps=batch)
            for number, batch in enumerate(batches, start=1)
        ]

    def undo(
        self, undo_id: str, member: AlterClientQuotas, snapshot: ObservedState | None
    ) -> Inverse:
        """Each touched key back to its value in the snapshot; a key that was unset removed."""
        restore = []
        for entity in member.entities:
            seen = snapshot.client_quota(entity.user, entity.client_id) if snapshot else None
            if seen is None:
                return Inverse(
                    None,
                    [
                        f"the quotas of {entity.label} before the change were not observed, "
                        "so they cannot be restored"
                    ],
                )
            values = {key: seen.values.get(key) for key in entity.quotas}
            try:
                restore.append(
                    ClientQuotaEntity(user=entity.user, client_id=entity.client_id, quotas=values)
                )
            except ValidationError as error:
                return Inverse(
                    None,
                    [
                        f"the quotas of {entity.label} before the change cannot be restored "
                        f"automatically ({'; '.join(explain(error))}); restore them by hand"
                    ],
                )
        return Inverse(make_step(undo_id, AlterClientQuotas(entities=restore)))

    async def snapshot(
        self, ports: StepPorts, member: AlterClientQuotas, now: datetime
    ) -> ObservedState:
        kafka = ports.kafka
        quotas = await asyncio.gather(*(_observe(kafka, e) for e in member.entities))
        return ObservedState(
            captured_at=now,
            brokers=await kafka.broker_count(),
            client_quotas=list(quotas),
            consumers_of_topics=await _groups_of_clients(kafka, member),
        )

    async def apply(
        self, ports: StepPorts, member: AlterClientQuotas, snapshot: ObservedState | None
    ) -> ApplyResult:
        """The port compares each entity's keys first and sends only those that differ."""
        written = await ports.kafka.alter_client_quotas(
            [
                QuotaAlteration(
                    entity=e.entity(), values={QuotaKey(k): v for k, v in e.quotas.items()}
                )
                for e in member.entities
            ]
        )
        return self.result(member, written.applied, written.details)


def _judge(entity: ClientQuotaEntity, observed: ObservedState | None) -> list[tuple[Risk, str]]:
    """Each key's move and its risk: lowering or adding a limit throttles whoever runs
    faster (every client without its own quota, on a default); raising or removing does not."""
    seen = observed.client_quota(entity.user, entity.client_id) if observed else None
    label = entity.label
    throttles = Risk.HIGH if entity.is_default else Risk.MEDIUM
    reach = (
        "every client without a quota of its own"
        if entity.is_default
        else "its clients that run faster"
    )
    if seen is None:
        return [
            (
                throttles,
                f"the current quotas of {label} were not observed, so whether this lowers "
                "them is unknown",
            )
        ]
    found = []
    for key, value in entity.quotas.items():
        before = seen.values.get(key)
        if value is None:
            if before is not None:
                found.append(
                    (
                        Risk.LOW,
                        f"removes {key} of {label} (was {shown(before)}): its clients fall "
                        "back to a less specific quota, or none",
                    )
                )
        elif before is None:
            found.append(
                (
                    throttles,
                    f"sets {key} of {label} to {shown(value)} where none was set: {reach} "
                    "are throttled",
                )
            )
        elif value < before:
            found.append(
                (
                    throttles,
                    f"lowers {key} of {label} from {shown(before)} to {shown(value)}: {reach} "
                    "are throttled",
                )
            )
        elif value > before:
            found.append(
                (Risk.LOW, f"raises {key} of {label} from {shown(before)} to {shown(value)}")
            )
    return found or [(Risk.LOW, f"the quotas of {label} are already as requested")]


async def _observe(kafka: KafkaPort, entity: ClientQuotaEntity) -> ObservedClientQuota:
    found = await kafka.describe_client_quotas(ClientQuotaFilter.exactly(entity.entity()))
    return ObservedClientQuota(
        user=entity.user,
        client_id=entity.client_id,
        values=dict(found[0].values) if found else {},
    )


async def _groups_of_clients(kafka: KafkaPort, member: AlterClientQuotas) -> list[str]:
    """Groups with commits whose members use a client id the change names: the consumers
    its quotas can slow down, whose lag the gates watch."""
    client_ids = {e.client_id for e in member.entities if e.client_id not in (None, DEFAULT_NAME)}
    if not client_ids:
        return []
    listed = sorted(g.group for g in await kafka.list_consumer_groups())[:MAX_GROUPS_SEARCHED]
    described = await kafka.describe_consumer_groups(listed) if listed else []
    using = sorted(d.group for d in described if any(m.client_id in client_ids for m in d.members))
    if not using:
        return []
    committed = await kafka.committed_offsets(using)
    return [
        g.group for g in committed if any(o.offset is not None and o.offset >= 0 for o in g.offsets)
    ]


KIND = AlterClientQuotasKind()
