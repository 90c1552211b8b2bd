"""Small reads every write and snapshot needs: one topic's metadata, waiting for a change.

Kafka applies topic creation, deletion and new partitions on the controller first; brokers
learn of it a moment later. A write waits (bounded) until metadata shows its effect, so the
next compare sees it and a repeated write is recognised as already applied.
"""

import asyncio
from collections.abc import Callable

from kcr.kafka.backend import Backend
from kcr.kafka.errors import KafkaTimeoutError, NotFoundError
from kcr.kafka.readmodel import TopicInfo

SETTLE_POLL_SECONDS = 0.05


async def find_topic(backend: Backend, name: str) -> TopicInfo | None:
    metadata = await backend.metadata([name])
    return next((t for t in metadata.topics if t.name == name), None)


async def require_topic(backend: Backend, name: str) -> TopicInfo:
    found = await find_topic(backend, name)
    if found is None:
        raise NotFoundError(f"topic {name} does not exist", resource="topic", name=name)
    return found


async def wait_for_topic(
    backend: Backend,
    name: str,
    settled: Callable[[TopicInfo | None], bool],
    what: str,
) -> None:
    """Poll metadata until ``settled`` holds, for at most the backend's operation timeout;
    ``KafkaTimeoutError`` says what never showed."""
    timeout = backend.settings.operation_timeout
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not settled(await find_topic(backend, name)):
        if loop.time() >= deadline:
            raise KafkaTimeoutError(
                f"the broker accepted the request but its metadata did not show {what} "
                f"within {timeout:g}s"
            )
        await asyncio.sleep(SETTLE_POLL_SECONDS)
