"""Primitive writes that return once the cluster shows them.

Kafka acknowledges topic, partition and ACL writes on the controller; brokers learn of
them a moment later. Each write here waits (bounded) until a read shows it, so the next
compare sees it and a repeated write is recognised as already applied. Deciding what to
write (compare, then send only what differs) is each change kind's business.
"""

import asyncio

from kcr.kafka.backend import Backend
from kcr.kafka.errors import KafkaTimeoutError, NotFoundError
from kcr.kafka.readmodel import AclFilter, AclPatternFilter
from kcr.kafka.topics import SETTLE_POLL_SECONDS, find_topic, wait_for_topic
from kcr.model import AclBinding


async def add_topic(
    backend: Backend, name: str, partitions: int, replication_factor: int, configs: dict[str, str]
) -> None:
    await backend.create_topic(name, partitions, replication_factor, dict(configs))
    await wait_for_topic(backend, name, lambda t: t is not None, "the new topic")


async def add_partitions(backend: Backend, topic: str, total: int) -> None:
    await backend.create_partitions(topic, total)
    await wait_for_topic(
        backend,
        topic,
        lambda t: t is not None and t.partition_count >= total,
        f"{total} partitions",
    )


async def remove_topic(backend: Backend, name: str) -> bool:
    """False when the topic was already gone."""
    if await find_topic(backend, name) is None:
        return False
    try:
        await backend.delete_topic(name)
    except NotFoundError:
        return False
    await wait_for_topic(backend, name, lambda t: t is None, "the topic gone")
    return True


def exact_filter(binding: AclBinding) -> AclFilter:
    return AclFilter(
        resource_type=binding.resource_type,
        resource_name=binding.resource_name,
        pattern_type=AclPatternFilter(binding.pattern_type.value),
        principal=binding.principal,
        host=binding.host,
        operation=binding.operation,
        permission=binding.permission,
    )


async def existing_bindings(backend: Backend, bindings: list[AclBinding]) -> list[AclBinding]:
    """Those of ``bindings`` the cluster holds, each looked up exactly, all at once."""
    found = await asyncio.gather(*(backend.describe_acls(exact_filter(b)) for b in bindings))
    keys = {b.key() for rows in found for b in rows}
    return [b for b in bindings if b.key() in keys]


async def _wait_for_bindings(
    backend: Backend, added: list[AclBinding], removed: list[AclBinding]
) -> None:
    """Until DescribeAcls shows the change, for at most the operation timeout.

    Kafka acknowledges CreateAcls and DeleteAcls once the controller has committed them; a
    broker's authorizer applies them when the metadata reaches it, so a read right after the
    write (the next step's snapshot, a rollback, a second apply) can still see the old set.
    """
    timeout = backend.settings.operation_timeout
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        present = {b.key() for b in await existing_bindings(backend, [*added, *removed])}
        unseen = [b.key() for b in added if b.key() not in present]
        lingering = [b.key() for b in removed if b.key() in present]
        if not unseen and not lingering:
            return
        if loop.time() >= deadline:
            missing = [f"{k} not added" for k in unseen] + [f"{k} not removed" for k in lingering]
            raise KafkaTimeoutError(
                f"the broker accepted the ACL change but did not show it within {timeout:g}s: "
                + "; ".join(missing)
            )
        await asyncio.sleep(SETTLE_POLL_SECONDS)


async def change_acls(backend: Backend, add: list[AclBinding], remove: list[AclBinding]) -> None:
    if add:
        await backend.create_acls(add)
    if remove:
        await backend.delete_acls(remove)
    if add or remove:
        await _wait_for_bindings(backend, add, remove)
