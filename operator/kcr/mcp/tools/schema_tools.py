"""``schema_history``: a topic's key and value schema versions, with registration times."""

from kcr.mcp.evidence import topic_subject
from kcr.mcp.gate.calls import ToolFailedError, ToolInvalidError
from kcr.mcp.schemas import SchemaHistory, SchemaRegistryError, schema_evidence
from kcr.mcp.tools.env import ToolEnv
from kcr.model.names import TopicName


async def schema_history(env: ToolEnv, topic: TopicName) -> SchemaHistory:
    """The schema versions of a topic's subjects (``<topic>-key``, ``<topic>-value``) from
    the schema registry, newest last, with when each was registered where the registry
    says so: a schema change shortly before lag began is a lead."""
    env.require_topic(topic)
    registry = env.services.schemas
    if registry is None:
        raise ToolInvalidError(
            "no schema registry is configured for this server: set the KafkaCluster's "
            "schemaRegistryUrl or start kcr mcp with --schema-registry-url"
        )
    try:
        history = await registry.history(topic, env.now())
    except SchemaRegistryError as error:
        raise ToolFailedError(str(error)) from None
    env.remember({topic_subject(topic)}, [schema_evidence(history)])
    return history
