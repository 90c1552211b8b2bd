"""Waiting for something the test can see, with a bounded deadline, instead of sleeping.

A sleep long enough on a quiet machine is too short on a loaded one, and too long on both;
a wait returns as soon as the condition holds and fails loudly, naming it, when it never
does.
"""

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable

from operator_harness import WAIT_SECONDS

INTERVAL = 0.02


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = WAIT_SECONDS
) -> None:
    """Return once ``check()`` holds; raise AssertionError naming ``what`` after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for _ in range(math.ceil(timeout / INTERVAL) + 1):
        answer = check()
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            return
        if loop.time() >= deadline:
            break
        await asyncio.sleep(INTERVAL)
    raise AssertionError(f"{what}: not seen within {timeout}s")
