"""The group sampler shared by replicas, on the Kubernetes emulator over HTTP: one replica
holds the Lease and samples, the other records its rounds from the ConfigMap; a crashed
holder is replaced after the Lease duration, a stopped one at once; without the API server a
replica samples alone."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from mcp_servers import Emulated
from prometheus_client import CollectorRegistry

from kcr import kinds
from kcr.kafka.fake import FakeKafka
from kcr.kinds.create_topic import CreateTopic
from kcr.kube.client import KubeClient
from kcr.kube.config import Credentials
from kcr.mcp.kube_client import open_kube
from kcr.mcp.sampler import GroupSampler
from kcr.mcp.sampler_lease import SamplerLease
from kcr.mcp.shared_sampler import SampleBoard, SharedSampling

pytestmark = pytest.mark.asyncio

LEADING = "kcr_mcp_group_sampler_leading"
LEASE_SECONDS = 30.0
INTERVAL = 15.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Replica:
    sampling: SharedSampling
    sampler: GroupSampler
    lease: SamplerLease
    registry: CollectorRegistry


def leading(replica: Replica) -> float | None:
    """The exported gauge, as Prometheus would scrape it."""
    return replica.registry.get_sample_value(LEADING)


async def fake_kafka(groups: int) -> FakeKafka:
    fake = FakeKafka()
    await kinds.apply(fake, CreateTopic(topic="orders", partitions=2, replication_factor=1))
    for index in range(groups):
        fake.cluster.commit(f"group-{index}", {("orders", 0): index})
    return fake


@asynccontextmanager
async def replicas(
    emulator: Emulated, name: str, fake: FakeKafka, clock: Clock, budget: float = 3000.0
) -> AsyncIterator[tuple[Replica, Replica]]:
    apis = [open_kube(str(emulator.kubeconfig)) for _ in range(2)]
    built = []
    for index, api in enumerate(apis):
        sampler = GroupSampler(fake, interval=INTERVAL, max_requests_per_minute=budget)
        lease = SamplerLease(
            api.client,
            api.namespace,
            name,
            duration=LEASE_SECONDS,
            identity=f"replica-{index}",
            clock=clock,
        )
        board = SampleBoard(api.client, api.namespace, name)
        registry = CollectorRegistry()
        sampling = SharedSampling(sampler, lease, board, registry=registry, clock=clock)
        built.append(Replica(sampling, sampler, lease, registry))
    try:
        yield built[0], built[1]
    finally:
        for api in apis:
            await api.client.aclose()


async def test_one_replica_samples_and_the_other_keeps_the_same_history(
    emulator: Emulated,
) -> None:
    fake, clock = await fake_kafka(3), Clock()
    async with replicas(emulator, "kcr-mcp-sampler-same", fake, clock) as (first, second):
        waits = [await first.sampling.step(), await second.sampling.step()]
        fake.cluster.join("group-1", "member-a")
        clock.now += INTERVAL
        await first.sampling.step()
        await second.sampling.step()

        assert [first.lease.holding, second.lease.holding] == [True, False]
        assert waits == [LEASE_SECONDS / 3] * 2, "the holder renews within its pause"
        for group in ("group-0", "group-1", "group-2"):
            assert second.sampler.samples(group) == first.sampler.samples(group), group
        assert len(second.sampler.samples("group-1")) == 2
        assert [e.reasons for e in second.sampler.rebalances("group-1")] == [
            ["generation 0 → 1", "members 0 → 1"]
        ], "the follower sees the rebalance the holder sampled"
        assert [leading(first), leading(second)] == [1.0, 0.0]


async def test_a_crashed_holder_is_replaced_after_the_lease_and_the_pause_is_kept(
    emulator: Emulated,
) -> None:
    fake, clock = await fake_kafka(2), Clock()
    # 2 groups: 12 requests a sample; at 12 a minute, a sample every 60 s, past the Lease.
    async with replicas(emulator, "kcr-mcp-sampler-crash", fake, clock, 12.0) as (first, second):
        await first.sampling.step()
        await second.sampling.step()
        sampled_at = second.sampler.samples("group-0")[-1].at

        clock.now += LEASE_SECONDS - 1  # the holder stopped renewing (crashed) a moment ago
        await second.sampling.step()
        assert not second.lease.holding, "the Lease is not taken before its duration"

        clock.now += 1
        wait = await second.sampling.step()
        assert second.lease.holding, "taken once the same record was seen for the duration"
        assert len(second.sampler.samples("group-0")) == 1, (
            "the pause the last round set still holds: no sample right after a handover"
        )
        assert wait == pytest.approx(LEASE_SECONDS / 3)

        clock.now += 60 - LEASE_SECONDS
        await second.sampling.step()
        assert second.sampler.samples("group-0")[-1].at > sampled_at
        assert not await first.lease.hold(), "the old holder learns it lost the Lease"


async def test_a_stopped_holder_hands_the_lease_on_at_once(emulator: Emulated) -> None:
    fake, clock = await fake_kafka(1), Clock()
    async with replicas(emulator, "kcr-mcp-sampler-stop", fake, clock) as (first, second):
        running = asyncio.create_task(first.sampling.run())
        for _ in range(100):
            if first.lease.holding:
                break
            await asyncio.sleep(0.05)
        await second.sampling.step()
        assert not second.lease.holding
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

        await second.sampling.step()
        assert second.lease.holding, "released on shutdown: no wait for the Lease duration"


async def test_without_the_api_server_a_replica_samples_alone() -> None:
    fake, clock = await fake_kafka(2), Clock()
    nowhere = KubeClient(
        lambda: Credentials(server="http://127.0.0.1:9"), timeout=2.0, user_agent="test"
    )
    sampler = GroupSampler(fake, interval=INTERVAL)
    lease = SamplerLease(nowhere, "kcr-system", "kcr-mcp-sampler-x", duration=LEASE_SECONDS)
    board = SampleBoard(nowhere, "kcr-system", "x")
    registry = CollectorRegistry()
    sampling = SharedSampling(sampler, lease, board, registry=registry, clock=clock)
    try:
        wait = await sampling.step()
    finally:
        await nowhere.aclose()
    assert len(sampler.samples("group-1")) == 1
    assert wait == pytest.approx(LEASE_SECONDS / 3)
    assert registry.get_sample_value(LEADING) == 0.0
