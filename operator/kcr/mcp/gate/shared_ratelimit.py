"""Rate limits shared by every replica of the MCP server, kept in Kubernetes Leases.

Behind one Service, a principal's calls land on any replica; a bucket per replica would let
them through once per replica. Here the bucket of :class:`~kcr.mcp.gate.ratelimit.RateLimiter`
(``burst`` calls at once, ``per_minute`` sustained) lives in one ``coordination.k8s.io``
Lease per principal, in the server's namespace: its annotations hold the tokens left and
when they were counted. A replica reads the Lease, takes a token and writes it back with
a JSON patch whose first operation tests the ``resourceVersion`` it read; when another
replica wrote in between, the patch fails, and it reads again. So every token is taken
once, whichever replica takes it.

When the API server cannot be reached, the replica's own bucket decides (logged): each
replica still bounds the principal, the limit is no longer shared, and calls go on.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random,
)

from kcr.kube.client import KubeClient
from kcr.kube.errors import KubeConflictError, KubeError
from kcr.kube.resources import segment
from kcr.mcp.gate.ratelimit import RateLimiter, RateLimits

log = logging.getLogger(__name__)

PRINCIPAL = "kcr.dev/principal"
TOKENS = "kcr.dev/tokens"
UPDATED = "kcr.dev/updated"
LEASE_PREFIX = "kcr-rate-"
ATTEMPTS = 8
"""Writes tried before a call is refused for contention: each lost race means another call
of the same principal took a token in the same moment."""
CONTENDED_SECONDS = 2.0
"""Longest a call reads again after lost races before it is refused for contention."""
CONTENDED_WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class StoredBucket:
    tokens: float
    updated: float
    resource_version: str


class BucketStore(Protocol):
    """Where the shared buckets live; writes raise ``KubeConflictError`` on a lost race."""

    async def read(self, name: str) -> StoredBucket | None: ...

    async def create(self, name: str, principal: str, tokens: float, now: float) -> None: ...

    async def update(self, name: str, resource_version: str, tokens: float, now: float) -> None: ...


def lease_name(principal: str) -> str:
    """A valid object name for any principal (``User:alice``, ``oidc:bob@example.com``)."""
    return LEASE_PREFIX + hashlib.sha256(principal.encode()).hexdigest()[:32]


class SharedRateLimiter:
    """The same bucket as :class:`RateLimiter`, taken through a store every replica shares."""

    def __init__(
        self,
        store: BucketStore,
        limits: RateLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock
        self._local = RateLimiter(limits)

    async def acquire(self, principal: str) -> float | None:
        """Take one call; None when allowed, else the seconds until the next one would be."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(KubeConflictError),  # another replica wrote first
            stop=stop_after_attempt(ATTEMPTS) | stop_after_delay(CONTENDED_SECONDS),
            wait=wait_random(0.0, 0.02),
        )
        try:
            taken: float | None = await retrying(self._take, lease_name(principal), principal)
        except RetryError:
            return CONTENDED_WAIT_SECONDS
        except KubeError as error:
            log.warning(
                "the shared rate limit store is unreachable; this replica's own limit applies",
                extra={"principal": principal, "reason": str(error)},
            )
            return self._local.acquire(principal)
        return taken

    async def _take(self, name: str, principal: str) -> float | None:
        """None: taken; else the seconds until one would be. ``KubeConflictError``: another
        replica wrote first."""
        now = self._clock()
        stored = await self._store.read(name)
        burst = float(self._limits.burst)
        if stored is None:
            tokens = burst
        else:
            elapsed = max(0.0, now - stored.updated)
            tokens = min(burst, stored.tokens + elapsed * self._rate)
        if tokens < 1.0:
            return (1.0 - tokens) / self._rate
        if stored is None:
            await self._store.create(name, principal, tokens - 1.0, now)
        else:
            await self._store.update(name, stored.resource_version, tokens - 1.0, now)
        return None

    @property
    def _rate(self) -> float:
        return self._limits.per_minute / 60.0


class LeaseBuckets:
    """The buckets as Leases in one namespace, through kcr's Kubernetes client."""

    def __init__(self, client: KubeClient, namespace: str, refill_seconds: int) -> None:
        self._client = client
        self._namespace = namespace
        self._refill_seconds = max(1, refill_seconds)

    def _path(self, name: str = "") -> str:
        path = f"/apis/coordination.k8s.io/v1/namespaces/{segment(self._namespace)}/leases"
        return f"{path}/{segment(name)}" if name else path

    async def read(self, name: str) -> StoredBucket | None:
        lease = await self._client.find(self._path(name), f"reading Lease {self._namespace}/{name}")
        if lease is None:
            return None
        metadata = lease.get("metadata") or {}
        annotations = metadata.get("annotations") or {}
        try:
            tokens, updated = float(annotations[TOKENS]), float(annotations[UPDATED])
        except (KeyError, ValueError):
            tokens, updated = 0.0, 0.0  # unreadable: counted as spent, refilled from then
        return StoredBucket(tokens, updated, str(metadata.get("resourceVersion", "")))

    async def create(self, name: str, principal: str, tokens: float, now: float) -> None:
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": name,
                "labels": {
                    "app.kubernetes.io/name": "kcr",
                    "app.kubernetes.io/component": "mcp-rate-limit",
                },
                "annotations": {PRINCIPAL: principal, **_counted(tokens, now)},
            },
            "spec": {"leaseDurationSeconds": self._refill_seconds},
        }
        await self._client.create(self._path(), body, f"creating Lease {self._namespace}/{name}")

    async def update(self, name: str, resource_version: str, tokens: float, now: float) -> None:
        patch = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version},
            *(
                {"op": "add", "path": f"/metadata/annotations/{key.replace('/', '~1')}", "value": v}
                for key, v in _counted(tokens, now).items()
            ),
        ]
        doing = f"updating Lease {self._namespace}/{name}"
        try:
            await self._client.json_patch(self._path(name), patch, doing)
        except KubeError as error:
            if error.status == 422:  # a failed ``test``: written since it was read
                raise KubeConflictError(f"{doing}: changed since it was read") from error
            raise


def _counted(tokens: float, now: float) -> dict[str, str]:
    return {TOKENS: f"{tokens:.6f}", UPDATED: f"{now:.6f}"}
