"""Ctrl-C and SIGTERM for the embedded stack: both stop a run the same way, and neither
can cut short the stopping itself.

While a run goes on, SIGTERM raises ``KeyboardInterrupt`` as Ctrl-C does, so one
``finally`` stops every child by pid whichever way the run was asked to end. SIGINT is
handled even when the parent shell ignored it (a background job), since it is how a
person asks the stack to stop. While the
children are being stopped, both signals are ignored: a second Ctrl-C must not leave
half of them running (stopping is bounded in time).
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
