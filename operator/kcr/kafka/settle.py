"""Waiting, bounded, until a read shows a write the controller has accepted.

Kafka applies configuration, quota and leadership changes on its controller and the
brokers learn of them from the metadata log a moment later. A write waits until its own
read shows the change, so the next compare sees it and a repeated write sends nothing.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_delay, wait_fixed

from kcr.kafka.errors import KafkaTimeoutError

T = TypeVar("T")
POLL_SECONDS = 0.05


async def until_shown(
    read: Callable[[], Awaitable[T]], shown: Callable[[T], bool], what: str, timeout: float
) -> T:
    """The first read for which ``shown`` holds; ``KafkaTimeoutError`` names ``what`` when
    none did within ``timeout`` seconds."""

    def never_shown(state: RetryCallState) -> T:
        raise KafkaTimeoutError(
            f"the cluster accepted the change but did not show {what} within {timeout:g}s"
        )

    retrying = AsyncRetrying(
        retry=retry_if_result(lambda found: not shown(found)),
        stop=stop_after_delay(timeout),
        wait=wait_fixed(POLL_SECONDS),
        retry_error_callback=never_shown,
    )

    async def attempt() -> T:  # tenacity awaits coroutine functions, not what a lambda returns
        return await read()

    result: T = await retrying(attempt)
    return result
