"""Ctrl-C and SIGTERM for the embedded stack: both stop a run the same way, and neither
can cut short the stopping itself.

While a run goes on, SIGTERM raises ``KeyboardInterrupt`` as Ctrl-C does, so one
``finally`` stops every child by pid whichever way the run was asked to end. SIGINT is
handled even when the parent shell ignored it (a background job), since it is how a
person asks the stack to stop. While the
children are being stopped, both signals are ignored: a second Ctrl-C must not leave
half of them running (stopping is bounded in time).
"""

import asyncio
import signal
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
T = TypeVar("T")


def _interrupt(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def interrupt_on_stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` in the block.

    SIGINT gets Python's own handler back, which ``asyncio.run`` turns into a clean
    cancellation of the running task.
    """
    if not _in_main_thread():
        yield
        return
    handlers = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: _interrupt}
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM are ignored in the block (cleanup is bounded in time)."""
    if not _in_main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


async def interruptible(work: Coroutine[Any, Any, T]) -> T:
    """``work``, where an error raised while Ctrl-C cancels it reads as the cancellation.

    ``asyncio.run`` turns Ctrl-C into a cancellation and, when the task ends cancelled, into
    ``KeyboardInterrupt``. A library torn down by that cancellation may end the task with
    its own error instead (an MCP client's stream closed under it), which would report an
    interrupted run as a failed one.
    """
    task = asyncio.current_task()
    try:
        return await work
    except Exception as error:
        if task is not None and task.cancelling():
            raise asyncio.CancelledError from error
        raise
