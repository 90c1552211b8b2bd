"""Rate limits shared between replicas: the bucket's arithmetic over a store, lost races
read again, and an unreachable store leaves each replica its own limit."""

import asyncio
from dataclasses import dataclass, field

import pytest

from kcr.kube.errors import KubeConflictError, KubeUnreachableError
from kcr.mcp.gate.ratelimit import RateLimits
from kcr.mcp.gate.shared_ratelimit import (
    ATTEMPTS,
    CONTENDED_WAIT_SECONDS,
    SharedRateLimiter,
    StoredBucket,
    lease_name,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class MemoryStore:
    """The store's contract (a write loses when the version moved on) in one dict.

    ``interleave`` lets another replica write between a read and its write, ``interleave``
    times, as on a busy API server."""

    buckets: dict[str, StoredBucket] = field(default_factory=dict)
    versions: int = 0
    interleave: int = 0
    unreachable: bool = False

    async def read(self, name: str) -> StoredBucket | None:
        if self.unreachable:
            raise KubeUnreachableError("reading Lease: cannot reach the Kubernetes API server")
        await asyncio.sleep(0)  # other calls run between this read and the write after it
        found = self.buckets.get(name)
        if found is not None and self.interleave > 0:
            self.interleave -= 1
            self._write(name, found.tokens - 1.0, found.updated)
        return found

    async def create(self, name: str, principal: str, tokens: float, now: float) -> None:
        if name in self.buckets:
            raise KubeConflictError(f"creating Lease {name}: already exists")
        self._write(name, tokens, now)

    async def update(self, name: str, resource_version: str, tokens: float, now: float) -> None:
        if self.buckets[name].resource_version != resource_version:
            raise KubeConflictError(f"updating Lease {name}: changed since it was read")
        self._write(name, tokens, now)

    def _write(self, name: str, tokens: float, now: float) -> None:
        self.versions += 1
        self.buckets[name] = StoredBucket(tokens, now, str(self.versions))


@pytest.mark.asyncio
async def test_two_replicas_share_one_burst_and_refill_at_the_rate() -> None:
    store, clock = MemoryStore(), Clock()
    limits = RateLimits(per_minute=60, burst=3)
    first, second = (SharedRateLimiter(store, limits, clock) for _ in range(2))
    taken = [await first.acquire("alice"), await second.acquire("alice")]
    taken += [await first.acquire("alice"), await second.acquire("alice")]
    assert taken[:3] == [None, None, None]
    assert taken[3] == pytest.approx(1.0)
    assert await second.acquire("bob") is None, "limits are per principal"
    clock.now += 1.0
    assert await first.acquire("alice") is None
    assert await second.acquire("alice") == pytest.approx(1.0)


@pytest.mark.asyncio
async def test_concurrent_calls_on_many_replicas_take_each_token_once() -> None:
    store = MemoryStore()
    limits = RateLimits(per_minute=0.001, burst=10)
    replicas = [SharedRateLimiter(store, limits, Clock()) for _ in range(4)]
    results = await asyncio.gather(*(r.acquire("alice") for r in replicas for _ in range(5)))
    allowed = sum(result is None for result in results)
    left = store.buckets[lease_name("alice")].tokens
    assert 1 <= allowed <= 10
    assert allowed == pytest.approx(10 - left, abs=0.01), "every call allowed took one token"


@pytest.mark.asyncio
async def test_a_lost_race_reads_again_instead_of_refusing() -> None:
    store = MemoryStore()
    limiter = SharedRateLimiter(store, RateLimits(per_minute=60, burst=5), Clock())
    assert await limiter.acquire("alice") is None
    store.interleave = 2  # two other replicas write between this one's reads and writes
    assert await limiter.acquire("alice") is None
    assert store.buckets[lease_name("alice")].tokens == pytest.approx(1.0)


@pytest.mark.asyncio
async def test_races_lost_every_time_refuse_the_call_after_a_bounded_number_of_reads() -> None:
    store = MemoryStore()
    limiter = SharedRateLimiter(store, RateLimits(per_minute=60, burst=50), Clock())
    assert await limiter.acquire("alice") is None
    store.interleave = 100  # another replica writes between every read and write
    assert await limiter.acquire("alice") == CONTENDED_WAIT_SECONDS
    assert store.interleave == 100 - ATTEMPTS, "each attempt read the Lease once"


@pytest.mark.asyncio
async def test_an_unreachable_store_leaves_each_replica_its_own_limit() -> None:
    store = MemoryStore(unreachable=True)
    limiter = SharedRateLimiter(store, RateLimits(per_minute=60, burst=2), Clock())
    results = [await limiter.acquire("alice") for _ in range(3)]
    assert results[:2] == [None, None]
    assert results[2] is not None


@pytest.mark.parametrize(
    "principal", ["User:alice", "oidc:bob@example.com", "system:serviceaccount:a:b", "x" * 300]
)
def test_lease_names_are_valid_object_names(principal: str) -> None:
    name = lease_name(principal)
    assert len(name) <= 63
    assert name.replace("-", "").isalnum()
    assert name == name.lower()
