"""Calls answered by a group coordinator, asked again while the coordinator is moving.

A group's coordinator is the leader of its ``__consumer_offsets`` partition. On a fresh
broker, after a leader change or while that partition loads, Kafka answers
NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or COORDINATOR_LOAD_IN_PROGRESS: retriable
errors that Kafka's own clients retry. librdkafka's admin calls return them to the caller,
so kcr retries a few times, bounded by the client's deadline, before reporting the cluster
unavailable.
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
MAX_ATTEMPTS = 8


def coordinator_moving(error: BaseException) -> bool:
    return isinstance(error, UnavailableError) and error.code in COORDINATOR_MOVING


async def with_coordinator(
    settings: ClientSettings, call: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``call`` again while the coordinator is moving; its last error if it never settles.

    ``call`` is a coroutine function (tenacity awaits only those), never a lambda around one.
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception(coordinator_moving),
        stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(settings.deadline),
        wait=wait_exponential(multiplier=0.05, max=2.0),
        reraise=True,
    )
    return await retrying(call, *args, **kwargs)
