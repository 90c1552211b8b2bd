"""Schema reads: a topic's versions, and whether a producer's schema may be registered."""

import json
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from kcr.mcp.evidence import topic_subject
from kcr.mcp.gate.calls import ToolFailedError, ToolInvalidError
from kcr.mcp.schemas import (
    SchemaCompatibility,
    SchemaHistory,
    SchemaPart,
    SchemaRegistryClient,
    SchemaRegistryError,
    SchemaRejectedError,
    SchemaType,
    compatibility_evidence,
    schema_evidence,
)
from kcr.mcp.tools.env import ToolEnv
from kcr.model.names import TopicName


def _as_text(value: Any) -> Any:
    """An optional schema argument reaches validation already parsed (the SDK decodes
    JSON-looking strings for any annotation but plain ``str``): make it text again."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


ProducerSchema = Annotated[
    str,
    BeforeValidator(_as_text),
    Field(
        min_length=2,
        max_length=4096,
        description="The schema a producer tried to register, as its error log shows it, on "
        "one line: Avro or JSON Schema as JSON, Protobuf as its .proto text",
    ),
]


async def schema_history(env: ToolEnv, topic: TopicName) -> SchemaHistory:
    """The schema versions of a topic's subjects (``<topic>-key``, ``<topic>-value``) from
    the schema registry, newest last, with when each was registered where the registry
    says so: a schema change shortly before lag began is a lead."""
    env.require_topic(topic)
    try:
        history = await registry(env).history(topic, env.now())
    except SchemaRegistryError as error:
        raise ToolFailedError(str(error)) from None
    env.remember({topic_subject(topic)}, [schema_evidence(history)])
    return history


async def check_schema_compatibility(
    env: ToolEnv,
    topic: TopicName,
    schema: ProducerSchema,
    schema_type: SchemaType = SchemaType.AVRO,
    part: Annotated[
        SchemaPart, Field(description="The topic's value subject (<topic>-value) or its key's")
    ] = SchemaPart.VALUE,
) -> SchemaCompatibility:
    """Whether the registry would accept a schema as the next version of a topic's subject:
    checked against the latest version under the subject's compatibility rule, registering
    nothing. A producer whose registration failed with 409 Conflict sent a schema the rule
    refuses; the answer names the subject, the version and the registry's reasons."""
    env.require_topic(topic)
    try:
        check = await registry(env).compatibility(topic, part, schema, schema_type, env.now())
    except SchemaRejectedError as error:
        raise ToolInvalidError(f"argument schema: {error}") from None
    except SchemaRegistryError as error:
        raise ToolFailedError(str(error)) from None
    env.remember({topic_subject(topic)}, [compatibility_evidence(check)])
    return check


async def producer_schema_check(
    env: ToolEnv,
    topic: str | None,
    schema: str | None,
    schema_type: SchemaType,
    notes: list[str],
) -> tuple[SchemaCompatibility, ...]:
    """For a diagnosis: the schema is one fact among several, so a registry that cannot
    answer leaves a note, not a failed diagnosis."""
    if schema is None or topic is None:
        return ()
    if env.services.schemas is None:
        notes.append(
            "the producer's schema was not checked: no schema registry is configured "
            "(schemaRegistryUrl or --schema-registry-url)"
        )
        return ()
    try:
        check = await env.services.schemas.compatibility(
            topic, SchemaPart.VALUE, schema, schema_type, env.now()
        )
    except SchemaRegistryError as error:
        notes.append(f"the producer's schema could not be checked: {error}")
        return ()
    return (check,)


def registry(env: ToolEnv) -> SchemaRegistryClient:
    found = env.services.schemas
    if found is None:
        raise ToolInvalidError(
            "no schema registry is configured for this server: set the KafkaCluster's "
            "schemaRegistryUrl or start kcr mcp with --schema-registry-url"
        )
    return found
