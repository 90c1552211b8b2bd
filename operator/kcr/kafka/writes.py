"""Idempotent writes: read the live state, send only what differs, say which it was.

A repeat of any write sends nothing and returns ``AlreadyApplied``, so a restarted operator
may re-run its last step safely.
"""

import asyncio

from kcr.kafka.backend import Backend
from kcr.kafka.errors import (
    ConflictError,
    GroupNotEmptyError,
    InvalidRequestError,
    KafkaTimeoutError,
    NotFoundError,
)
from kcr.kafka.offsets import read_and_resolve
from kcr.kafka.readmodel import AclFilter, AclPatternFilter, GroupDescription, TopicPartition
from kcr.kafka.results import ApplyOutcome, ApplyResult
from kcr.kafka.topics import SETTLE_POLL_SECONDS, find_topic, require_topic, wait_for_topic
from kcr.model import (
    AclBinding,
    AlterAcls,
    AlterTopicConfig,
    ConfigSource,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    ObservedState,
    OperationMember,
    OperationType,
    ResetConsumerGroupOffsets,
)
from kcr.plan.steps import target_of


def _result(
    member: OperationMember, changed: bool, details: list[str], **extra: object
) -> ApplyResult:
    return ApplyResult.model_validate(
        {
            "operation": OperationType(type(member).__name__),
            "target": target_of(member),
            "outcome": ApplyOutcome.APPLIED if changed else ApplyOutcome.ALREADY_APPLIED,
            "details": details,
            **extra,
        }
    )


async def create_topic(backend: Backend, change: CreateTopic) -> ApplyResult:
    if await find_topic(backend, change.topic) is None:
        try:
            await backend.create_topic(
                change.topic, change.partitions, change.replication_factor, dict(change.configs)
            )
        except ConflictError as error:
            if error.code != "TOPIC_ALREADY_EXISTS":
                raise
            return await _compare_existing_topic(backend, change)  # created meanwhile
        await wait_for_topic(backend, change.topic, lambda t: t is not None, "the new topic")
        return _result(
            change,
            True,
            [
                f"created topic {change.topic} with {change.partitions} partitions and "
                f"replication factor {change.replication_factor}"
            ],
        )
    return await _compare_existing_topic(backend, change)


async def _compare_existing_topic(backend: Backend, change: CreateTopic) -> ApplyResult:
    topic = await require_topic(backend, change.topic)
    differences = []
    if topic.partition_count != change.partitions:
        differences.append(f"{topic.partition_count} partitions, not {change.partitions}")
    if topic.replication_factor != change.replication_factor:
        differences.append(
            f"replication factor {topic.replication_factor}, not {change.replication_factor}"
        )
    if change.configs:
        (configs,) = await backend.topic_configs([change.topic])
        differences += [
            f"{key}={configs.value(key)}, not {value}"
            for key, value in change.configs.items()
            if configs.value(key) != value
        ]
    if differences:
        raise ConflictError(
            f"topic {change.topic} already exists with different settings: "
            + "; ".join(differences),
            code="TOPIC_ALREADY_EXISTS",
        )
    return _result(change, False, [f"topic {change.topic} already exists as requested"])


async def increase_partitions(backend: Backend, change: IncreasePartitions) -> ApplyResult:
    topic = await require_topic(backend, change.topic)
    current = topic.partition_count
    if current == change.partitions:
        return _result(change, False, [f"{change.topic} already has {current} partitions"])
    if current > change.partitions:
        raise ConflictError(
            f"{change.topic} has {current} partitions, more than the requested "
            f"{change.partitions}; Kafka cannot remove partitions"
        )
    await backend.create_partitions(change.topic, change.partitions)
    await wait_for_topic(
        backend,
        change.topic,
        lambda t: t is not None and t.partition_count >= change.partitions,
        f"{change.partitions} partitions",
    )
    return _result(change, True, [f"{change.topic}: {current} → {change.partitions} partitions"])


