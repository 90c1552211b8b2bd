"""The group sampler across replicas: one replica samples, every replica keeps its history.

Behind one Service each replica would otherwise sample every group itself: the brokers would
see the replica count times ``--sample-max-requests``, and each replica would tell its own
history. With ``--sample-store=kubernetes`` the replica holding a Lease
(:class:`~kcr.mcp.sampler_lease.SamplerLease`) samples at the pace that keeps one replica
within the budget, and writes each round to a ConfigMap (gzip-compressed JSON in
``binaryData``); the others read it every renew period and record the rounds they have not
seen. A replica that takes over has the same history, and waits out the pause the last round
set before it samples, so a handover does not add a round.

When the API server cannot be reached, a replica samples on its own, as a lone replica would
(logged): history goes on, and the bound holds per replica until the API server is back.
"""

import asyncio
import base64
import gzip
import logging
import time
from collections.abc import Callable
from datetime import datetime

import anyio
from prometheus_client import CollectorRegistry, Gauge
from pydantic import ValidationError

from kcr.kafka import KafkaPortError
from kcr.kube.client import KubeClient
from kcr.kube.errors import KubeError, KubeNotFoundError
from kcr.kube.resources import segment
from kcr.mcp.sampler import GroupSample, GroupSampler
from kcr.mcp.sampler_lease import SamplerLease
from kcr.model.base import KubeModel

ROUND_KEY = "round.json.gz"
MAX_ROUND_BYTES = 900 * 1024
"""A ConfigMap holds at most 1 MiB; a larger round is not written (logged)."""
RENEWS_PER_LEASE = 3

log = logging.getLogger(__name__)


class SampleRound(KubeModel):
    holder: str
    at: datetime
    samples: dict[str, GroupSample]


class SampleBoard:
    """The last round, in the ConfigMap ``name`` of ``namespace``."""

    def __init__(self, client: KubeClient, namespace: str, name: str) -> None:
        self._client = client
        self._namespace = namespace
        self.name = name
        self._read_version = ""

    def _path(self, name: str = "") -> str:
        path = f"/api/v1/namespaces/{segment(self._namespace)}/configmaps"
        return f"{path}/{segment(name)}" if name else path

    async def publish(self, sampled: SampleRound) -> bool:
        """Writes the round; False when it is too large for a ConfigMap."""
        packed = gzip.compress(sampled.model_dump_json().encode(), compresslevel=6)
        if len(packed) * 4 / 3 > MAX_ROUND_BYTES:
            log.warning(
                "a sample round is too large for a ConfigMap; other replicas do not get it",
                extra={"groups": len(sampled.samples), "bytes": len(packed)},
            )
            return False
        data = {ROUND_KEY: base64.b64encode(packed).decode()}
        doing = f"writing ConfigMap {self._namespace}/{self.name}"
        try:
            await self._client.merge_patch(self._path(self.name), {"binaryData": data}, doing)
        except KubeNotFoundError:
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": self.name,
                    "labels": {
                        "app.kubernetes.io/name": "kcr",
                        "app.kubernetes.io/component": "mcp-group-sampler",
                    },
                },
                "binaryData": data,
            }
            await self._client.create(self._path(), body, doing)
        return True

    async def read(self) -> SampleRound | None:
        """The round written since the last read, or None (none yet, or no new one)."""
        doing = f"reading ConfigMap {self._namespace}/{self.name}"
        found = await self._client.find(self._path(self.name), doing)
        if found is None:
            return None
        version = str((found.get("metadata") or {}).get("resourceVersion", ""))
        if version and version == self._read_version:
            return None
        self._read_version = version
        encoded = (found.get("binaryData") or {}).get(ROUND_KEY)
        if not encoded:
            return None
        try:
            return SampleRound.model_validate_json(gzip.decompress(base64.b64decode(encoded)))
        except (ValueError, OSError, ValidationError) as error:
            log.warning("an unreadable sample round was skipped", extra={"reason": str(error)})
            return None


