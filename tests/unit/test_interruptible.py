"""An error a library raises while Ctrl-C cancels the run reads as the interruption."""

import asyncio

import pytest

from kcr.embedded.signals import interruptible

pytestmark = pytest.mark.asyncio


async def torn_down_on_cancel(started: asyncio.Event) -> None:
    """Like an MCP client whose stream is closed under it by the cancellation."""
    started.set()
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        raise ExceptionGroup("unhandled errors in a TaskGroup", [BrokenPipeError()]) from None


async def test_an_error_raised_by_the_cancellation_is_the_cancellation() -> None:
    started = asyncio.Event()
    task = asyncio.create_task(interruptible(torn_down_on_cancel(started)))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_an_error_without_a_cancellation_stays_an_error() -> None:
    async def failing() -> None:
        raise BrokenPipeError("the broker went away")

    with pytest.raises(BrokenPipeError, match="the broker went away"):
        await interruptible(failing())