async def alter_topic_config(backend: Backend, change: AlterTopicConfig) -> ApplyResult:
    """A key whose effective value already equals the wanted one is left alone.

    A ``delete`` removes only a topic override; a key that merely inherits is already gone.
    """
    for name in change.topics:
        await require_topic(backend, name)
    details = []
    changed = False
    for current in await backend.topic_configs(list(change.topics)):
        to_set = {k: v for k, v in change.set.items() if current.value(k) != v}
        to_delete = [
            k
            for k in change.delete
            if k in current.configs and current.configs[k].source is ConfigSource.TOPIC_OVERRIDE
        ]
        if not to_set and not to_delete:
            details.append(f"{current.topic}: already as requested")
            continue
        await backend.alter_topic_config(current.topic, to_set, to_delete)
        changed = True
        done = [f"{k}={v}" for k, v in to_set.items()] + [f"removed {k}" for k in to_delete]
        details.append(f"{current.topic}: " + ", ".join(done))
    return _result(change, changed, details)


async def reset_consumer_group_offsets(
    backend: Backend, change: ResetConsumerGroupOffsets, snapshot: ObservedState | None
) -> ApplyResult:
    (group,) = await backend.describe_groups([change.group])
    if group.active:
        raise _not_empty(group)
    target = await read_and_resolve(backend, change, snapshot)
    if not target:
        raise InvalidRequestError(
            f"group {change.group} has no committed offsets on {', '.join(change.topics)}, so "
            f"there is nothing to {change.to.describe()}; reset to earliest, latest or a "
            "timestamp instead"
        )
    partitions = [TopicPartition(topic=o.topic, partition=o.partition) for o in target]
    (current,) = await backend.committed([change.group], partitions)
    before = {(o.topic, o.partition): o.offset for o in current.offsets}
    moved = [o for o in target if before.get((o.topic, o.partition)) != o.offset]
    if not moved:
        return _result(
            change,
            False,
            [f"group {change.group} already at {change.to.describe()} on {len(target)} partitions"],
            offsets=target,
        )
    await backend.commit_offsets(change.group, target)
    details = [
        f"{o.topic}/{o.partition}: {_shown(before.get((o.topic, o.partition)))} → {o.offset}"
        for o in moved
    ]
    return _result(change, True, details, offsets=target)


def _not_empty(group: GroupDescription) -> GroupNotEmptyError:
    """Refuse on listed members, and on an active state whose members the broker hides."""
    remedy = (
        "stop its consumers, or name the Deployment in scaleDeployment, before resetting "
        "its offsets"
    )
    if group.members:
        clients = sorted({m.client_id or m.member_id for m in group.members})
        return GroupNotEmptyError(
            f"group {group.group} has {len(group.members)} active member(s) "
            f"({', '.join(clients[:5])}); {remedy}",
            group=group.group,
            members=len(group.members),
        )
    return GroupNotEmptyError(
        f"group {group.group} is {group.state.value}, so it has active members although the "
        f"broker lists none; {remedy}",
        group=group.group,
        members=None,
    )


def _shown(offset: int | None) -> str:
    return "no commit" if offset is None else str(offset)


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


async def alter_acls(backend: Backend, change: AlterAcls) -> ApplyResult:
    present = {b.key() for b in await existing_bindings(backend, [*change.add, *change.remove])}
    to_add = [b for b in change.add if b.key() not in present]
    to_remove = [b for b in change.remove if b.key() in present]
    if to_add:
        await backend.create_acls(to_add)
    if to_remove:
        await backend.delete_acls(to_remove)
    if to_add or to_remove:
        await _wait_for_bindings(backend, to_add, to_remove)
    details = [f"added {b.key()}" for b in to_add] + [f"removed {b.key()}" for b in to_remove]
    if not details:
        details = ["every binding is already as requested"]
    return _result(change, bool(to_add or to_remove), details)


async def delete_topic(backend: Backend, change: DeleteTopic) -> ApplyResult:
    if await find_topic(backend, change.topic) is None:
        return _result(change, False, [f"topic {change.topic} does not exist"])
    try:
        await backend.delete_topic(change.topic)
    except NotFoundError:
        return _result(change, False, [f"topic {change.topic} was deleted meanwhile"])
    await wait_for_topic(backend, change.topic, lambda t: t is None, "the topic gone")
    return _result(change, True, [f"deleted topic {change.topic}"])
