"""Schema error: a producer's new release registers an incompatible schema and the registry
refuses it (409 Conflict). The release before it still writes and its consumer keeps up;
the answer is the producer's schema, not a Kafka change, and nothing is drafted."""

import json
from collections.abc import Mapping

import httpx

from kcr.kafka.clients import slow_consumer, steady_producer
from kcr.lab.context import LabContext
from kcr.lab.registry import Registration, RegistryClient
from kcr.lab.scenario import (
    NO_CHANGE,
    Check,
    Expectation,
    Need,
    ReadBack,
    Scenario,
    Ticket,
    register,
)
from kcr.lab.verdict import FindingSeen

RULE = "BACKWARD"
NAMESPACE = "com.example.orders"
ID = {"name": "id", "type": "string"}
AMOUNT = {"name": "amount", "type": "long"}
NOTE = {"name": "note", "type": ["null", "string"], "default": None}
RELEASED: list[Mapping[str, object]] = [
    {"type": "record", "name": "Order", "namespace": NAMESPACE, "fields": [ID, AMOUNT]},
    {"type": "record", "name": "Order", "namespace": NAMESPACE, "fields": [ID, AMOUNT, NOTE]},
]
BROKEN: Mapping[str, object] = {
    "type": "record",
    "name": "Order",
    "namespace": NAMESPACE,
    "fields": [{"name": "id", "type": "long"}, AMOUNT, NOTE],
}
"""The new release turns ``id`` from a string into a long: readers of version 2 break."""


def _one_line(schema: Mapping[str, object]) -> str:
    return json.dumps(schema, separators=(",", ":"))


@register
class SchemaIncompatible(Scenario):
    name = "schema-incompatible"
    title = "Schema error: the registry refuses a producer's incompatible schema (409)"
    expectation = Expectation(cause="SchemaIncompatible", proposal=NO_CHANGE)
    needs = frozenset({Need.SCHEMA_REGISTRY})
    settle_seconds = 3.0

    async def build(self, lab: LabContext) -> Ticket:
        assert lab.kafka.schema_registry_url
        self.registry = RegistryClient(lab.kafka.schema_registry_url)
        self.subject = f"{lab.name('orders')}-value"
        self.topic = await lab.create_topic("orders")
        await self.registry.set_compatibility(self.subject, RULE)
        for schema in RELEASED:
            released = await self.registry.register(self.subject, _one_line(schema))
            if not released.accepted:
                raise RuntimeError(f"registering a released version failed: {released}")
        group = lab.group("fulfilment")
        lab.run(steady_producer(lab.kafka.admin_settings, self.topic, 10, name="orders-v2"))
        lab.run(slow_consumer(lab.kafka.admin_settings, group, self.topic, 200, name="fulfilment"))
        self.refused: Registration = await self.registry.register(self.subject, _one_line(BROKEN))
        if self.refused.accepted:
            raise RuntimeError(f"the registry accepted the broken schema: {RULE} is not enforced")
        lab.narrator.done(
            f"the new release registering {self.subject}: {self.refused.status} "
            f"{self.refused.message[:160]}"
        )
        return Ticket(
            text=f"the orders service's new release fails at startup: its producer cannot "
            f"register its schema for {self.topic} (the schema registry answers 409 "
            "Conflict). What is wrong?",
            topic=self.topic,
            schema=_one_line(BROKEN),
        )

    def diagnosis_checks(self, findings: list[FindingSeen]) -> list[Check]:
        latest = f"version {len(RELEASED)}"
        top = findings[0].summary if findings else ""
        named = self.subject in top and latest in top
        return [
            Check(
                "diagnosis names subject and version",
                named,
                f"{self.subject}, {latest} " + ("named" if named else f"not in {top[:200]!r}"),
            )
        ]

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        read_back = ReadBack()
        read_back.add(
            "refused before",
            self.refused.status == 409,
            f"{self.refused.status} {self.refused.message[:200]}",
        )
        versions = await self.registry.versions(self.subject)
        level = await self.registry.compatibility(self.subject)
        read_back.add(
            "registry unchanged",
            versions == list(range(1, len(RELEASED) + 1)) and level == RULE,
            f"{self.subject} versions {versions}, compatibility {level}",
        )
        (configs,) = await lab.admin.topic_configs([self.topic])
        overrides = sorted(
            k for k, v in configs.configs.items() if v.source.value == "TopicOverride"
        )
        read_back.add("topic untouched", not overrides, f"overrides: {overrides or 'none'}")
        return read_back

    async def cleanup(self, lab: LabContext) -> None:
        registry = getattr(self, "registry", None)
        if registry is None:
            return
        try:
            await registry.delete(self.subject)
        except httpx.HTTPError as error:
            lab.narrator.warn(f"subject {self.subject} left in the registry: {error}")
        finally:
            await registry.close()
