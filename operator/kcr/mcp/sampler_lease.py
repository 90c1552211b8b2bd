"""One sampling replica among several, elected with a ``coordination.k8s.io`` Lease.

The election is client-go's: the holder writes ``spec.renewTime`` every renew period; another
replica takes the Lease once it has seen the same record for ``leaseDurationSeconds`` by its
own clock (so replicas' clocks need not agree), or at once when the holder released it on
shutdown (empty ``holderIdentity``). Every write tests the ``resourceVersion`` it read, so of
two replicas racing for the Lease one wins and the other learns it lost.
"""

import math
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kcr.kube.client import KubeClient
from kcr.kube.errors import KubeConflictError, KubeError
from kcr.kube.resources import segment


@dataclass(frozen=True)
class LeaseRecord:
    holder: str
    renewed: str
    transitions: int
    resource_version: str


def replica_identity() -> str:
    """The Pod's name (its host name) and a random suffix: a restarted Pod is a new holder."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def micro_time(moment: datetime) -> str:
    """Kubernetes' ``MicroTime``, as ``spec.renewTime`` carries it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SamplerLease:
    """The Lease ``name`` in ``namespace``; :meth:`hold` acquires or renews it."""

    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        name: str,
        *,
        duration: float,
        identity: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._namespace = namespace
        self.name = name
        self.duration = duration
        self.identity = identity or replica_identity()
        self._clock = clock
        self._seen: tuple[str, str] | None = None
        self._seen_at = 0.0
        self.holding = False

    def _path(self, name: str = "") -> str:
        path = f"/apis/coordination.k8s.io/v1/namespaces/{segment(self._namespace)}/leases"
        return f"{path}/{segment(name)}" if name else path

    async def hold(self) -> bool:
        """True while this replica holds the Lease (just acquired or renewed).

        A lost race is False; an API server that cannot be reached raises ``KubeError``.
        """
        self.holding = await self._try_hold()
        return self.holding

    async def _try_hold(self) -> bool:
        now = self._clock()
        doing = f"reading Lease {self._namespace}/{self.name}"
        lease = await self._client.find(self._path(self.name), doing)
        if lease is None:
            return await self._create()
        record = _record(lease)
        if (record.holder, record.renewed) != self._seen:
            self._seen, self._seen_at = (record.holder, record.renewed), now
        mine = record.holder == self.identity
        expired = now - self._seen_at >= self.duration
        if not (mine or not record.holder or expired):
            return False
        transitions = record.transitions if mine else record.transitions + 1
        return await self._write(
            record.resource_version, self._spec(transitions, acquired=not mine)
        )

    async def _create(self) -> bool:
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.name,
                "labels": {
                    "app.kubernetes.io/name": "kcr",
                    "app.kubernetes.io/component": "mcp-group-sampler",
                },
            },
            "spec": self._spec(0, acquired=True),
        }
        doing = f"creating Lease {self._namespace}/{self.name}"
        try:
            await self._client.create(self._path(), body, doing)
        except KubeConflictError:
            return False  # another replica created it first
        return True

    async def _write(self, resource_version: str, spec: dict[str, Any]) -> bool:
        patch = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version},
            *_set(spec),
        ]
        doing = f"updating Lease {self._namespace}/{self.name}"
        try:
            await self._client.json_patch(self._path(self.name), patch, doing)
        except KubeError as error:
            if error.status in (409, 422):  # another replica wrote since it was read
                return False
            raise
        return True

    async def release(self) -> None:
        """On shutdown: hand the Lease on at once instead of after ``duration``."""
        if not self.holding:
            return
        self.holding = False
        spec = {**self._spec(0, acquired=False), "holderIdentity": "", "leaseDurationSeconds": 1}
        spec.pop("leaseTransitions")
        patch = [
            {"op": "test", "path": "/spec/holderIdentity", "value": self.identity},
            *_set(spec),
        ]
        doing = f"releasing Lease {self._namespace}/{self.name}"
        try:
            await self._client.json_patch(self._path(self.name), patch, doing)
        except KubeError as error:
            if error.status not in (409, 422):  # 422: another replica holds it already
                raise

    def _spec(self, transitions: int, *, acquired: bool) -> dict[str, Any]:
        now = micro_time(datetime.now(UTC))
        spec: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, math.ceil(self.duration)),
            "renewTime": now,
            "leaseTransitions": transitions,
        }
        if acquired:
            spec["acquireTime"] = now
        return spec


def _set(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON-patch operations that set these ``spec`` fields and keep the others."""
    return [{"op": "add", "path": f"/spec/{key}", "value": value} for key, value in spec.items()]


def _record(lease: dict[str, Any]) -> LeaseRecord:
    spec = lease.get("spec") or {}
    metadata = lease.get("metadata") or {}
    return LeaseRecord(
        holder=str(spec.get("holderIdentity") or ""),
        renewed=str(spec.get("renewTime") or ""),
        transitions=int(spec.get("leaseTransitions") or 0),
        resource_version=str(metadata.get("resourceVersion", "")),
    )
