"""A producer's schema refused by a real schema registry (Apicurio), explained through MCP.

The registry is set up the way a team's producers leave it, with plain HTTP calls, not
kcr's client: a BACKWARD rule and two released versions. The broken release's
registration is refused with 409 first, so the test checks kcr's explanation against what
the registry really did.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from mcp import Client
from mcp_support import Built, build, error_text, structured

from kcr import kinds
from kcr.embedded.apicurio import SchemaRegistry
from kcr.kafka.fake import FakeKafka
from kcr.kinds.create_topic import CreateTopic
from kcr.mcp.schemas import SchemaRegistryClient

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

ID = {"name": "id", "type": "string"}
NOTE = {"name": "note", "type": ["null", "string"], "default": None}
RELEASED = [
    {"type": "record", "name": "Order", "fields": [ID]},
    {"type": "record", "name": "Order", "fields": [ID, NOTE]},
]
BROKEN = {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}, NOTE]}
EVOLVED = {
    "type": "record",
    "name": "Order",
    "fields": [ID, NOTE, {"name": "currency", "type": "string", "default": "EUR"}],
}


def one_line(schema: dict[str, object]) -> str:
    return json.dumps(schema, separators=(",", ":"))


@dataclass
class Subject:
    topic: str
    subject: str
    refused: httpx.Response


@pytest.fixture
def orders(schema_registry: SchemaRegistry, unique: str) -> Subject:
    topic = f"{unique}.orders"
    subject = f"{topic}-value"
    url = schema_registry.api_url
    with httpx.Client(timeout=10) as http:
        http.put(f"{url}/config/{subject}", json={"compatibility": "BACKWARD"}).raise_for_status()
        for schema in RELEASED:
            http.post(
                f"{url}/subjects/{subject}/versions", json={"schema": one_line(schema)}
            ).raise_for_status()
        refused = http.post(f"{url}/subjects/{subject}/versions", json={"schema": one_line(BROKEN)})
    return Subject(topic, subject, refused)


@pytest_asyncio.fixture
async def server(schema_registry: SchemaRegistry, orders: Subject) -> AsyncIterator[Built]:
    kafka = FakeKafka()
    await kinds.apply(kafka, CreateTopic(topic=orders.topic, partitions=1, replication_factor=1))
    registry = SchemaRegistryClient(schema_registry.api_url)
    try:
        yield build(kafka, schemas=registry)
    finally:
        await registry.close()


async def test_the_refused_schema_is_named_by_subject_version_and_rule(
    server: Built, orders: Subject
) -> None:
    assert orders.refused.status_code == 409, orders.refused.text
    async with Client(server.mcp) as client:
        check = structured(
            await client.call_tool(
                "check_schema_compatibility",
                {"topic": orders.topic, "schema": one_line(BROKEN)},
            )
        )
        diagnosis = structured(
            await client.call_tool(
                "explain_current_state", {"topic": orders.topic, "schema": one_line(BROKEN)}
            )
        )
    assert (check["subject"], check["compatible"], check["latestVersion"]) == (
        orders.subject,
        False,
        2,
    )
    assert check["compatibilityLevel"] == "BACKWARD"
    assert any("/fields/0/type" in message for message in check["messages"])
    first = diagnosis["findings"][0]
    assert (first["rank"], first["kind"], first["topic"]) == (1, "SchemaIncompatible", orders.topic)
    assert f"subject {orders.subject}: it is not compatible with version 2" in first["summary"]
    assert first["proposal"] is None
    assert (first["runbook"]["runbook"], first["runbook"]["section"]) == (
        "schema-registry",
        "incompatible-schema",
    )
    (evidence,) = first["evidence"]
    assert evidence["kind"] == "Schema"
    assert evidence["source"].endswith(f"POST /compatibility/subjects/{orders.subject}/versions/2")
    assert evidence["query"] == (
        f"check_schema_compatibility topic={orders.topic} subject={orders.subject} version=2"
    )
    assert evidence["observedValue"].startswith(
        f"AVRO schema NOT compatible with {orders.subject} version 2"
    )
    assert evidence["timeWindow"]["start"] == evidence["timeWindow"]["end"]


async def test_a_compatible_evolution_is_no_finding(server: Built, orders: Subject) -> None:
    async with Client(server.mcp) as client:
        check = structured(
            await client.call_tool(
                "check_schema_compatibility", {"topic": orders.topic, "schema": one_line(EVOLVED)}
            )
        )
        diagnosis = structured(
            await client.call_tool(
                "explain_current_state", {"topic": orders.topic, "schema": one_line(EVOLVED)}
            )
        )
    assert (check["compatible"], check["latestVersion"]) == (True, 2)
    assert "SchemaIncompatible" not in [f["kind"] for f in diagnosis["findings"]]


async def test_a_subject_without_versions_and_a_broken_schema(
    server: Built, orders: Subject
) -> None:
    async with Client(server.mcp) as client:
        keys = structured(
            await client.call_tool(
                "check_schema_compatibility",
                {"topic": orders.topic, "schema": one_line(BROKEN), "part": "key"},
            )
        )
        broken = error_text(
            await client.call_tool(
                "check_schema_compatibility",
                {"topic": orders.topic, "schema": '{"type":"recor'},
            )
        )
        groupwise = error_text(
            await client.call_tool(
                "explain_current_state", {"group": "billing", "schema": one_line(BROKEN)}
            )
        )
    assert (keys["subject"], keys["compatible"], keys["latestVersion"]) == (
        f"{orders.topic}-key",
        True,
        None,
    )
    assert "argument schema: the schema registry cannot read the schema" in broken
    assert "schema needs topic" in groupwise


async def test_without_a_registry_the_tool_says_how_to_configure_one() -> None:
    kafka = FakeKafka()
    await kinds.apply(kafka, CreateTopic(topic="orders", partitions=1, replication_factor=1))
    async with Client(build(kafka).mcp) as client:
        refused = error_text(
            await client.call_tool(
                "check_schema_compatibility", {"topic": "orders", "schema": one_line(BROKEN)}
            )
        )
        diagnosis = structured(
            await client.call_tool(
                "explain_current_state", {"topic": "orders", "schema": one_line(BROKEN)}
            )
        )
    assert "no schema registry is configured" in refused
    assert any("producer's schema was not checked" in note for note in diagnosis["notes"])
