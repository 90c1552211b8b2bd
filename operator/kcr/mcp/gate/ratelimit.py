"""Token buckets per principal: a burst is allowed, the sustained rate is bounded."""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from kcr.model.base import KubeModel

MAX_PRINCIPALS = 10_000


class RateLimits(KubeModel):
    per_minute: float = 120.0
    burst: int = 30


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def acquire(self, principal: str) -> float | None:
        """Take one call; None when allowed, else the seconds until the next one would be."""
        bucket = self._refilled(principal)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return self._wait(bucket)

    def waiting(self, principal: str) -> float | None:
        """Like :meth:`acquire`, but takes nothing: whether a call now would be refused."""
        bucket = self._refilled(principal)
        return None if bucket.tokens >= 1.0 else self._wait(bucket)

    def _refilled(self, principal: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(principal)
        if bucket is None:
            bucket = _Bucket(tokens=float(self._limits.burst), updated=now)
            self._buckets[principal] = bucket
            while len(self._buckets) > MAX_PRINCIPALS:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(principal)
        bucket.tokens = min(
            float(self._limits.burst), bucket.tokens + (now - bucket.updated) * self._rate
        )
        bucket.updated = now
        return bucket

    @property
    def _rate(self) -> float:
        return self._limits.per_minute / 60.0

    def _wait(self, bucket: _Bucket) -> float:
        return math.inf if self._rate <= 0 else (1.0 - bucket.tokens) / self._rate
