"""Calls asked again while a group coordinator or a partition leader is moving.

A group's coordinator is the leader of its ``__consumer_offsets`` partition. On a fresh
broker, after a leader change or while that partition loads, Kafka answers
NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or COORDINATOR_LOAD_IN_PROGRESS; a broker that
has not yet applied a new topic's (or a moved partition's) leadership answers
NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE or, when the client's leader epoch is ahead of
the broker's, UNKNOWN_LEADER_EPOCH (FENCED_LEADER_EPOCH when behind). Kafka's own clients
retry these; librdkafka's admin calls return them to the caller, so kcr asks again a few
times, bounded by the client's deadline, before reporting the cluster unavailable.
"""

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from kcr.kafka.errors import UnavailableError
from kcr.kafka.settings import ClientSettings

T = TypeVar("T")
P = ParamSpec("P")
COORDINATOR_MOVING = frozenset(
    {"NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS"}
)
LEADER_MOVING = frozenset(
    {
        "NOT_LEADER_FOR_PARTITION",
        "LEADER_NOT_AVAILABLE",
        "UNKNOWN_LEADER_EPOCH",
        "FENCED_LEADER_EPOCH",
    }
)
MAX_ATTEMPTS = 8


async def while_moving(
    settings: ClientSettings,
    codes: frozenset[str],
    call: Callable[P, Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``call`` again while it fails with one of ``codes``; its last error if that lasts.

    ``call`` is a coroutine function (tenacity awaits only those), never a lambda around one.
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception(lambda e: isinstance(e, UnavailableError) and e.code in codes),
        stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(settings.deadline),
        wait=wait_exponential(multiplier=0.05, max=2.0),
        reraise=True,
    )
    return await retrying(call, *args, **kwargs)
