"""Kafka reads shared between callers: one read for many assistants asking the same thing.

Fifty assistants looking at the same incident ask for the same groups within the same
second. Each key has at most one read in flight; callers arriving meanwhile await it, and
callers arriving up to ``max_age`` after it started get its answer too. So an answer is
never older than ``max_age`` (measured from before the read began) and the broker sees one
read per key per ``max_age`` however many callers there are. A failed read is not kept:
the next caller tries again.
"""

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

T = TypeVar("T")

DEFAULT_MAX_AGE = timedelta(seconds=1)
DEFAULT_CAPACITY = 256


@dataclass
class _Entry:
    started: datetime
    task: "asyncio.Future[Any]"


class SharedReads:
    """Single-flight reads with a freshness bound, keyed by what was asked.

    ``capacity`` bounds the keys kept; the least recently started read is dropped first.
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        max_age: timedelta = DEFAULT_MAX_AGE,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self._clock = clock
        self.max_age = max_age
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or (entry.task.done() and now - entry.started > self.max_age):
            entry = _Entry(started=now, task=asyncio.ensure_future(read()))
            entry.task.add_done_callback(functools.partial(self._forget_failure, key))
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        # A caller that gives up (cancelled) must not cancel the read others await.
        return cast(T, await asyncio.shield(entry.task))

    def _forget_failure(self, key: Hashable, done: "asyncio.Future[Any]") -> None:
        if done.cancelled() or done.exception() is not None:
            entry = self._entries.get(key)
            if entry is not None and entry.task is done:
                del self._entries[key]