class SharedSampling:
    """The background loop of ``kcr mcp`` with ``--sample-store=kubernetes``."""

    def __init__(
        self,
        sampler: GroupSampler,
        lease: SamplerLease,
        board: SampleBoard,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sampler = sampler
        self._lease = lease
        self._board = board
        self._clock = clock
        self._next_sample = 0.0
        self.renew = lease.duration / RENEWS_PER_LEASE
        self.leading = Gauge(
            "kcr_mcp_group_sampler_leading",
            "1 when this replica samples consumer groups for every replica, else 0",
            registry=registry or CollectorRegistry(),
        )

    async def run(self) -> None:
        """Until cancelled; the Lease is released on the way out."""
        try:
            while True:
                await asyncio.sleep(await self.step())
        finally:
            with anyio.CancelScope(shield=True):
                await self._release()

    async def step(self) -> float:
        """One turn: renew or take the Lease, then sample or read; the seconds to the next."""
        try:
            leading: bool | None = await self._lease.hold()
        except KubeError as error:
            log.warning(
                "the Lease electing the sampling replica cannot be read; sampling alone",
                extra={"reason": str(error)},
            )
            leading = None
        self.leading.set(1 if leading else 0)
        if leading is False:
            await self._follow()
            return self.renew
        if self._clock() >= self._next_sample:
            await self._sample(publish=bool(leading))
        return max(0.0, min(self.renew, self._next_sample - self._clock()))

    async def _sample(self, *, publish: bool) -> None:
        async with anyio.create_task_group() as tasks:
            if publish:  # a sample of many groups may outlast the Lease: renew meanwhile
                tasks.start_soon(self._renew_while_sampling)
            taken = await self._read_groups()
            tasks.cancel_scope.cancel()
        self._next_sample = self._clock() + self._sampler.pause()
        if not (publish and taken):
            return
        at = max(s.at for s in taken.values())
        try:
            await self._board.publish(
                SampleRound(holder=self._lease.identity, at=at, samples=taken)
            )
        except KubeError as error:
            log.warning("a sample round could not be shared", extra={"reason": str(error)})

    async def _read_groups(self) -> dict[str, GroupSample]:
        """A failed sample is logged and sampling goes on: this task shares the server's
        lifespan, and an escaping error would end the server."""
        try:
            return await self._sampler.sample()
        except KafkaPortError as error:
            log.warning("consumer group sample failed", extra={"error": str(error)})
        except Exception:
            log.exception("consumer group sample failed unexpectedly; sampling goes on")
        return {}

    async def _renew_while_sampling(self) -> None:
        while True:
            await asyncio.sleep(self.renew)
            try:
                await self._lease.hold()
            except KubeError as error:
                log.warning("the sampler Lease was not renewed", extra={"reason": str(error)})

    async def _follow(self) -> None:
        try:
            found = await self._board.read()
        except KubeError as error:
            log.warning("the shared sample round cannot be read", extra={"reason": str(error)})
            return
        if found is not None and self._sampler.ingest(found.samples):
            self._next_sample = self._clock() + self._sampler.pause()

    async def _release(self) -> None:
        try:
            await self._lease.release()
        except KubeError as error:
            log.warning("the sampler Lease was not released", extra={"reason": str(error)})
        self.leading.set(0)


def shared_sampling(
    sampler: GroupSampler,
    client: KubeClient,
    namespace: str,
    cluster: str,
    *,
    lease_seconds: float,
    registry: CollectorRegistry | None = None,
) -> SharedSampling:
    """The Lease and the ConfigMap are named after the KafkaCluster: one sampler per cluster."""
    name = f"kcr-mcp-sampler-{cluster}"
    lease = SamplerLease(client, namespace, name, duration=lease_seconds)
    return SharedSampling(sampler, lease, SampleBoard(client, namespace, name), registry=registry)
